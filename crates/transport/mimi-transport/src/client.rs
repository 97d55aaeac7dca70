//! The outbound HTTPS client: one TLS configuration per destination, trusting only the CA pinned
//! for that destination and presenting our certificate.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use mimi_federation_api::directory::Directory;
use mimi_federation_api::http::Endpoint;
use mimi_types::Domain;
use rustls::RootCertStore;

use crate::backoff::parse_retry_after;
use crate::error::TransportError;
use crate::identity::{TlsIdentity, TrustStore};
use crate::peers::PeerTable;

/// The media type we send MIMI TLS-presentation-language bodies with.
pub const BODY_CONTENT_TYPE: &str = mimi_types::codepoints::media_type::MIMI_TLS_BODY;

/// A peer's answer.
#[derive(Debug, Clone)]
pub struct PeerResponse {
    /// The HTTP status.
    pub status: u16,
    /// The peer's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
    /// The body.
    pub body: Vec<u8>,
}

impl PeerResponse {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A peer's answer whose body is read as it arrives (for large bodies such as assets).
#[derive(Debug)]
pub struct PeerStream {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Length` the peer announced, if any.
    pub content_length: Option<u64>,
    peer: Domain,
    response: reqwest::Response,
}

impl PeerStream {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The next piece of the body, `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>, TransportError> {
        let chunk = self
            .response
            .chunk()
            .await
            .map_err(|source| TransportError::Http {
                peer: self.peer.clone(),
                source,
            })?;
        Ok(chunk.map(|c| c.to_vec()))
    }
}

/// Talks to other providers as `domain`.
#[derive(Debug, Clone)]
pub struct FederationClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    domain: Domain,
    identity: TlsIdentity,
    trust: TrustStore,
    peers: PeerTable,
    timeout: Duration,
    clients: Mutex<BTreeMap<Domain, reqwest::Client>>,
    directories: Mutex<BTreeMap<Domain, Directory>>,
}

impl FederationClient {
    /// A client for provider `domain`. Requests time out after 30 s.
    pub fn new(domain: Domain, identity: TlsIdentity, trust: TrustStore, peers: PeerTable) -> Self {
        Self {
            inner: Arc::new(Inner {
                domain,
                identity,
                trust,
                peers,
                timeout: Duration::from_secs(30),
                clients: Mutex::new(BTreeMap::new()),
                directories: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    /// Our provider domain, sent as `From: mimi@<domain>`.
    pub fn domain(&self) -> &Domain {
        &self.inner.domain
    }

    fn client_for(&self, peer: &Domain) -> Result<reqwest::Client, TransportError> {
        if let Ok(clients) = self.inner.clients.lock()
            && let Some(client) = clients.get(peer)
        {
            return Ok(client.clone());
        }
        let ca = self
            .inner
            .trust
            .ca_for(peer)
            .ok_or_else(|| TransportError::UntrustedPeer(peer.clone()))?;
        let addrs = self.inner.peers.addrs(peer);
        if addrs.is_empty() {
            return Err(TransportError::UnknownPeer(peer.clone()));
        }
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone())?;
        let mut tls = rustls::ClientConfig::builder_with_provider(crate::crypto_provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_client_auth_cert(
                self.inner.identity.cert_chain.clone(),
                self.inner.identity.key.clone_key(),
            )?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            // Every address of the peer: the connector tries them in order, the next when a
            // connection fails (URLs carry no port, so each address's own port is used).
            .resolve_to_addrs(peer.as_str(), addrs)
            .timeout(self.inner.timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|source| TransportError::Http {
                peer: peer.clone(),
                source,
            })?;
        if let Ok(mut clients) = self.inner.clients.lock() {
            clients.insert(peer.clone(), client.clone());
        }
        Ok(client)
    }

    fn url(&self, peer: &Domain, path: &str) -> Result<String, TransportError> {
        if self.inner.peers.addrs(peer).is_empty() {
            return Err(TransportError::UnknownPeer(peer.clone()));
        }
        // No port: the connector then keeps the port of each address in the peer table.
        Ok(format!("https://{peer}{path}"))
    }

    /// `POST`s `body` to `path` at `peer`.
    pub async fn post(
        &self,
        peer: &Domain,
        path: &str,
        body: Vec<u8>,
    ) -> Result<PeerResponse, TransportError> {
        self.post_with(peer, path, body, &[]).await
    }

    /// [`FederationClient::post`] with extra request headers (name, value), such as our
    /// extensions'.
    pub async fn post_with(
        &self,
        peer: &Domain,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Result<PeerResponse, TransportError> {
        let client = self.client_for(peer)?;
        let mut request = client
            .post(self.url(peer, path)?)
            .header(reqwest::header::FROM, format!("mimi@{}", self.inner.domain))
            .header(reqwest::header::CONTENT_TYPE, BODY_CONTENT_TYPE);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(peer, request.body(body)).await
    }

    /// `GET`s `path` at `peer`.
    pub async fn get(&self, peer: &Domain, path: &str) -> Result<PeerResponse, TransportError> {
        let client = self.client_for(peer)?;
        let request = client
            .get(self.url(peer, path)?)
            .header(reqwest::header::FROM, format!("mimi@{}", self.inner.domain));
        self.send(peer, request).await
    }

    /// `GET`s `path` at `peer`, handing back the body as it arrives ([`PeerStream`]); dropping
    /// the stream closes the connection, so a caller stops reading whenever it wants.
    pub async fn get_stream(
        &self,
        peer: &Domain,
        path: &str,
    ) -> Result<PeerStream, TransportError> {
        let client = self.client_for(peer)?;
        let response = client
            .get(self.url(peer, path)?)
            .header(reqwest::header::FROM, format!("mimi@{}", self.inner.domain))
            .send()
            .await
            .map_err(|source| TransportError::Http {
                peer: peer.clone(),
                source,
            })?;
        Ok(PeerStream {
            status: response.status().as_u16(),
            content_length: response.content_length(),
            peer: peer.clone(),
            response,
        })
    }

    /// Whether `peer` is a provider we federate with (pinned and with an address).
    pub fn knows(&self, peer: &Domain) -> bool {
        self.inner.trust.ca_for(peer).is_some() && !self.inner.peers.addrs(peer).is_empty()
    }

    /// The peer's directory (protocol-06 §5.1), fetched once and cached.
    pub async fn directory(&self, peer: &Domain) -> Result<Directory, TransportError> {
        if let Ok(cache) = self.inner.directories.lock()
            && let Some(directory) = cache.get(peer)
        {
            return Ok(directory.clone());
        }
        let failed = |reason: String| TransportError::Directory {
            peer: peer.clone(),
            reason,
        };
        let response = self.get(peer, crate::server::DIRECTORY_PATH).await?;
        if !response.is_success() {
            return Err(failed(format!("answered HTTP {}", response.status)));
        }
        let directory = Directory::from_json(&response.body).map_err(|e| failed(e.to_string()))?;
        if let Ok(mut cache) = self.inner.directories.lock() {
            cache.insert(peer.clone(), directory.clone());
        }
        Ok(directory)
    }

    /// The peer's directory if it was fetched already; never sends a request (for decisions
    /// that must not wait on the network, such as a hub's check of the peer's body limit).
    pub fn cached_directory(&self, peer: &Domain) -> Option<Directory> {
        self.inner
            .directories
            .lock()
            .ok()
            .and_then(|cache| cache.get(peer).cloned())
    }

    /// The path at `peer` for `endpoint` with `param`, from the peer's directory. Only the
    /// path of the directory's URL is used: the request goes to the peer's own address with
    /// `Host` set to its domain.
    pub async fn endpoint_path(
        &self,
        peer: &Domain,
        endpoint: &Endpoint,
        param: &impl std::fmt::Display,
    ) -> Result<String, TransportError> {
        let url = self
            .directory(peer)
            .await?
            .url(endpoint, param)
            .map_err(|e| TransportError::Directory {
                peer: peer.clone(),
                reason: e.to_string(),
            })?;
        Ok(path_of_url(&url))
    }

    async fn send(
        &self,
        peer: &Domain,
        request: reqwest::RequestBuilder,
    ) -> Result<PeerResponse, TransportError> {
        let http = |source| TransportError::Http {
            peer: peer.clone(),
            source,
        };
        let response = request.send().await.map_err(http)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let body = response.bytes().await.map_err(http)?.to_vec();
        Ok(PeerResponse {
            status,
            retry_after,
            body,
        })
    }
}

/// The path (and query) of an absolute URL; the URL itself if it has no authority.
fn path_of_url(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    match after_scheme.find('/') {
        Some(at) => after_scheme[at..].to_owned(),
        None => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::path_of_url;

    #[test]
    fn keeps_only_the_path_of_directory_urls() {
        assert_eq!(
            path_of_url("https://y.example:8443/v1/notify/mimi%3A%2F%2Fy.example%2Fr%2Fa"),
            "/v1/notify/mimi%3A%2F%2Fy.example%2Fr%2Fa"
        );
        assert_eq!(path_of_url("https://y.example"), "/");
    }
}
