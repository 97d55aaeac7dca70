//! `mimi`: the one binary of mimi-rs. Wiring and presentation only: protocol decisions live in
//! the library crates.

mod admin;
mod app;
mod bench;
mod client_cmd;
mod demo;
mod provider;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// glibc's malloc serves a block of at least this many bytes from a mapping of its own, given
/// back when freed. Left to itself it raises the bound to the size of every large block freed
/// (up to 32 MiB): after the first Argon2 hash (19 MiB) or MLS record freed, large blocks come
/// from its per-thread arenas and stay resident there. In `mimi bench` (three providers and
/// hundreds of devices in one process, a SQLite thread each) that kept about ten times the
/// live heap resident: 1.6 GiB for 100 devices against 184 MiB with the bound pinned
/// (benches/RESULTS.md, P11). A provider signing users in does the same on a smaller scale.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: &str = "131072";

/// glibc reads the bound (`MALLOC_MMAP_THRESHOLD_`) from the environment when the process
/// starts, and setting it from inside takes unsafe code: so the binary runs itself again with
/// it set, unless it is set already (by the caller, or by this). The same process id, open
/// files and arguments carry over; if the new image cannot be started, this one goes on as it
/// is. Only the long-running commands (a provider, the load generator, the demo, the web
/// client) do this: a one-shot client command would pay a second start for nothing.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn pin_malloc_mmap_threshold() {
    use std::os::unix::process::CommandExt as _;
    const VAR: &str = "MALLOC_MMAP_THRESHOLD_";
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    let error = command.args(args).env(VAR, MMAP_THRESHOLD).exec();
    eprintln!("note: running without {VAR}={MMAP_THRESHOLD} ({error})");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn pin_malloc_mmap_threshold() {}

/// mimi-rs: More Instant Messaging Interoperability (IETF MIMI) in Rust.
///
/// Providers run servers; for each room one server is the hub and the others are followers;
/// clients on different providers share rooms end-to-end encrypted with MLS.
#[derive(Debug, Parser)]
#[command(name = "mimi", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Walk through the MIMI architecture figure: three providers, a hub room, six devices.
    Demo(demo::DemoArgs),
    /// Write a new provider (keys, certificates, configuration) or a dev federation.
    Init(provider::InitArgs),
    /// Run a provider from its configuration file (migrates its database first).
    Serve(provider::ServeArgs),
    /// Bring a provider's database schema up to date without serving.
    Migrate(provider::MigrateArgs),
    /// Load-generate a federation: K members over three providers, S senders, N messages each.
    Bench(bench::BenchArgs),
    /// Operator tools on a provider's database (abuse reports).
    Admin(admin::AdminArgs),
    /// Chat in the browser: serve a web client for this profile's device on 127.0.0.1 (keys
    /// stay in the profile; the page talks only to this process).
    App(app::AppArgs),
    #[command(flatten)]
    Client(client_cmd::ClientCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Command::Serve(_) | Command::Bench(_) | Command::Demo(_) | Command::App(_)
    ) {
        pin_malloc_mmap_threshold();
    }
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Init(args) => provider::init(&args),
        Command::Serve(args) => provider::serve(&args),
        Command::Migrate(args) => provider::migrate(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Admin(args) => admin::run(&args),
        Command::App(args) => app::run(&args),
        Command::Client(command) => client_cmd::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
