//! The figures of one run and their text form.

use std::collections::BTreeMap;
use std::fmt;

/// The outcome of one load-generator run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Room members.
    pub users: usize,
    /// Sending devices.
    pub senders: usize,
    /// Messages each sender was asked to send.
    pub messages_per_sender: usize,
    /// Messages acknowledged by the hub.
    pub sent: u64,
    /// Deliveries expected: each acknowledged message to every other member (with
    /// `skip_decryption`: to every member, the sender's own feed included).
    pub expected_deliveries: u64,
    /// Distinct deliveries seen.
    pub deliveries: u64,
    /// Messages a device showed more than once.
    pub duplicates: u64,
    /// Expected deliveries never seen.
    pub missing: u64,
    /// Seconds from the first send to the last acknowledgement.
    pub send_seconds: f64,
    /// Seconds from the first send to the last delivery.
    pub delivery_seconds: f64,
    /// Setup (start, register, room of `users`) in seconds.
    pub setup_seconds: f64,
    /// The setup's parts in seconds: starting the providers, registering the accounts and
    /// devices, creating the room and inviting everyone, every device joining.
    pub setup_phases: [f64; 4],
    /// The password-hash cost the providers ran with (registration and sign-in hash).
    pub password_hash: String,
    /// Acknowledgement latency percentiles in ms (p50, p99).
    pub ack_ms: [f64; 2],
    /// Delivery latency percentiles in ms (p50, p95, p99): send start (scheduled start in open
    /// loop) → shown at the receiver; with `skip_decryption`, the hub's acceptance timestamp
    /// (ms resolution) → read from the receiver's feed.
    pub delivery_ms: [f64; 3],
    /// Deliveries counted in raw feeds (ciphertext) rather than decrypted timelines.
    pub skip_decryption: bool,
    /// Open loop: messages per second per sender; `None` for closed loop.
    pub rate: Option<f64>,
    /// Open loop: how far (ms) a send started after its scheduled time, at most and at the
    /// last send.
    pub behind_ms: [f64; 2],
    /// Whether servers and clients ran pinned to CPU 0 and CPU 1.
    pub pinned: bool,
    /// Whether the senders ran on a runtime of their own rather than among the receivers.
    pub sender_runtime: bool,
    /// Whether the sending phase hit `max_seconds`.
    pub cut_short: bool,
    /// Resident memory of the whole process at the end, KiB.
    pub rss_kib: u64,
    /// Resident memory once the providers had started, before any device existed, KiB.
    pub rss_start_kib: u64,
    /// The process's `MALLOC_MMAP_THRESHOLD_` (glibc), if set: RSS depends on it.
    pub malloc_mmap_threshold: Option<String>,
    /// CPU seconds of the whole process during the measured phase.
    pub cpu_seconds: f64,
    /// CPU seconds during the measured phase per thread group.
    pub cpu_by_group: BTreeMap<String, f64>,
    /// Fan-out (notify) attempts of the hub per acknowledged message, per destination, from
    /// the hub's `GET /metrics` before and after the run (empty if it has none).
    pub notify_per_message: BTreeMap<String, f64>,
    /// Bytes of notify bodies per acknowledged message, per destination (same source).
    pub notify_bytes_per_message: BTreeMap<String, f64>,
    /// Errors met by devices (a failed send or sync), first few.
    pub errors: Vec<String>,
    /// Syncs that failed while the room formed and were retried (the devices joined anyway):
    /// not an error of the run, but a sign the providers refused or dropped requests.
    pub join_sync_retries: u64,
}

impl Report {
    /// Acknowledged sends per second.
    pub fn sends_per_second(&self) -> f64 {
        per_second(self.sent, self.send_seconds)
    }

    /// Deliveries per second.
    pub fn deliveries_per_second(&self) -> f64 {
        per_second(self.deliveries, self.delivery_seconds)
    }

    /// Resident memory per device in KiB: what the process grew by after the providers
    /// started, over the devices. It includes what the in-process providers grew by while
    /// serving them (their stores, caches, connections), so it bounds the devices' own share
    /// from above; with `--servers` it is the devices' alone.
    pub fn rss_per_device_kib(&self) -> f64 {
        if self.users == 0 {
            return 0.0;
        }
        self.rss_kib.saturating_sub(self.rss_start_kib) as f64 / self.users as f64
    }

    /// Whether every expected delivery arrived exactly once and nothing failed.
    pub fn is_clean(&self) -> bool {
        self.duplicates == 0 && self.missing == 0 && self.errors.is_empty()
    }
}

fn per_second(n: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        n as f64 / seconds
    } else {
        0.0
    }
}

/// The `q` quantile (0..=1) of sorted nanosecond samples, in ms (nearest rank).
pub(crate) fn quantile_ms(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied().unwrap_or(0) as f64 / 1e6
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "K={} S={} N={}  {}  {}{}{}  setup {:.1} s{}",
            self.users,
            self.senders,
            self.messages_per_sender,
            match self.rate {
                Some(r) => format!("open loop {r} msg/s per sender"),
                None => "closed loop".to_owned(),
            },
            if self.skip_decryption {
                "raw feeds (no decryption)"
            } else {
                "decrypted timelines"
            },
            if self.pinned { "  pinned" } else { "" },
            if self.sender_runtime {
                ""
            } else {
                "  senders among the receivers (--shared-runtime)"
            },
            self.setup_seconds,
            if self.cut_short {
                "  (CUT SHORT by --max-seconds)"
            } else {
                ""
            }
        )?;
        writeln!(
            f,
            "setup: providers {:.1} s, register {:.1} s, create+invite {:.1} s, joins {:.1} s; password hash {}",
            self.setup_phases[0],
            self.setup_phases[1],
            self.setup_phases[2],
            self.setup_phases[3],
            self.password_hash
        )?;
        if self.rate.is_some() {
            writeln!(
                f,
                "behind schedule: at most {:.1} ms, at the last send {:.1} ms",
                self.behind_ms[0], self.behind_ms[1]
            )?;
        }
        writeln!(
            f,
            "sent {} in {:.2} s: {:.1} sends/s; ack p50 {:.2} ms p99 {:.2} ms",
            self.sent,
            self.send_seconds,
            self.sends_per_second(),
            self.ack_ms[0],
            self.ack_ms[1]
        )?;
        writeln!(
            f,
            "delivered {}/{} in {:.2} s: {:.1} deliveries/s; delivery p50 {:.2} ms p95 {:.2} ms p99 {:.2} ms",
            self.deliveries,
            self.expected_deliveries,
            self.delivery_seconds,
            self.deliveries_per_second(),
            self.delivery_ms[0],
            self.delivery_ms[1],
            self.delivery_ms[2]
        )?;
        writeln!(
            f,
            "duplicates {}  missing {}  errors {}  failed syncs retried while joining {}",
            self.duplicates,
            self.missing,
            self.errors.len(),
            self.join_sync_retries
        )?;
        writeln!(
            f,
            "process RSS {:.1} MiB; CPU {:.2} s during the run ({:.2} ms per delivery)",
            self.rss_kib as f64 / 1024.0,
            self.cpu_seconds,
            if self.deliveries > 0 {
                self.cpu_seconds * 1e3 / self.deliveries as f64
            } else {
                0.0
            }
        )?;
        writeln!(
            f,
            "RSS per device {:.2} MiB ({:.1} MiB after the providers started, growth over {} devices); MALLOC_MMAP_THRESHOLD_={}",
            self.rss_per_device_kib() / 1024.0,
            self.rss_start_kib as f64 / 1024.0,
            self.users,
            self.malloc_mmap_threshold.as_deref().unwrap_or("unset")
        )?;
        let groups: Vec<String> = self
            .cpu_by_group
            .iter()
            .filter(|(_, s)| **s >= 0.005)
            .map(|(g, s)| format!("{g} {s:.2}"))
            .collect();
        writeln!(f, "CPU s by thread group: {}", groups.join(", "))?;
        if self.notify_per_message.is_empty() {
            writeln!(f, "notify requests per message: the hub exposes no metrics")?;
        } else {
            let peers: Vec<String> = self
                .notify_per_message
                .iter()
                .map(|(p, n)| format!("{p} {n:.2}"))
                .collect();
            writeln!(f, "notify requests per message: {}", peers.join(", "))?;
            let bytes: Vec<String> = self
                .notify_bytes_per_message
                .iter()
                .map(|(p, n)| format!("{p} {n:.0}"))
                .collect();
            writeln!(f, "notify body bytes per message: {}", bytes.join(", "))?;
        }
        for error in &self.errors {
            writeln!(f, "error: {error}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let samples: Vec<u64> = (1..=100).map(|ms| ms * 1_000_000).collect();
        assert_eq!(quantile_ms(&samples, 0.5), 50.0);
        assert_eq!(quantile_ms(&samples, 0.99), 99.0);
        assert_eq!(quantile_ms(&[], 0.5), 0.0);
    }

    #[test]
    fn rss_per_device_is_the_growth_over_the_devices() {
        let report = Report {
            users: 4,
            rss_start_kib: 1000,
            rss_kib: 9192,
            ..Report::default()
        };
        assert_eq!(report.rss_per_device_kib(), 2048.0);
        assert!(report.to_string().contains("RSS per device 2.00 MiB"));
        // A process that shrank below its start reports no growth rather than wrapping.
        let shrunk = Report {
            users: 4,
            rss_start_kib: 9192,
            rss_kib: 1000,
            ..Report::default()
        };
        assert_eq!(shrunk.rss_per_device_kib(), 0.0);
        assert_eq!(Report::default().rss_per_device_kib(), 0.0);
    }
}
