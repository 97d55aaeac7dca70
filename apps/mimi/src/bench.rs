//! `mimi bench`: the federation load generator (`mimi-bench`), wired to the command line.

use anyhow::bail;
use clap::Args;
use mimi_bench::BenchConfig;

/// Options of `mimi bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Room members, one device each, spread round-robin over the three providers.
    #[arg(long, default_value_t = 10)]
    users: usize,
    /// Sending devices (closed loop: each waits for the hub's acknowledgement before the next).
    #[arg(long, default_value_t = 1)]
    senders: usize,
    /// Messages per sender (1 KiB of text each).
    #[arg(long, default_value_t = 100)]
    messages: usize,
    /// Bound on the sending phase in seconds (receivers get 10 s more to drain).
    #[arg(long, default_value_t = 120)]
    max_seconds: u64,
    /// Base URLs of three running providers' client APIs, hub first, comma-separated
    /// (default: start a hub and two followers in this process on 127.0.0.1).
    #[arg(long, value_delimiter = ',')]
    servers: Option<Vec<String>>,
    /// Worker threads of each in-process provider.
    #[arg(long, default_value_t = 1)]
    server_threads: usize,
    /// Worker threads of the clients' runtime.
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
    /// Bytes of text per message.
    #[arg(long, default_value_t = 1024)]
    message_bytes: usize,
    /// The in-process hub's database (`postgres://...`, or `sqlite:DIR`); default: SQLite
    /// files in a temporary directory. The followers always use SQLite.
    #[arg(long)]
    database_url: Option<String>,
    /// Open loop: each sender sends this many messages per second on a fixed schedule
    /// (default: closed loop); the report says how far behind the schedule it fell.
    #[arg(long)]
    rate: Option<f64>,
    /// Count delivered ciphertext in the members' raw feeds instead of decrypting: the
    /// servers' throughput apart from the clients' MLS work.
    #[arg(long)]
    skip_decryption: bool,
    /// Run the providers on CPU 0 and the clients on CPU 1 (Linux only).
    #[arg(long)]
    pin_cpus: bool,
    /// Hash the in-process providers' passwords at the production cost (Argon2id, 19 MiB,
    /// two passes) instead of the bench's cheap one; setup then includes two hashes per user.
    #[arg(long)]
    production_password_hashing: bool,
    /// Run the senders among the receivers on the clients' runtime, as runs before
    /// 2026-12-06 did: a sender's acknowledgement then waits for its turn behind every
    /// receiver's work (decrypting the previous message). By default the senders run on a
    /// runtime (thread) of their own, as a person's device is not shared with the other
    /// members' devices.
    #[arg(long)]
    shared_runtime: bool,
    /// No progress line.
    #[arg(long)]
    quiet: bool,
}

pub(crate) fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let report = mimi_bench::run(&BenchConfig {
        users: args.users,
        senders: args.senders,
        messages: args.messages,
        max_seconds: args.max_seconds,
        servers: args.servers.clone(),
        server_threads: args.server_threads,
        client_threads: args.client_threads,
        progress: !args.quiet,
        message_bytes: args.message_bytes,
        rate: args.rate,
        skip_decryption: args.skip_decryption,
        pin_cpus: args.pin_cpus,
        hub_database_url: args.database_url.clone(),
        production_password_hashing: args.production_password_hashing,
        sender_runtime: !args.shared_runtime,
    })?;
    print!("{report}");
    if !report.is_clean() {
        bail!(
            "{} duplicates, {} missing, {} errors",
            report.duplicates,
            report.missing,
            report.errors.len()
        );
    }
    Ok(())
}
