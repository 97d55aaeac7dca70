//! Fetching an attachment's ciphertext from the URL a message names, which another member
//! wrote and so is not trusted:
//!
//! * only from provider hosts this device knows: its own provider's host (any port) and the
//!   providers of its trust bundle (the domain itself or a host under it); anything else is
//!   refused before a connection is made ([`SdkError::AttachmentUrl`]);
//! * no redirect is followed (the client follows none), so a known host cannot send the
//!   device elsewhere, e.g. to an internal address;
//! * the body is read as it arrives and the download stops as soon as more bytes arrive than
//!   the message names, so a server cannot make the device hold more than that; the caller
//!   then checks the size and hash exactly.

use reqwest::Url;

use crate::api::Api;
use crate::error::SdkError;

/// The longest error body read from a blob server.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The hosts attachments may come from.
#[derive(Debug, Clone)]
pub(crate) struct KnownHosts {
    /// The host of this device's provider.
    own: Option<String>,
    /// Provider domains of the trust bundle.
    domains: Vec<String>,
}

impl KnownHosts {
    /// The hosts of a device whose provider is at `own_base`, trusting `domains`.
    pub(crate) fn new<'a>(own_base: &str, domains: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            own: Url::parse(own_base)
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase)),
            domains: domains
                .into_iter()
                .map(|d| d.trim_end_matches('.').to_ascii_lowercase())
                .collect(),
        }
    }

    /// `url` parsed, if this device fetches attachments from it.
    pub(crate) fn check(&self, url: &str) -> Result<Url, SdkError> {
        let refuse = |reason: &str| SdkError::AttachmentUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let parsed = Url::parse(url).map_err(|_| refuse("it is not a URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(refuse("it is not http(s)"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(refuse("it carries user information"));
        }
        let host = parsed
            .host_str()
            .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
            .ok_or_else(|| refuse("it names no host"))?;
        let own = self.own.as_deref() == Some(host.as_str());
        let provider = self.domains.iter().any(|d| {
            host == *d
                || host
                    .strip_suffix(d.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        });
        if !(own || provider) {
            return Err(refuse(
                "its host is neither this device's provider nor a provider of its trust \
                 bundle; ask the sender to share the file through their provider",
            ));
        }
        Ok(parsed)
    }
}

impl Api {
    /// `GET` of a blob at `url` (any known provider's; no token), at most `max_bytes` long.
    pub(crate) async fn download_blob(
        &self,
        url: &str,
        max_bytes: u64,
        known: &KnownHosts,
    ) -> Result<Vec<u8>, SdkError> {
        let parsed = known.check(url)?;
        let route = format!("GET {url}");
        let mut response = self
            .http()
            .get(parsed)
            .send()
            .await
            .map_err(|e| crate::api::unreachable(url, &e))?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("nowhere");
            return Err(SdkError::AttachmentUrl {
                url: url.to_owned(),
                reason: format!(
                    "its server answered HTTP {status} redirecting to {to:?}; attachments are \
                     fetched only from the URL the message names"
                ),
            });
        }
        let success = response.status().is_success();
        let (cap, what) = if success {
            (
                max_bytes,
                format!("the {max_bytes} bytes the message names"),
            )
        } else {
            (
                MAX_ERROR_BODY as u64,
                format!("{MAX_ERROR_BODY} bytes of an HTTP {status} error body"),
            )
        };
        let too_large = || SdkError::Protocol {
            route: route.clone(),
            reason: format!("the server sent more than {what}; the download was stopped"),
        };
        if response.content_length().is_some_and(|n| n > cap) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| crate::api::unreachable(url, &e))?
        {
            if (body.len() as u64).saturating_add(chunk.len() as u64) > cap {
                // Dropping the response closes the connection: nothing more is read.
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        if success {
            Ok(body)
        } else {
            crate::api::decode::<serde_json::Value>(route, status, &body).map(|_| Vec::new())
        }
    }
}

#[cfg(test)]
mod tests;
