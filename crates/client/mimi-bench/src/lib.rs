//! The mimi-rs federation load generator (PERFORMANCE.md, P1).
//!
//! [`run`] starts a hub and two followers in this process (each on its own tokio runtime, with
//! its own SQLite files in a temporary directory, mutual TLS between them, client API on
//! 127.0.0.1) or uses three running providers ([`BenchConfig::servers`]); registers `users`
//! accounts with one device each, spread round-robin over the three providers; builds one room
//! of all of them through the real client API (`mimi-sdk`: create, invite, Welcome); then
//! `senders` devices send `messages` texts of 1 KiB each, closed loop (each waits for the hub's
//! acknowledgement before the next). Every member's device reads its event feed; a delivery is
//! one message appearing in one other member's decrypted timeline.
//!
//! It is a separate crate rather than a module of `mimi-sdk` so the SDK does not depend on the
//! server crate and carries no benchmark code; `apps/mimi` wires it as `mimi bench`.
//!
//! CPU time is attributed to thread groups by name (see [`proc_stats`]); RSS is the whole
//! process (servers and clients together).

pub mod proc_stats;
mod report;
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
    /// The in-process hub's `database.url` (for example a PostgreSQL database); `None`: SQLite
    /// files in the temporary directory. The followers always use SQLite.
    pub hub_database_url: Option<String>,
}

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
            hub_database_url: None,
        }
    }
}
