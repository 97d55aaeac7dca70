//! The `asset_policy` settings of `mimi room policy` ([`crate::PolicySetting`]): the largest
//! attachment of each kind, the media types attachments may or may not have, where they are
//! uploaded and to which hosts. The first such setting starts from a policy that limits
//! nothing (uploads to the sender's own provider, to any host, downloads through the hub's
//! proxy); removing the component takes `assets=none`.

use mimi_room::AssetKind;
use mimi_room::components::{
    AssetPolicy, AssetUploadLocation, DomainName, DownloadPrivacy, DownloadPrivacyType, MediaType,
    ProviderAssetUploadDomains,
};
use mimi_types::Domain;

/// The policy the first asset setting edits when the room has none.
pub(crate) fn unlimited() -> AssetPolicy {
    AssetPolicy {
        asset_upload_location: AssetUploadLocation::LocalProvider,
        upload_domains: Vec::new(),
        download_privacy: DownloadPrivacy {
            allowed_download_types: Vec::new(),
            forbidden_download_types: Vec::new(),
            default_download_type: DownloadPrivacyType::HubProxy,
        },
        max_image: 0,
        max_audio: 0,
        max_video: 0,
        max_attachment: 0,
        forbidden_media_types: Vec::new(),
        permitted_media_types: None,
    }
}

/// Sets the largest size of `kind` (`None`: no limit, stored as 0).
pub(crate) fn set_max(policy: &mut AssetPolicy, kind: AssetKind, max: Option<u64>) {
    let max = max.unwrap_or(0);
    match kind {
        AssetKind::Image => policy.max_image = max,
        AssetKind::Audio => policy.max_audio = max,
        AssetKind::Video => policy.max_video = max,
        AssetKind::Attachment => policy.max_attachment = max,
    }
}

/// `type/subtype,type/subtype` as media types; each must have one `/` with text either side.
pub(crate) fn media_types(key: &str, v: &str) -> Result<Vec<String>, String> {
    v.split(',')
        .filter(|t| !t.is_empty())
        .map(|t| {
            let t = t.trim();
            match t.split_once('/') {
                Some((a, b)) if !a.is_empty() && !b.is_empty() && !b.contains('/') => {
                    Ok(t.to_ascii_lowercase())
                }
                _ => Err(format!(
                    "{key} takes media types such as image/png,video/mp4, not {t:?}"
                )),
            }
        })
        .collect()
}

/// `local-provider`, `hub` or `unspecified`.
pub(crate) fn upload_location(key: &str, v: &str) -> Result<AssetUploadLocation, String> {
    match v {
        "local-provider" => Ok(AssetUploadLocation::LocalProvider),
        "hub" => Ok(AssetUploadLocation::Hub),
        "unspecified" => Ok(AssetUploadLocation::Unspecified),
        _ => Err(format!(
            "{key} takes local-provider, hub or unspecified, not {v:?}"
        )),
    }
}

fn location_name(l: AssetUploadLocation) -> &'static str {
    match l {
        AssetUploadLocation::LocalProvider => "local-provider",
        AssetUploadLocation::Hub => "hub",
        AssetUploadLocation::Unspecified => "unspecified",
    }
}

fn domain(key: &str, text: &str) -> Result<DomainName, String> {
    Domain::parse(text.trim())
        .map(|domain| DomainName { domain })
        .map_err(|_| format!("{key}: {text:?} is not a domain name"))
}

/// `PROVIDER[:HOST+HOST…],…`: for each provider, the hosts its users' attachments may be
/// stored at (the provider's own domain where none is named). A provider named twice is
/// refused, as is an empty list (`none` clears it).
pub(crate) fn upload_domains(
    key: &str,
    v: &str,
) -> Result<Vec<ProviderAssetUploadDomains>, String> {
    let mut out: Vec<ProviderAssetUploadDomains> = Vec::new();
    for entry in v.split(',').filter(|e| !e.trim().is_empty()) {
        let (provider, hosts) = match entry.split_once(':') {
            Some((p, h)) => (domain(key, p)?, Some(h)),
            None => (domain(key, entry)?, None),
        };
        let destinations = match hosts {
            Some(h) => h
                .split('+')
                .map(|d| domain(key, d))
                .collect::<Result<Vec<_>, _>>()?,
            None => vec![provider.clone()],
        };
        if out.iter().any(|e| e.provider == provider) {
            return Err(format!("{key} names {} twice", provider.domain));
        }
        out.push(ProviderAssetUploadDomains {
            provider,
            asset_upload_destinations: destinations,
        });
    }
    if out.is_empty() {
        return Err(format!(
            "{key} takes PROVIDER[:HOST+HOST],… (e.g. x.example,y.example:cdn.y.example) or none"
        ));
    }
    Ok(out)
}

/// `direct,hubProxy,ohttp` (any case, each once) as download types.
pub(crate) fn download_types(key: &str, v: &str) -> Result<Vec<DownloadPrivacyType>, String> {
    let mut types = Vec::new();
    for name in v.split(',').filter(|t| !t.trim().is_empty()) {
        let t = DownloadPrivacyType::from_name(name).ok_or_else(|| {
            format!("{key} takes direct, hubProxy, ohttp (comma-separated) or any, not {name:?}")
        })?;
        if types.contains(&t) {
            return Err(format!("{key} names {} twice", t.name()));
        }
        types.push(t);
    }
    if types.is_empty() {
        return Err(format!("{key} takes at least one download type, or any"));
    }
    Ok(types)
}

/// Allows exactly `types` (none: every type), the first the default (none: hubProxy).
pub(crate) fn set_downloads(policy: &mut AssetPolicy, types: &[DownloadPrivacyType]) {
    policy.download_privacy = DownloadPrivacy {
        allowed_download_types: types.to_vec(),
        forbidden_download_types: Vec::new(),
        default_download_type: types
            .first()
            .copied()
            .unwrap_or(DownloadPrivacyType::HubProxy),
    };
}

/// The list as policy entries.
pub(crate) fn entries(types: &[String]) -> Vec<MediaType> {
    types.iter().map(|t| MediaType::new(t)).collect()
}

/// How `mimi room policy` shows a room's asset policy.
pub fn describe(policy: &AssetPolicy) -> String {
    let max = |m: u64| {
        if m == 0 {
            "any".to_owned()
        } else {
            format!("{m}")
        }
    };
    let list = |l: &[MediaType]| {
        l.iter()
            .map(|m| m.media_type.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    let domains = if policy.upload_domains.is_empty() {
        "any".to_owned()
    } else {
        policy
            .upload_domains
            .iter()
            .map(|e| {
                let hosts: Vec<&str> = e
                    .asset_upload_destinations
                    .iter()
                    .map(|d| d.domain.as_str())
                    .collect();
                format!("{}:{}", e.provider.domain, hosts.join("+"))
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "max-image={} max-audio={} max-video={} max-attachment={} media-forbidden={} \
         media-permitted={} upload-location={} upload-domains={domains} downloads={}",
        max(policy.max_image),
        max(policy.max_audio),
        max(policy.max_video),
        max(policy.max_attachment),
        match list(&policy.forbidden_media_types) {
            l if l.is_empty() => "none".to_owned(),
            l => l,
        },
        policy
            .permitted_media_types
            .as_ref()
            .map_or_else(|| "any".to_owned(), |p| list(p)),
        location_name(policy.asset_upload_location),
        downloads(&policy.download_privacy),
    )
}

/// The download types a policy allows, as `downloads=` takes them.
fn downloads(privacy: &DownloadPrivacy) -> String {
    let allowed = privacy.allowed_types();
    if allowed.len() == DownloadPrivacyType::ALL.len() {
        "any".to_owned()
    } else {
        let names: Vec<&str> = allowed.into_iter().map(DownloadPrivacyType::name).collect();
        names.join(",")
    }
}
