//! The mimi-rs federation load generator (PERFORMANCE.md, P1).
//!
//! [`run`] starts a hub and two followers in this process (each on its own tokio runtime, with
//! its own SQLite files in a temporary directory, mutual TLS between them, client API on
//! 127.0.0.1) or uses three running providers ([`BenchConfig::servers`]); registers `users`
//! accounts with one device each, spread round-robin over the three providers; builds one room
//! of all of them through the real client API (`mimi-sdk`: create, invite, Welcome); then
//! `senders` devices send `messages` texts of 1 KiB each, closed loop (each waits for the hub's
//! acknowledgement before the next) or open loop ([`BenchConfig::rate`]: on a fixed schedule,
//! reporting how far behind it fell). Every member's device reads its event feed; a delivery
//! is one message appearing in one other member's decrypted timeline, or, with
//! [`BenchConfig::skip_decryption`], one application message (ciphertext) in a member's raw
//! feed, so the servers' throughput shows apart from the clients' MLS work.
//!
//! It is a separate crate rather than a module of `mimi-sdk` so the SDK does not depend on the
//! server crate and carries no benchmark code; `apps/mimi` wires it as `mimi bench`.
//!
//! CPU time is attributed to thread groups by name (see [`proc_stats`]); RSS is the whole
//! process (servers and clients together), and per device the growth after the providers
//! started over the devices ([`Report::rss_per_device_kib`]).

mod count;
mod pin;
pub mod proc_stats;
mod report;
mod setup;
mod workload;

pub use report::Report;
pub use workload::run;

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Members of the room (one device each), at least 2.
    pub users: usize,
    /// Devices that send (the first `senders` users, so spread over the providers).
    pub senders: usize,
    /// Messages per sender.
    pub messages: usize,
    /// Bound on the sending phase in seconds; receivers get 10 s more to drain.
    pub max_seconds: u64,
    /// Base URLs of three running providers (hub first); `None` starts them in-process.
    pub servers: Option<Vec<String>>,
    /// Worker threads of each in-process provider's runtime.
    pub server_threads: usize,
    /// Worker threads of the clients' runtime.
    pub client_threads: usize,
    /// Print a progress line every second on stderr.
    pub progress: bool,
    /// Bytes of each message text (the MIMI content is a few dozen bytes more).
    pub message_bytes: usize,
    /// Open loop: each sender starts a message every `1 / rate` seconds on a fixed schedule
    /// (latencies count from the scheduled start); `None` is closed loop.
    pub rate: Option<f64>,
    /// Count application messages in the members' raw feeds (ciphertext: nothing decrypted or
    /// applied) instead of their decrypted timelines; a delivery then includes a sender's own
    /// message coming back, and its latency runs from the hub's acceptance timestamp.
    pub skip_decryption: bool,
    /// Run the providers' threads on CPU 0 and the clients' on CPU 1 (Linux only).
    pub pin_cpus: bool,
    /// The in-process hub's `database.url` (for example a PostgreSQL database); `None`: SQLite
    /// files in the temporary directory. The followers always use SQLite.
    pub hub_database_url: Option<String>,
    /// The in-process providers hash passwords at the production cost (Argon2id, 19 MiB, two
    /// passes: tens of ms per registration and per device sign-in) instead of the bench's
    /// cheap cost ([`BENCH_PASSWORD_HASH`]); setup then includes 2 × `users` such hashes.
    pub production_password_hashing: bool,
    /// The sending devices run on a runtime of their own (one thread named `bench-senders`,
    /// on the clients' CPU with `pin_cpus`) instead of among the receivers on the clients'
    /// runtime, where a sender's acknowledged send waits for its turn behind the receivers'
    /// work (decrypting the previous message): separates the sender's latency from the
    /// receivers' queue, as in a federation where each person's device is their own. On by
    /// default since 2026-12-06 (`mimi bench --shared-runtime` turns it off); the
    /// acknowledgement figures of earlier runs were taken without it. A sending device is opened again from its file on that runtime
    /// once it joined (as its own process would open it), so its HTTP connections and feed
    /// are made and driven there too, not on the receivers' runtime.
    pub sender_runtime: bool,
}

/// The in-process providers' password-hash cost unless
/// [`BenchConfig::production_password_hashing`]: (memory KiB, passes). The accounts are
/// throwaway and the passwords public; the setup measures the room, not Argon2.
pub const BENCH_PASSWORD_HASH: (u32, u32) = (64, 1);

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            users: 10,
            senders: 1,
            messages: 100,
            max_seconds: 120,
            servers: None,
            server_threads: 1,
            client_threads: 2,
            progress: false,
            message_bytes: 1024,
            rate: None,
            skip_decryption: false,
            pin_cpus: false,
            hub_database_url: None,
            production_password_hashing: false,
            sender_runtime: true,
        }
    }
}
