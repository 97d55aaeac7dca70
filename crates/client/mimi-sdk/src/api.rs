//! The HTTP side: JSON calls to the provider's client API.

use std::time::Duration;

use mimi_client_api::ApiError;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::SdkError;

/// A connection to one provider's client API.
#[derive(Clone, Debug)]
pub(crate) struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    /// A client for `base` (e.g. `http://127.0.0.1:18080` or `https://x.example`).
    ///
    /// `https` servers are verified against the public web PKI roots and `server_cert` (PEM:
    /// certificates added as roots; a self-signed one is trusted for exactly itself). Roots are
    /// added, not swapped, because the same client fetches attachments from other providers.
    /// `roots` (DER CA certificates) are trusted too.
    pub(crate) fn new(
        base: &str,
        roots: &[Vec<u8>],
        server_cert: Option<&str>,
    ) -> Result<Self, SdkError> {
        // reqwest is built without a default TLS provider: name ring once per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            // The client API never redirects, and an attachment URL must not lead elsewhere
            // (see `crate::blob_fetch`).
            .redirect(reqwest::redirect::Policy::none())
            // Below the provider's idle bound (30 s by default): reuse no connection it closed.
            .pool_idle_timeout(Duration::from_secs(20));
        if let Some(pem) = server_cert {
            for cert in pinned_certificates(pem)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        for der in roots {
            if let Ok(cert) = reqwest::Certificate::from_der(der) {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| SdkError::Unreachable {
            url: base.to_owned(),
            reason: format!("cannot build an HTTP client: {e}"),
        })?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
        })
    }

    /// The base URL.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// The HTTP client (no redirects followed).
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Calls `method path` with an optional bearer token and JSON body.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&impl Serialize>,
    ) -> Result<T, SdkError> {
        let url = format!("{}{path}", self.base);
        let route = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let mut request = self.http.request(method, &url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            let bytes = serde_json::to_vec(body).map_err(|e| SdkError::Input(e.to_string()))?;
            request = request
                .header("content-type", "application/json")
                .body(bytes);
        }
        let response = request
            .send()
            .await
            .map_err(|e| unreachable(&self.base, &e))?;
        let (status, bytes) = read(&self.base, response).await?;
        decode(route, status, &bytes)
    }
}

impl Api {
    /// `POST /v1/blobs?room=` with the raw bytes; answered once the provider stored them.
    pub(crate) async fn upload_blob(
        &self,
        token: &str,
        room: &mimi_types::RoomUri,
        bytes: Vec<u8>,
    ) -> Result<mimi_client_api::BlobStored, SdkError> {
        let route = format!("POST {}", mimi_client_api::routes::UPLOAD_BLOB.path);
        let url = format!(
            "{}{}?room={}",
            self.base,
            mimi_client_api::routes::UPLOAD_BLOB.path,
            mimi_federation_api::path::encode_param(room)
        );
        let response = self
            .http
            .post(&url)
            .bearer_auth(token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .map_err(|e| unreachable(&self.base, &e))?;
        let (status, body) = read(&self.base, response).await?;
        decode(route, status, &body)
    }
}

async fn read(url: &str, response: reqwest::Response) -> Result<(u16, Vec<u8>), SdkError> {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| SdkError::Unreachable {
        url: url.to_owned(),
        reason: describe(&e),
    })?;
    Ok((status, bytes.to_vec()))
}

/// A 2xx JSON body, or the error the body describes.
pub(crate) fn decode<T: DeserializeOwned>(
    route: String,
    status: u16,
    bytes: &[u8],
) -> Result<T, SdkError> {
    if (200..300).contains(&status) {
        return serde_json::from_slice(bytes).map_err(|e| SdkError::Protocol {
            route,
            reason: format!("the body does not decode: {e}"),
        });
    }
    match serde_json::from_slice::<ApiError>(bytes) {
        Ok(error) => Err(SdkError::Api {
            route,
            status,
            error,
        }),
        Err(_) => Err(SdkError::Protocol {
            route,
            reason: format!(
                "HTTP {status} without an error body: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            ),
        }),
    }
}

/// The certificates of a pinned PEM file.
pub(crate) fn pinned_certificates(pem: &str) -> Result<Vec<reqwest::Certificate>, SdkError> {
    let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
        .map_err(|e| SdkError::Input(format!("the pinned server certificate: {e}")))?;
    if certs.is_empty() {
        return Err(SdkError::Input(
            "the pinned server certificate file holds no CERTIFICATE block: give the PEM \
             certificate the provider serves (e.g. its client-tls-cert.pem)"
                .into(),
        ));
    }
    Ok(certs)
}

/// A request that got no answer: [`SdkError::UntrustedServer`] when the server's certificate
/// did not verify, else [`SdkError::Unreachable`].
pub(crate) fn unreachable(url: &str, e: &reqwest::Error) -> SdkError {
    let reason = describe(e);
    // rustls's own wording, where the connector's error chain hides its type.
    if certificate_refused(e) || reason.contains("invalid peer certificate") {
        SdkError::UntrustedServer {
            url: url.to_owned(),
            reason,
        }
    } else {
        SdkError::Unreachable {
            url: url.to_owned(),
            reason,
        }
    }
}

/// Whether rustls refused the server's certificate somewhere in the error's chain.
fn certificate_refused(e: &reqwest::Error) -> bool {
    let refused = |tls: &rustls::Error| {
        matches!(
            tls,
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
        )
    };
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<rustls::Error>().is_some_and(refused) {
            return true;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .is_some_and(refused)
        {
            return true;
        }
        source = s.source();
    }
    false
}

pub(crate) fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
