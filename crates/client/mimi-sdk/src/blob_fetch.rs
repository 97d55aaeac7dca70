//! Fetching an attachment's ciphertext, always through this device's own provider
//! (`GET /v1/assets?url=...&max_bytes=...` with the device's token): the provider checks that
//! the device is a member of the asset's room and fetches other providers' assets over mutual
//! TLS itself (`proxyDownload`), so the device never connects to a host a message names. The
//! URL comes from another member and is not trusted:
//!
//! * only `https://` URLs are handed to the provider (anything else is refused before a
//!   request is made, [`SdkError::AttachmentUrl`]); the provider refuses what is not an asset
//!   of a provider it federates with;
//! * no redirect is followed (the client follows none);
//! * the body is read as it arrives and the download stops as soon as more bytes arrive than
//!   the message names, so no server can make the device hold more than that; the caller then
//!   checks the size and hash exactly.

use mimi_federation_api::path::encode_param;

use crate::api::Api;
use crate::error::SdkError;

/// The longest error body read from the provider.
const MAX_ERROR_BODY: usize = 64 * 1024;

impl Api {
    /// The asset at `url` through this device's provider, at most `max_bytes` long.
    pub(crate) async fn download_asset(
        &self,
        token: &str,
        url: &str,
        max_bytes: u64,
    ) -> Result<Vec<u8>, SdkError> {
        if !url.starts_with("https://") {
            return Err(SdkError::AttachmentUrl {
                url: url.to_owned(),
                reason: "it is not an https URL; ask the sender to share the file again".into(),
            });
        }
        let path = format!(
            "{}?url={}&max_bytes={max_bytes}",
            mimi_client_api::routes::ASSETS.path,
            encode_param(&url)
        );
        let route = format!("GET {}", mimi_client_api::routes::ASSETS.path);
        let mut response = self
            .http()
            .get(format!("{}{path}", self.base()))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| crate::api::unreachable(self.base(), &e))?;
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
                    "the provider answered HTTP {status} redirecting to {to:?}; attachments are \
                     fetched only through this device's provider"
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
            .map_err(|e| crate::api::unreachable(self.base(), &e))?
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
