//! HTTP path parameters (digest §2.3, reading D21 in [`crate::defects`]).
//!
//! We **emit** the full URI percent-encoded as one path segment
//! (`/update/mimi%3A%2F%2Fa.example%2Fr%2Fclubhouse`). We **accept** that form, the full URI as a
//! router may hand it over already decoded (`mimi://a.example/r/clubhouse`), and the scheme-less
//! `authority/path` form of the draft's example flows (`a.example/r/clubhouse`, and
//! `a.example/clubhouse` for a room, as in its groupInfo flow). Always trust the URIs in the body
//! over the path where the body has them.

use std::fmt::Display;

use mimi_types::{Domain, MimiUri, RoomUri, UserUri, uri::SCHEME};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::defects::ACCEPT_ROOM_WITHOUT_KIND;
use crate::error::PathError;

/// Everything but RFC 3986 unreserved characters is encoded, so `:`, `/` and `%` of the URI
/// cannot be mistaken for path syntax.
const PARAM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a URI (or URL) as one path segment.
pub fn encode_param(uri: &impl Display) -> String {
    utf8_percent_encode(&uri.to_string(), PARAM).to_string()
}

fn decode_once(raw: &str) -> Result<String, PathError> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| PathError::InvalidUtf8)
}

/// The URI text of a parameter, and whether it was written without a scheme.
fn uri_text(raw: &str) -> Result<(String, bool), PathError> {
    if raw.is_empty() {
        return Err(PathError::Empty);
    }
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("mimi%3a") {
        return Ok((decode_once(raw)?, false));
    }
    if lower.starts_with("mimi:") {
        return Ok((raw.to_owned(), false));
    }
    // Scheme-less. Encoded slashes mean the whole `authority/path` was encoded once.
    let path = if !raw.contains('/') && lower.contains("%2f") {
        decode_once(raw)?
    } else {
        raw.to_owned()
    };
    Ok((format!("{SCHEME}://{path}"), true))
}

/// Reads a `{roomId}` parameter.
pub fn room_from_path(raw: &str) -> Result<RoomUri, PathError> {
    let (text, scheme_less) = uri_text(raw)?;
    match RoomUri::parse(&text) {
        Ok(room) => Ok(room),
        Err(first) => {
            // `a.example/clubhouse`: the draft's groupInfo flow drops the `r` segment.
            let rest = text.strip_prefix("mimi://").unwrap_or_default();
            match rest.split_once('/') {
                Some((authority, id))
                    if ACCEPT_ROOM_WITHOUT_KIND && scheme_less && !id.contains('/') =>
                {
                    RoomUri::parse(&format!("{SCHEME}://{authority}/r/{id}"))
                        .map_err(|_| PathError::Uri(first))
                }
                _ => Err(PathError::Uri(first)),
            }
        }
    }
}

/// Reads a `{targetUser}` / `{requesterUser}` parameter that must name a user.
pub fn user_from_path(raw: &str) -> Result<UserUri, PathError> {
    let (text, _) = uri_text(raw)?;
    Ok(UserUri::parse(&text)?)
}

/// Reads a `{domain}` parameter: a bare domain, or a provider URI in any accepted form.
pub fn domain_from_path(raw: &str) -> Result<Domain, PathError> {
    if raw.is_empty() {
        return Err(PathError::Empty);
    }
    let decoded = decode_once(raw)?;
    if decoded.to_ascii_lowercase().starts_with("mimi:") {
        return Ok(MimiUri::parse(&decoded)?.domain().clone());
    }
    Ok(Domain::parse(&decoded)?)
}

/// What a consent path parameter names: the draft's text says a domain, its directory a user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConsentPeer {
    /// A user URI (what we emit).
    User(UserUri),
    /// A bare provider domain.
    Domain(Domain),
}

impl ConsentPeer {
    /// The provider domain named either way.
    pub fn domain(&self) -> &Domain {
        match self {
            Self::User(user) => user.domain(),
            Self::Domain(domain) => domain,
        }
    }
}

/// Reads a `{targetUser}`/`{targetDomain}` or `{requesterUser}`/`{requesterDomain}` parameter.
pub fn consent_peer_from_path(raw: &str) -> Result<ConsentPeer, PathError> {
    let decoded = decode_once(raw)?;
    if !decoded.contains('/')
        && let Ok(domain) = Domain::parse(&decoded)
    {
        return Ok(ConsentPeer::Domain(domain));
    }
    user_from_path(raw).map(ConsentPeer::User)
}

/// Reads a `{downloadUrl}` parameter: a percent-encoded (or raw) absolute `https://` URL.
pub fn download_url_from_path(raw: &str) -> Result<String, PathError> {
    if raw.is_empty() {
        return Err(PathError::Empty);
    }
    let url = if raw.to_ascii_lowercase().starts_with("https%3a") {
        decode_once(raw)?
    } else {
        raw.to_owned()
    };
    let is_https = url
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
        && url.len() > 8;
    if is_https {
        Ok(url)
    } else {
        Err(PathError::NotHttps(url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> RoomUri {
        "mimi://a.example/r/clubhouse".parse().unwrap()
    }

    #[test]
    fn emits_percent_encoded_full_uri() {
        assert_eq!(
            encode_param(&room()),
            "mimi%3A%2F%2Fa.example%2Fr%2Fclubhouse"
        );
    }

    #[test]
    fn accepts_every_room_form() {
        for raw in [
            "mimi%3A%2F%2Fa.example%2Fr%2Fclubhouse",
            "mimi%3a%2f%2fa.example%2fr%2fclubhouse",
            "mimi://a.example/r/clubhouse",
            "a.example/r/clubhouse",
            "a.example%2Fr%2Fclubhouse",
            "a.example/clubhouse",
        ] {
            assert_eq!(room_from_path(raw).unwrap(), room(), "{raw}");
        }
    }

    #[test]
    fn refuses_bad_rooms_with_the_reason() {
        assert_eq!(room_from_path(""), Err(PathError::Empty));
        assert!(matches!(
            room_from_path("mimi%3A%2F%2Fa.example%2Fu%2Falice"),
            Err(PathError::Uri(mimi_types::UriError::WrongKind { .. }))
        ));
        assert!(matches!(
            room_from_path("mimi%3A%2F%2Fa.example%2Fr%2F%FF"),
            Err(PathError::InvalidUtf8)
        ));
        assert!(room_from_path("a.example/x/y/z").is_err());
    }

    #[test]
    fn identifiers_keep_their_own_percent_encoding() {
        let user: UserUri = "mimi://a.example/u/al%20ice".parse().unwrap();
        let encoded = encode_param(&user);
        assert_eq!(encoded, "mimi%3A%2F%2Fa.example%2Fu%2Fal%2520ice");
        assert_eq!(user_from_path(&encoded).unwrap(), user);
        assert_eq!(user_from_path("a.example/u/al%20ice").unwrap(), user);
    }

    #[test]
    fn domains_and_consent_peers() {
        let domain = Domain::parse("b.example").unwrap();
        assert_eq!(domain_from_path("b.example").unwrap(), domain);
        assert_eq!(domain_from_path("mimi%3A%2F%2Fb.example").unwrap(), domain);
        assert!(domain_from_path("b example").is_err());
        assert_eq!(
            consent_peer_from_path("b.example").unwrap(),
            ConsentPeer::Domain(domain.clone())
        );
        let peer = consent_peer_from_path("mimi%3A%2F%2Fb.example%2Fu%2Fbob").unwrap();
        assert!(matches!(peer, ConsentPeer::User(_)));
        assert_eq!(peer.domain(), &domain);
    }

    #[test]
    fn download_urls_must_be_https() {
        let url = "https://assets.b.example/x/y?z=1";
        assert_eq!(download_url_from_path(&encode_param(&url)).unwrap(), url);
        assert_eq!(download_url_from_path(url).unwrap(), url);
        assert!(matches!(
            download_url_from_path("http%3A%2F%2Fb.example%2Fx"),
            Err(PathError::NotHttps(_))
        ));
        assert!(matches!(
            download_url_from_path("https://"),
            Err(PathError::NotHttps(_))
        ));
    }
}
