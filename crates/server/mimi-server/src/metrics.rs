//! Prometheus metrics, served as text at `GET /metrics` on the client API listener.
//!
//! Hand-written exposition format (version 0.0.4): a handful of counters, one gauge read from
//! the store at scrape time and one histogram do not justify a metrics crate.
//!
//! * `mimi_http_requests_total{route,status}`: client API requests by route template and status;
//! * `mimi_notify_sends_total{peer}`, `mimi_notify_acks_total{peer}`,
//!   `mimi_notify_failures_total{peer}`: fan-out (notify) requests sent, 2xx answers, failed
//!   attempts (transient or refused) per destination;
//! * `mimi_notify_items_acked_total{peer}`: queued fan-out items those acknowledged requests
//!   carried (a request carries every queued message of a room: items per ack is the batching);
//! * `mimi_notify_bytes_total{peer}`: bytes of notify bodies (the encoded fan-out) sent per
//!   destination, every attempt counted;
//! * `mimi_outbound_queue_depth{peer}`: stored fan-out not yet acknowledged (read from the
//!   store at scrape time, capped at [`DEPTH_CAP`]);
//! * `mimi_fanout_latency_seconds`: from the hub saving a fan-out item to the follower's
//!   acknowledgement (items accepted before a restart are not measured);
//! * `mimi_hub_messages_accepted_total`: `submitMessage` requests the hub accepted and stored;
//! * `mimi_notify_dead_lettered_total{peer}`: fan-out items the destination refused (a 4xx
//!   other than 408/429), each refusal counted; the item is kept as a dead letter and retried;
//! * `mimi_notify_dead_letters_delivered_total{peer}`: dead letters delivered at a later offer;
//! * `mimi_dead_letters{peer}`: dead letters kept now (read from the store at scrape time,
//!   capped at [`DEPTH_CAP`]): non-zero means that peer's users miss messages; see the warn log;
//! * `mimi_hub_resyncs_total`: member devices that rejoined a room this hub hosts by a resync
//!   external commit (each also logged at warn): they could not process a commit the hub
//!   accepted, or lost one; a rising count means members fall behind;
//! * `mimi_key_material_last_resort_total`: last-resort KeyPackages of our users handed out
//!   (each is also logged at warn: a device out of fresh KeyPackages, or someone draining it);
//! * `mimi_password_hashes_total`: Argon2id runs (registration, login, and the dummy hash a
//!   login for an unknown user verifies against);
//! * `mimi_password_hash_peak_concurrency`: the most Argon2id runs at once since the start
//!   (bounded by `limits.password_hash_concurrency`);
//! * `mimi_auth_rate_limited_total{kind}`: registrations and logins refused with 429, by
//!   `kind` (`account` or `source`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mimi_types::Domain;
use sha2::{Digest, Sha256};

use crate::passwords::HashStats;

/// The queue depth is counted up to this many items (the store has no count query; reading
/// more rows per scrape would cost more than a deeper number is worth).
pub(crate) const DEPTH_CAP: usize = 10_000;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Fan-out items whose accept time is remembered at most (older entries are dropped).
const PENDING_CAP: usize = 200_000;

#[derive(Debug, Default)]
struct PerPeer {
    sends: u64,
    bytes: u64,
    acks: u64,
    items_acked: u64,
    failures: u64,
    dead_lettered: u64,
    dead_letters_delivered: u64,
}

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, value: Duration) {
        let v = value.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if v <= *bound {
                *count = count.saturating_add(1);
            }
        }
        self.count = self.count.saturating_add(1);
        self.sum += v;
    }
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, u16), u64>,
    peers: BTreeMap<Domain, PerPeer>,
    /// (destination, digest of the notify body) → when the hub saved it, with an insertion
    /// counter so the oldest can be dropped.
    accepted_at: BTreeMap<(Domain, [u8; 32]), Instant>,
    latency: Histogram,
    hub_accepted: u64,
    hub_resyncs: u64,
    last_resort: u64,
    auth_rate_limited: BTreeMap<&'static str, u64>,
}

/// The provider's metrics.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    inner: Mutex<Inner>,
    /// Argon2id runs, counted on the blocking threads that run them.
    pub(crate) hashing: Arc<HashStats>,
}

fn digest(body: &[u8]) -> [u8; 32] {
    Sha256::digest(body).into()
}

impl Metrics {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// A client API request to `route` answered with `status`.
    pub(crate) fn request(&self, route: &str, status: u16) {
        let mut inner = self.lock();
        let n = inner
            .requests
            .entry((route.to_owned(), status))
            .or_default();
        *n = n.saturating_add(1);
    }

    /// The hub stored a fan-out item for `to` now.
    pub(crate) fn fanout_saved(&self, to: &Domain, body: &[u8]) {
        let mut inner = self.lock();
        if inner.accepted_at.len() >= PENDING_CAP {
            // Losing a few latency samples beats unbounded memory when a peer is down for long.
            inner.accepted_at.clear();
        }
        inner
            .accepted_at
            .insert((to.clone(), digest(body)), Instant::now());
    }

    /// The hub accepted and stored a `submitMessage`.
    pub(crate) fn hub_accepted(&self) {
        let mut inner = self.lock();
        inner.hub_accepted = inner.hub_accepted.saturating_add(1);
    }

    /// A notify attempt to `to` with a body of `bytes` is starting.
    pub(crate) fn notify_sent(&self, to: &Domain, bytes: usize) {
        let mut inner = self.lock();
        let p = inner.peers.entry(to.clone()).or_default();
        p.sends = p.sends.saturating_add(1);
        p.bytes = p.bytes.saturating_add(bytes as u64);
    }

    /// `to` acknowledged a notify carrying the queued items whose bodies are `items`.
    pub(crate) fn notify_acked<'a>(&self, to: &Domain, items: impl IntoIterator<Item = &'a [u8]>) {
        let mut inner = self.lock();
        let mut n = 0u64;
        for body in items {
            n += 1;
            if let Some(at) = inner.accepted_at.remove(&(to.clone(), digest(body))) {
                inner.latency.observe(at.elapsed());
            }
        }
        let p = inner.peers.entry(to.clone()).or_default();
        p.acks = p.acks.saturating_add(1);
        p.items_acked = p.items_acked.saturating_add(n);
    }

    /// A notify attempt to `to` failed (to be retried, or refused and dropped).
    pub(crate) fn notify_failed(&self, to: &Domain) {
        let mut inner = self.lock();
        let p = inner.peers.entry(to.clone()).or_default();
        p.failures = p.failures.saturating_add(1);
    }

    /// `to` refused a fan-out item, which is kept as a dead letter.
    pub(crate) fn dead_lettered(&self, to: &Domain) {
        let mut inner = self.lock();
        let p = inner.peers.entry(to.clone()).or_default();
        p.dead_lettered = p.dead_lettered.saturating_add(1);
    }

    /// `to` took a dead letter at a later offer.
    pub(crate) fn dead_letter_delivered(&self, to: &Domain) {
        let mut inner = self.lock();
        let p = inner.peers.entry(to.clone()).or_default();
        p.dead_letters_delivered = p.dead_letters_delivered.saturating_add(1);
    }

    /// A member device rejoined a hosted room by a resync external commit.
    pub(crate) fn hub_resync(&self) {
        let mut inner = self.lock();
        inner.hub_resyncs = inner.hub_resyncs.saturating_add(1);
    }

    /// `n` last-resort KeyPackages of our users were handed out.
    pub(crate) fn last_resort_claimed(&self, n: usize) {
        let mut inner = self.lock();
        inner.last_resort = inner.last_resort.saturating_add(n as u64);
    }

    /// A registration or login was refused by the `kind` limit (`account` or `source`).
    pub(crate) fn auth_rate_limited(&self, kind: &'static str) {
        let mut inner = self.lock();
        let n = inner.auth_rate_limited.entry(kind).or_default();
        *n = n.saturating_add(1);
    }

    /// The exposition text; `depths` are the outbound queue depths per destination, `dead`
    /// the dead letters kept per destination.
    pub(crate) fn render(
        &self,
        depths: &BTreeMap<Domain, usize>,
        dead: &BTreeMap<Domain, usize>,
    ) -> String {
        let inner = self.lock();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP mimi_http_requests_total Client API requests by route and status.\n\
             # TYPE mimi_http_requests_total counter"
        );
        for ((route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "mimi_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        for (name, help, pick) in [
            (
                "mimi_notify_sends_total",
                "Fan-out (notify) attempts per destination.",
                (|p: &PerPeer| p.sends) as fn(&PerPeer) -> u64,
            ),
            (
                "mimi_notify_bytes_total",
                "Bytes of notify bodies sent per destination (every attempt).",
                |p: &PerPeer| p.bytes,
            ),
            (
                "mimi_notify_acks_total",
                "Fan-out (notify) requests the destination acknowledged.",
                |p: &PerPeer| p.acks,
            ),
            (
                "mimi_notify_items_acked_total",
                "Queued fan-out items carried by acknowledged notify requests.",
                |p: &PerPeer| p.items_acked,
            ),
            (
                "mimi_notify_failures_total",
                "Fan-out (notify) attempts that failed (retried or refused).",
                |p: &PerPeer| p.failures,
            ),
            (
                "mimi_notify_dead_lettered_total",
                "Fan-out items the destination refused (4xx), kept as dead letters and retried.",
                |p: &PerPeer| p.dead_lettered,
            ),
            (
                "mimi_notify_dead_letters_delivered_total",
                "Dead letters the destination took at a later offer.",
                |p: &PerPeer| p.dead_letters_delivered,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (peer, p) in &inner.peers {
                let _ = writeln!(out, "{name}{{peer=\"{peer}\"}} {}", pick(p));
            }
        }
        let _ = writeln!(
            out,
            "# HELP mimi_outbound_queue_depth Stored fan-out not yet acknowledged, per destination.\n\
             # TYPE mimi_outbound_queue_depth gauge"
        );
        for (peer, depth) in depths {
            let _ = writeln!(out, "mimi_outbound_queue_depth{{peer=\"{peer}\"}} {depth}");
        }
        let _ = writeln!(
            out,
            "# HELP mimi_dead_letters Fan-out items the destination refused, kept and retried.\n\
             # TYPE mimi_dead_letters gauge"
        );
        for (peer, n) in dead {
            let _ = writeln!(out, "mimi_dead_letters{{peer=\"{peer}\"}} {n}");
        }
        let name = "mimi_fanout_latency_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} From the hub storing a fan-out item to the follower's acknowledgement.\n\
             # TYPE {name} histogram"
        );
        for (bound, count) in BUCKETS.iter().zip(inner.latency.counts.iter()) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"+Inf\"}} {c}\n{name}_sum {s}\n{name}_count {c}",
            c = inner.latency.count,
            s = inner.latency.sum
        );
        let _ = writeln!(
            out,
            "# HELP mimi_hub_messages_accepted_total Messages the hub accepted and stored.\n\
             # TYPE mimi_hub_messages_accepted_total counter\n\
             mimi_hub_messages_accepted_total {}",
            inner.hub_accepted
        );
        let _ = writeln!(
            out,
            "# HELP mimi_hub_resyncs_total Member devices that rejoined a hosted room by a resync external commit.\n\
             # TYPE mimi_hub_resyncs_total counter\n\
             mimi_hub_resyncs_total {}",
            inner.hub_resyncs
        );
        let _ = writeln!(
            out,
            "# HELP mimi_key_material_last_resort_total Last-resort KeyPackages of our users handed out.\n\
             # TYPE mimi_key_material_last_resort_total counter\n\
             mimi_key_material_last_resort_total {}",
            inner.last_resort
        );
        let _ = writeln!(
            out,
            "# HELP mimi_password_hashes_total Argon2id runs (registration, login, unknown-user login).\n\
             # TYPE mimi_password_hashes_total counter\n\
             mimi_password_hashes_total {}\n\
             # HELP mimi_password_hash_peak_concurrency The most Argon2id runs at once since the start.\n\
             # TYPE mimi_password_hash_peak_concurrency gauge\n\
             mimi_password_hash_peak_concurrency {}",
            self.hashing.runs.load(Ordering::Relaxed),
            self.hashing.peak.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP mimi_auth_rate_limited_total Registrations and logins refused with 429, by limit.\n\
             # TYPE mimi_auth_rate_limited_total counter"
        );
        for (kind, n) in &inner.auth_rate_limited {
            let _ = writeln!(out, "mimi_auth_rate_limited_total{{kind=\"{kind}\"}} {n}");
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histogram() {
        let m = Metrics::default();
        let y = Domain::parse("y.example").unwrap();
        m.request("/v1/rooms", 201);
        m.request("/v1/rooms", 201);
        m.fanout_saved(&y, b"body");
        m.notify_sent(&y, 10);
        m.notify_failed(&y);
        m.notify_sent(&y, 4);
        m.notify_acked(&y, [b"body".as_slice()]);
        m.hub_accepted();
        m.dead_lettered(&y);
        m.dead_lettered(&y);
        m.dead_letter_delivered(&y);
        m.last_resort_claimed(2);
        m.auth_rate_limited("source");
        m.hashing.runs.fetch_add(3, Ordering::Relaxed);
        m.hashing.peak.fetch_max(2, Ordering::Relaxed);
        let mut depths = BTreeMap::new();
        depths.insert(y.clone(), 3);
        let mut dead = BTreeMap::new();
        dead.insert(y.clone(), 1);
        let text = m.render(&depths, &dead);
        assert!(text.contains("mimi_http_requests_total{route=\"/v1/rooms\",status=\"201\"} 2"));
        assert!(text.contains("mimi_notify_sends_total{peer=\"y.example\"} 2"));
        assert!(text.contains("mimi_notify_bytes_total{peer=\"y.example\"} 14"));
        assert!(text.contains("mimi_notify_acks_total{peer=\"y.example\"} 1"));
        assert!(text.contains("mimi_notify_items_acked_total{peer=\"y.example\"} 1"));
        assert!(text.contains("mimi_notify_failures_total{peer=\"y.example\"} 1"));
        assert!(text.contains("mimi_outbound_queue_depth{peer=\"y.example\"} 3"));
        assert!(text.contains("mimi_fanout_latency_seconds_count 1"));
        assert!(text.contains("mimi_fanout_latency_seconds_bucket{le=\"+Inf\"} 1"));
        assert!(text.contains("mimi_hub_messages_accepted_total 1"));
        assert!(text.contains("mimi_notify_dead_lettered_total{peer=\"y.example\"} 2"));
        assert!(text.contains("mimi_notify_dead_letters_delivered_total{peer=\"y.example\"} 1"));
        assert!(text.contains("mimi_dead_letters{peer=\"y.example\"} 1"));
        assert!(text.contains("mimi_key_material_last_resort_total 2"));
        assert!(text.contains("mimi_password_hashes_total 3"));
        assert!(text.contains("mimi_password_hash_peak_concurrency 2"));
        assert!(text.contains("mimi_auth_rate_limited_total{kind=\"source\"} 1"));
        assert_eq!(escape("a\"b\\"), "a\\\"b\\\\");
    }
}
