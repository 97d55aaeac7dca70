//! The `asset_policy` settings of `mimi room policy` ([`crate::PolicySetting`]): the largest
//! attachment of each kind and the media types attachments may or may not have. The first
//! such setting starts from a policy that limits nothing (uploads to the sender's own
//! provider, downloads through the hub's proxy); removing the component takes `assets=none`.

use mimi_room::AssetKind;
use mimi_room::components::{
    AssetPolicy, AssetUploadLocation, DownloadPrivacy, DownloadPrivacyType, MediaType,
};

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
    format!(
        "max-image={} max-audio={} max-video={} max-attachment={} media-forbidden={} \
         media-permitted={}",
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
    )
}
