//! Who may send which attachment: the upload capabilities (`canUploadImage`, `canUploadAudio`,
//! `canUploadVideo`, `canUploadAttachment`) and the room's `asset_policy` (media types, sizes).
//!
//! Attachments are end-to-end encrypted content, so the hub cannot see them: the sending client
//! refuses what these rules refuse, and every receiving client refuses such a message (does
//! not show it, so never fetches its asset). Our reading (see `readings.rs`): an attachment's
//! kind is the top-level type of its media type (`image/…`, `audio/…`, `video/…`; anything
//! else is an attachment), which picks both the capability and the size limit; a size limit
//! of 0 sets no limit; sizes are those of the stored (encrypted) object, as the message names.
//! A receiving client asks [`RoomState::may_download`] (the role) and
//! [`RoomState::may_download_by_proxy`] (the policy's download privacy) before it fetches.

use mimi_types::{Domain, UserUri};

use crate::capability::Capability;
use crate::components::{
    AssetPolicy, AssetUploadLocation, DownloadPrivacyType, MediaType, Parameter,
};
use crate::denied::Denied;
use crate::state::RoomState;

/// The download type of the only path mimi-rs clients fetch assets by: the device asks its
/// own provider, which asks the asset's provider (or serves its own); the asset's server never
/// sees the device, which is what the draft's `hubProxy` gives (`readings.rs`).
pub const PROVIDER_DOWNLOAD: DownloadPrivacyType = DownloadPrivacyType::HubProxy;

/// What an attachment is, by its media type's top-level type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetKind {
    /// `image/…`.
    Image,
    /// `audio/…`.
    Audio,
    /// `video/…`.
    Video,
    /// Anything else (including no media type).
    Attachment,
}

impl AssetKind {
    /// The kind of an attachment of `media_type` (`type/subtype`, parameters ignored).
    pub fn of(media_type: &str) -> Self {
        let top = media_type.split('/').next().unwrap_or("").trim();
        if top.eq_ignore_ascii_case("image") {
            Self::Image
        } else if top.eq_ignore_ascii_case("audio") {
            Self::Audio
        } else if top.eq_ignore_ascii_case("video") {
            Self::Video
        } else {
            Self::Attachment
        }
    }

    /// The capability sending one needs.
    pub fn capability(self) -> Capability {
        match self {
            Self::Image => Capability::CAN_UPLOAD_IMAGE,
            Self::Audio => Capability::CAN_UPLOAD_AUDIO,
            Self::Video => Capability::CAN_UPLOAD_VIDEO,
            Self::Attachment => Capability::CAN_UPLOAD_ATTACHMENT,
        }
    }

    /// The capability downloading one needs.
    pub fn download_capability(self) -> Capability {
        match self {
            Self::Image => Capability::CAN_DOWNLOAD_IMAGE,
            Self::Audio => Capability::CAN_DOWNLOAD_AUDIO,
            Self::Video => Capability::CAN_DOWNLOAD_VIDEO,
            Self::Attachment => Capability::CAN_DOWNLOAD_ATTACHMENT,
        }
    }

    /// The room's largest size for this kind, in bytes (0: no limit).
    fn limit(self, policy: &AssetPolicy) -> u64 {
        match self {
            Self::Image => policy.max_image,
            Self::Audio => policy.max_audio,
            Self::Video => policy.max_video,
            Self::Attachment => policy.max_attachment,
        }
    }

    /// Its name, as `asset_policy` names the limit.
    pub fn name(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Attachment => "attachment",
        }
    }
}

/// A content type (`type/subtype; name=value; …`) as a policy [`MediaType`]: the type/subtype
/// and its parameters, names lowercased and quotes taken off values.
pub fn media_type_of(content_type: &str) -> MediaType {
    let mut parts = content_type.split(';');
    let mut media = MediaType::new(parts.next().unwrap_or("").trim());
    for p in parts {
        if let Some((name, value)) = p.split_once('=') {
            media.parameters.push(Parameter {
                parameter_name: name.trim().to_ascii_lowercase(),
                parameter_value: value.trim().trim_matches('"').to_owned(),
            });
        }
    }
    media
}

impl RoomState {
    /// Whether `user` may send an attachment of `content_type` whose stored object is `size`
    /// bytes: a listed user whose role holds the kind's upload capability, a media type the
    /// room's `asset_policy` permits, and a size within its limit for the kind.
    pub fn may_attach(&self, user: &UserUri, content_type: &str, size: u64) -> Result<(), Denied> {
        let kind = AssetKind::of(content_type);
        self.require_listed_capability(user, kind.capability())?;
        let Some(policy) = self.asset_policy() else {
            return Ok(());
        };
        if !policy.permits(&media_type_of(content_type)) {
            return Err(Denied::MediaTypeNotPermitted {
                media_type: content_type.to_owned(),
            });
        }
        let max = kind.limit(policy);
        if max != 0 && size > max {
            return Err(Denied::AssetTooLarge {
                kind: kind.name(),
                size,
                max,
            });
        }
        Ok(())
    }
}

/// The host of an asset URL (`scheme://host[:port]/…`), as a canonical domain; `None` when the
/// URL has no `//` authority, has user information, or its host is not a domain name.
pub fn asset_host(url: &str) -> Option<Domain> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return None;
    }
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    Domain::parse(host).ok()
}

impl RoomState {
    /// Whether `user` may download an attachment of `content_type`: a listed user whose role
    /// holds the kind's download capability (`canDownloadImage`, `…Audio`, `…Video`,
    /// `…Attachment`; the kind as for uploads, [`AssetKind::of`]).
    pub fn may_download(&self, user: &UserUri, content_type: &str) -> Result<(), Denied> {
        self.require_listed_capability(user, AssetKind::of(content_type).download_capability())
    }

    /// Whether a member may fetch an asset the one way mimi-rs clients do: through its own
    /// provider, which serves its own assets and fetches other providers' over mutual TLS
    /// (`proxyDownload`), read as [`PROVIDER_DOWNLOAD`] (`hubProxy`; `readings.rs`). Allowed
    /// where the room has no `asset_policy`, or where the policy does not forbid that type and
    /// its allowed list is empty or names it; otherwise refused, naming the allowed types.
    pub fn may_download_by_proxy(&self) -> Result<(), Denied> {
        let Some(policy) = self.asset_policy() else {
            return Ok(());
        };
        let allowed = policy.download_privacy.allowed_types();
        if allowed.contains(&PROVIDER_DOWNLOAD) {
            return Ok(());
        }
        let allowed = allowed.into_iter().map(DownloadPrivacyType::name).collect();
        Err(Denied::DownloadTypeNotAllowed { allowed })
    }

    /// Whether an asset `sender` sent may be stored at `url`, by the room's `asset_policy`
    /// upload domains. Where the policy lists none (or there is no policy), any host will do.
    /// Otherwise the URL's host must be one of the destinations of the entry the upload
    /// location picks: `localProvider`, the sender's provider's entry; `hub`, the hub's
    /// entry; `unspecified`, any entry (our reading, `readings.rs`). A provider without an
    /// entry has no allowed host.
    pub fn may_host_asset(&self, sender: &UserUri, url: &str) -> Result<(), Denied> {
        let Some(policy) = self.asset_policy().filter(|p| !p.upload_domains.is_empty()) else {
            return Ok(());
        };
        let provider = match policy.asset_upload_location {
            AssetUploadLocation::LocalProvider => Some(sender.domain().clone()),
            AssetUploadLocation::Hub => self.hub_domain(),
            AssetUploadLocation::Unspecified => None,
        };
        let allowed: Vec<&Domain> = policy
            .upload_domains
            .iter()
            .filter(|e| provider.as_ref().is_none_or(|p| *p == e.provider.domain))
            .flat_map(|e| e.asset_upload_destinations.iter().map(|d| &d.domain))
            .collect();
        if asset_host(url).is_some_and(|host| allowed.contains(&&host)) {
            return Ok(());
        }
        Err(Denied::AssetHostNotAllowed {
            url: url.to_owned(),
            allowed: allowed.iter().map(|d| d.to_string()).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_media_types_are_read_from_the_content_type() {
        assert_eq!(AssetKind::of("image/png"), AssetKind::Image);
        assert_eq!(AssetKind::of("Audio/ogg"), AssetKind::Audio);
        assert_eq!(AssetKind::of("video/mp4"), AssetKind::Video);
        assert_eq!(AssetKind::of("application/pdf"), AssetKind::Attachment);
        assert_eq!(AssetKind::of(""), AssetKind::Attachment);
        let m = media_type_of("text/plain; Charset=\"utf-8\"");
        assert_eq!(m.media_type, "text/plain");
        assert_eq!(m.parameters[0].parameter_name, "charset");
        assert_eq!(m.parameters[0].parameter_value, "utf-8");
        assert!(MediaType::new("TEXT/plain").matches(&m));
    }

    #[test]
    fn asset_hosts_are_read_from_the_url_authority() {
        let host = |u: &str| asset_host(u).map(|d| d.to_string());
        assert_eq!(
            host("https://X.example/v1/blobs/ab").as_deref(),
            Some("x.example")
        );
        assert_eq!(
            host("https://x.example:8443/v1").as_deref(),
            Some("x.example")
        );
        assert_eq!(host("https://x.example").as_deref(), Some("x.example"));
        assert_eq!(host("https://evil@x.example/v1"), None);
        assert_eq!(host("x.example/v1"), None);
        assert_eq!(host("https:///v1"), None);
    }
}
