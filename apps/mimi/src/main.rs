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
