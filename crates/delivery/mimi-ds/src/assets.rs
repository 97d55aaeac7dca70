//! Attachment assets and `proxyDownload` (draft-ietf-mimi-protocol-06 §5.10, digest §3.10):
//! who may fetch an asset, sans-IO.
//!
//! Our reading: an asset (an encrypted attachment blob) is uploaded by a member device to its
//! own provider and **bound to one room** there; its URL names that provider, the blob and the
//! room: `https://<provider>/v1/blobs/<sha256-hex>?room=<percent-encoded room URI>`
//! ([`AssetUrl`]). Devices fetch assets only through their own provider, which lets a device
//! fetch only for a room it is a member of ([`may_request`]) and fetches from the asset's
//! provider over mutual TLS with `GET /proxyDownload/{downloadUrl}`; only URLs of that
//! provider itself or of its pinned peers are fetched (no open proxy). The asset's provider
//! serves a peer only its own assets, only bound to the URL's room, and only when the peer has
//! participants in that room as far as the room's member roster here shows
//! ([`may_serve_peer`]).

use mimi_types::{Domain, RoomUri};

use crate::follower::LocalMembers;

/// Why an asset request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssetRefusal {
    /// Not an asset URL of the form we serve (400).
    #[error(
        "{url:?} is not an asset URL ({reason}); assets are \
         https://<provider>/v1/blobs/<sha256-hex>?room=<room URI>"
    )]
    BadUrl {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The URL names a provider that is neither us nor a pinned peer (403): no open proxy.
    #[error(
        "{0} is neither this provider nor one it federates with; assets are fetched only from \
         the providers of a federation"
    )]
    UnknownProvider(Domain),
    /// A peer asked us for another provider's asset (403): no open proxy.
    #[error("{0} is not this provider; ask {0} for its own assets")]
    NotOurs(Domain),
    /// The requesting device is not a member of the asset's room (403).
    #[error("you are not a member of {0}; only its members may fetch its attachments")]
    NotAMember(RoomUri),
    /// The requesting provider has no participant in the asset's room (403).
    #[error(
        "{peer} has no participant in {room}; only providers of the room's members may fetch its assets"
    )]
    NoParticipant {
        /// The requesting provider.
        peer: Domain,
        /// The room.
        room: RoomUri,
    },
    /// No such asset in this room (404).
    #[error("no asset {blob} in {room} here")]
    Unknown {
        /// The blob.
        blob: String,
        /// The room.
        room: RoomUri,
    },
}

impl AssetRefusal {
    /// The HTTP status this refusal maps to.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::BadUrl { .. } => 400,
            Self::UnknownProvider(_)
            | Self::NotOurs(_)
            | Self::NotAMember(_)
            | Self::NoParticipant { .. } => 403,
            Self::Unknown { .. } => 404,
        }
    }
}

/// An asset's URL: its provider, blob and room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetUrl {
    /// The provider that stores it.
    pub provider: Domain,
    /// The blob (lowercase hex SHA-256 of the ciphertext).
    pub blob: String,
    /// The room it was shared in.
    pub room: RoomUri,
}

fn is_blob_id(id: &str) -> bool {
    id.len() == 64
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl AssetUrl {
    /// An asset URL.
    pub fn new(provider: Domain, blob: impl Into<String>, room: RoomUri) -> Self {
        Self {
            provider,
            blob: blob.into(),
            room,
        }
    }

    /// Reads `url`, refusing anything but the exact form we issue.
    pub fn parse(url: &str) -> Result<Self, AssetRefusal> {
        let bad = |reason: &str| AssetRefusal::BadUrl {
            url: url.chars().take(300).collect(),
            reason: reason.to_owned(),
        };
        let rest = url
            .strip_prefix("https://")
            .ok_or_else(|| bad("not https"))?;
        let (host, rest) = rest.split_once('/').ok_or_else(|| bad("no path"))?;
        if host.contains([':', '@']) {
            return Err(bad("a port or user information"));
        }
        let provider = Domain::parse(host).map_err(|_| bad("the host is not a domain"))?;
        if provider.as_str() != host {
            return Err(bad("the host is not in canonical form"));
        }
        let (path, query) = rest.split_once('?').ok_or_else(|| bad("no room"))?;
        let blob = path
            .strip_prefix("v1/blobs/")
            .filter(|id| is_blob_id(id))
            .ok_or_else(|| bad("the path is not /v1/blobs/<sha256-hex>"))?;
        let room = query
            .strip_prefix("room=")
            .filter(|r| !r.contains(['&', '#']))
            .ok_or_else(|| bad("the query is not room=<room URI>"))?;
        let room = mimi_federation_api::path::room_from_path(room)
            .map_err(|_| bad("the room is not a room URI"))?;
        let parsed = Self::new(provider, blob, room);
        if parsed.to_url() != url {
            return Err(bad("it is not in canonical form"));
        }
        Ok(parsed)
    }

    /// The URL.
    pub fn to_url(&self) -> String {
        format!(
            "https://{}/v1/blobs/{}?room={}",
            self.provider,
            self.blob,
            mimi_federation_api::path::encode_param(&self.room)
        )
    }
}

/// Whether a device may fetch `asset` through its own provider `ours`: it must be a member of
/// the asset's room (`member`), and the asset's provider must be us or one of our pinned
/// peers (`is_peer`).
pub fn may_request(
    ours: &Domain,
    asset: &AssetUrl,
    member: bool,
    is_peer: impl Fn(&Domain) -> bool,
) -> Result<(), AssetRefusal> {
    if &asset.provider != ours && !is_peer(&asset.provider) {
        return Err(AssetRefusal::UnknownProvider(asset.provider.clone()));
    }
    if !member {
        return Err(AssetRefusal::NotAMember(asset.room.clone()));
    }
    Ok(())
}

/// Whether we (`ours`) serve `asset` to `peer`: our own asset, bound to the URL's room
/// (`bound`), and the peer has a participant in the room according to our members of it
/// (`members`: the room's roster here; without one, nobody).
pub fn may_serve_peer(
    ours: &Domain,
    peer: &Domain,
    asset: &AssetUrl,
    bound: bool,
    members: Option<&LocalMembers>,
) -> Result<(), AssetRefusal> {
    if &asset.provider != ours {
        return Err(AssetRefusal::NotOurs(asset.provider.clone()));
    }
    if !bound {
        return Err(AssetRefusal::Unknown {
            blob: asset.blob.clone(),
            room: asset.room.clone(),
        });
    }
    if !members.is_some_and(|m| m.has_participant_at(peer)) {
        return Err(AssetRefusal::NoParticipant {
            peer: peer.clone(),
            room: asset.room.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(d: &str) -> Domain {
        Domain::parse(d).unwrap()
    }

    fn asset() -> AssetUrl {
        AssetUrl::new(
            domain("x.example"),
            "ab".repeat(32),
            RoomUri::parse("mimi://y.example/r/club").unwrap(),
        )
    }

    #[test]
    fn urls_round_trip_and_only_the_canonical_form_is_read() {
        let url = asset().to_url();
        assert_eq!(
            url,
            format!(
                "https://x.example/v1/blobs/{}?room=mimi%3A%2F%2Fy.example%2Fr%2Fclub",
                "ab".repeat(32)
            )
        );
        assert_eq!(AssetUrl::parse(&url).unwrap(), asset());
        let blob = "ab".repeat(32);
        for bad in [
            format!("http://x.example/v1/blobs/{blob}?room=mimi%3A%2F%2Fy.example%2Fr%2Fclub"),
            format!("https://x.example:8443/v1/blobs/{blob}?room=mimi%3A%2F%2Fy.example%2Fr%2Fc"),
            format!("https://u@x.example/v1/blobs/{blob}?room=mimi%3A%2F%2Fy.example%2Fr%2Fc"),
            format!("https://X.example/v1/blobs/{blob}?room=mimi%3A%2F%2Fy.example%2Fr%2Fclub"),
            format!("https://x.example/v1/blobs/{blob}"),
            format!(
                "https://x.example/v1/blobs/{}?room=mimi%3A%2F%2Fy.example%2Fr%2Fc",
                "AB".repeat(32)
            ),
            format!("https://x.example/v1/other/{blob}?room=mimi%3A%2F%2Fy.example%2Fr%2Fc"),
            format!("https://x.example/v1/blobs/{blob}?room=mimi%3A%2F%2Fy.example%2Fr%2Fc&x=1"),
            format!("https://x.example/v1/blobs/{blob}?room=not-a-room"),
        ] {
            assert!(
                matches!(AssetUrl::parse(&bad), Err(AssetRefusal::BadUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn requests_need_membership_and_a_known_provider() {
        let ours = domain("z.example");
        let peers = |d: &Domain| d.as_str() == "x.example";
        assert_eq!(may_request(&ours, &asset(), true, peers), Ok(()));
        assert_eq!(
            may_request(&ours, &asset(), false, peers),
            Err(AssetRefusal::NotAMember(asset().room))
        );
        let mut elsewhere = asset();
        elsewhere.provider = domain("evil.example");
        let refused = may_request(&ours, &elsewhere, true, peers).unwrap_err();
        assert_eq!(refused.http_status(), 403);
    }

    #[test]
    fn peers_get_only_our_bound_assets_of_rooms_they_take_part_in() {
        let ours = domain("x.example");
        let peer = domain("z.example");
        let members = LocalMembers::new(ours.clone());
        let refused = |r: Result<(), AssetRefusal>| r.unwrap_err().http_status();
        assert_eq!(
            refused(may_serve_peer(&ours, &peer, &asset(), true, Some(&members))),
            403,
            "no roster: no participant known"
        );
        assert_eq!(
            refused(may_serve_peer(&ours, &peer, &asset(), false, None)),
            404
        );
        assert_eq!(
            refused(may_serve_peer(
                &domain("y.example"),
                &peer,
                &asset(),
                true,
                None
            )),
            403
        );
    }
}
