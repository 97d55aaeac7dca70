//! `GET /proxyDownload/{downloadUrl}` (draft-ietf-mimi-protocol-06 §5.10, digest §3.10).
//!
//! **Sent by** a downloading provider **to** the room's hub, which every hub MUST implement.
//! **Request** no body; the path parameter is the asset's `https://` URL, percent-encoded
//! ([`crate::path::download_url_from_path`]). **Response** the asset's raw bytes with HTTP 200,
//! or a standard HTTP error. The hub MUST refuse a URL whose host is not a configured asset
//! domain of one of its peers (no open proxy): [`DownloadUrl::host`] gives the host to check.
//! Metadata: [`crate::http::PROXY_DOWNLOAD`]. Our reading (who asks whom, how the room is
//! known): D28 in [`crate::defects`].

/// This endpoint's HTTP metadata (method, path, roles, statuses).
pub use crate::http::PROXY_DOWNLOAD as ENDPOINT;

use std::fmt;

use crate::error::PathError;
use crate::path::{download_url_from_path, encode_param};

/// An asset URL to fetch through the hub.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DownloadUrl(String);

impl DownloadUrl {
    /// Reads the path parameter (percent-encoded or raw), refusing anything but `https://`.
    pub fn from_path(raw: &str) -> Result<Self, PathError> {
        download_url_from_path(raw).map(Self)
    }

    /// A URL to send, refusing anything but `https://`.
    pub fn new(url: &str) -> Result<Self, PathError> {
        download_url_from_path(&encode_param(&url)).map(Self)
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL's host (lowercased, without port), for the hub's asset-domain check.
    pub fn host(&self) -> String {
        let rest = self.0.get(8..).unwrap_or_default();
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit('@').next().unwrap_or_default();
        let host = match host_port.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
            _ => host_port,
        };
        host.to_ascii_lowercase()
    }

    /// The percent-encoded path parameter.
    pub fn to_path_param(&self) -> String {
        encode_param(&self.0)
    }
}

impl fmt::Display for DownloadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_exposes_the_host() {
        let url = DownloadUrl::new("https://User@Assets.B.example:8443/a/b?c#d").unwrap();
        assert_eq!(url.host(), "assets.b.example");
        assert_eq!(DownloadUrl::from_path(&url.to_path_param()).unwrap(), url);
        assert!(matches!(
            DownloadUrl::new("ftp://x/y"),
            Err(PathError::NotHttps(_))
        ));
    }
}
