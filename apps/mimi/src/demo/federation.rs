//! The three providers of the demo: written and started by `mimi_server::local` into the data
//! directory, on this process's runtime (real mutual TLS between them on 127.0.0.1, real SQLite
//! files), and read back through their `GET /metrics`.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use mimi_server::local::{LocalEvent, LocalFederation, LocalOptions, LocalProvider, Ports};
use mimi_types::Domain;

/// The providers of the figure, in order: x (Alice, Bob), y (the hub: Charlie), z (Diana,
/// Evelyn).
pub(crate) const DOMAINS: [&str; 3] = ["x.example", "y.example", "z.example"];

/// Index of the hub in [`DOMAINS`].
pub(crate) const HUB: usize = 1;

/// How often the demo chooses fresh ports when one it chose was taken before its server could
/// bind it (another process, or a connection's source port, got it in between).
const START_ATTEMPTS: u32 = 5;

/// The three running providers.
pub(crate) struct Federation {
    /// x, y (hub), z.
    local: LocalFederation,
}

/// The launcher's options for the demo: from `base_port` (client API on base, base+1, base+2;
/// federation on base+10, base+11, base+12, used as given) or ports the OS picks, chosen again
/// when one is taken before its server binds it; progress printed.
fn options(base_port: Option<u16>) -> anyhow::Result<LocalOptions<'static>> {
    let domains = DOMAINS
        .iter()
        .map(|d| Domain::parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    let ports = base_port.map_or(Ports::Free, Ports::Base);
    Ok(LocalOptions::new(domains)
        .ports(ports)
        .start_attempts(START_ATTEMPTS)
        .progress(show))
}

/// Prints what the launcher does.
fn show(event: LocalEvent<'_>) {
    match event {
        LocalEvent::Writing { .. } => {
            print_flush("  writing keys, certificates and configurations ... ");
        }
        LocalEvent::Written => println!("done"),
        LocalEvent::Starting { index, domain } => {
            let role = if index == HUB {
                "hub of the room"
            } else {
                "follower"
            };
            print_flush(&format!("  starting {domain} ({role}) ... "));
        }
        LocalEvent::Started { provider, .. } => println!(
            "client API http://{}, federation (mutual TLS) {}",
            provider.client_addr, provider.federation_addr
        ),
        LocalEvent::Retrying { error } => println!("failed: {error}; choosing other ports"),
        _ => {}
    }
}

impl Federation {
    /// Writes fresh providers (keys, certificates, a local trust root per provider, each
    /// trusting the others) under `dir` and starts them, printing progress.
    ///
    /// With ports the OS picks, a port taken between choosing and binding is not the user's
    /// problem: what this attempt wrote is removed and the providers are written again on fresh
    /// ports (at most [`START_ATTEMPTS`] times). Ports the user chose are used as given.
    pub(crate) async fn start(dir: &Path, base_port: Option<u16>) -> anyhow::Result<Self> {
        let options = options(base_port)?;
        let started = LocalFederation::start_here(dir, &options)
            .await
            .with_context(|| format!("starting the providers in {}", dir.display()))?;
        Ok(Self { local: started })
    }

    /// x, y (hub), z.
    pub(crate) fn providers(&self) -> &[LocalProvider] {
        self.local.providers()
    }

    /// The provider of `domain`.
    pub(crate) fn provider(&self, domain: &Domain) -> anyhow::Result<&LocalProvider> {
        self.local
            .provider(domain)
            .with_context(|| format!("no provider {domain} in the demo"))
    }

    /// The hub.
    pub(crate) fn hub(&self) -> anyhow::Result<&LocalProvider> {
        self.providers().get(HUB).context("the hub did not start")
    }

    /// The MLS trust root every device of the demo uses: each provider's MLS CA.
    pub(crate) fn mls_trust(&self) -> anyhow::Result<mimi_mls::TrustStore> {
        let mut trust = mimi_mls::TrustStore::new();
        for provider in self.providers() {
            let path = provider.config.resolve(&provider.config.mls.ca_cert);
            let der =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            trust
                .pin(provider.domain.clone(), &der)
                .with_context(|| format!("the MLS CA of {}", provider.domain))?;
        }
        Ok(trust)
    }

    /// Stops every provider (what was not sent stays stored).
    pub(crate) async fn shutdown(&mut self) {
        self.local.shutdown().await;
    }
}

fn print_flush(text: &str) {
    print!("{text}");
    let _ = std::io::stdout().flush();
}

/// `GET /metrics` of a provider's client API, as (series with labels → value).
pub(crate) async fn metrics(addr: SocketAddr) -> anyhow::Result<BTreeMap<String, f64>> {
    let body = tokio::task::spawn_blocking(move || http_get(addr, "/metrics"))
        .await
        .context("the metrics request task failed")??;
    Ok(parse_metrics(&body))
}

/// A plain HTTP/1.0 GET on loopback (the answer is small; no client library needed).
fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<String> {
    let failed = |e: std::io::Error| anyhow::anyhow!("GET http://{addr}{path}: {e}");
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(failed)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(failed)?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").map_err(failed)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(failed)?;
    let answer = String::from_utf8_lossy(&answer);
    let Some((head, body)) = answer.split_once("\r\n\r\n") else {
        bail!("GET http://{addr}{path}: the answer has no header/body separator");
    };
    let status = head.lines().next().unwrap_or_default();
    if !status.split(' ').nth(1).is_some_and(|s| s.starts_with('2')) {
        bail!("GET http://{addr}{path} answered {status:?}");
    }
    Ok(body.to_owned())
}

/// Prometheus text → `series{labels}` → value (comments and malformed lines skipped).
pub(crate) fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

/// The value of `name{peer="peer"}` (0 if absent).
pub(crate) fn per_peer(metrics: &BTreeMap<String, f64>, name: &str, peer: &str) -> u64 {
    metrics
        .get(&format!("{name}{{peer=\"{peer}\"}}"))
        .copied()
        .unwrap_or(0.0) as u64
}

/// The sum of every series of `name` (any labels).
pub(crate) fn total(metrics: &BTreeMap<String, f64>, name: &str) -> u64 {
    metrics
        .iter()
        .filter(|(series, _)| {
            series.as_str() == name
                || series
                    .strip_prefix(name)
                    .is_some_and(|r| r.starts_with('{'))
        })
        .map(|(_, v)| *v)
        .sum::<f64>() as u64
}

/// Client API requests to `route` (its template), any status.
pub(crate) fn route_total(metrics: &BTreeMap<String, f64>, route: &str) -> u64 {
    let prefix = format!("mimi_http_requests_total{{route=\"{route}\",");
    metrics
        .iter()
        .filter(|(series, _)| series.starts_with(&prefix))
        .map(|(_, v)| *v)
        .sum::<f64>() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_read_per_series() {
        let text = "# TYPE mimi_notify_sends_total counter\n\
                    mimi_notify_sends_total{peer=\"x.example\"} 12\n\
                    mimi_notify_sends_total{peer=\"z.example\"} 3\n\
                    mimi_notify_sends_totalx 99\n\
                    mimi_hub_messages_accepted_total 7\n\
                    mimi_http_requests_total{route=\"/v1/blobs\",status=\"201\"} 1\n\
                    mimi_http_requests_total{route=\"/v1/blobs/{id}\",status=\"200\"} 5\n\
                    mimi_http_requests_total{route=\"/v1/blobs/{id}\",status=\"404\"} 1\n\
                    garbage\n";
        let m = parse_metrics(text);
        assert_eq!(per_peer(&m, "mimi_notify_sends_total", "x.example"), 12);
        assert_eq!(per_peer(&m, "mimi_notify_sends_total", "y.example"), 0);
        assert_eq!(total(&m, "mimi_notify_sends_total"), 15);
        assert_eq!(total(&m, "mimi_hub_messages_accepted_total"), 7);
        assert_eq!(route_total(&m, "/v1/blobs"), 1);
        assert_eq!(route_total(&m, "/v1/blobs/{id}"), 6);
        assert_eq!(total(&m, "mimi_http_requests_total"), 7);
    }
}
