//! `mimi init` and `mimi serve`: wiring of mimi-server, nothing more.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use mimi_server::{Config, Server};
use mimi_types::Domain;

/// Write a new provider (keys, certificates, configuration), or a development federation.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The provider's domain, e.g. x.example.
    #[arg(
        long,
        conflicts_with = "dev_federation",
        required_unless_present = "dev_federation"
    )]
    domain: Option<String>,
    /// Comma-separated domains of providers that trust each other, on 127.0.0.1 (federation
    /// ports from 18443, client ports from 18080), each in DIR/<domain>/.
    #[arg(long, value_delimiter = ',')]
    dev_federation: Vec<String>,
    /// Where to write (created if missing; existing keys are never overwritten).
    #[arg(long)]
    dir: PathBuf,
    /// Also serve the client API over HTTPS with a new self-signed certificate for
    /// development (naming the domain, localhost and 127.0.0.1; written as
    /// client-tls-cert.pem, which devices pin with `--server-cert`).
    #[arg(long)]
    client_tls: bool,
}

/// Run a provider.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The configuration file written by `mimi init`.
    #[arg(long)]
    config: PathBuf,
}

/// Bring a provider's database schema up to date, then exit.
#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// The configuration file (its `database.url`, or SQLite files in its data directory).
    #[arg(long)]
    config: PathBuf,
}

fn domain(text: &str) -> anyhow::Result<Domain> {
    Domain::parse(text).with_context(|| format!("{text:?} is not a domain name"))
}

pub(crate) fn init(args: &InitArgs) -> anyhow::Result<()> {
    if let Some(name) = &args.domain {
        let mut config = mimi_server::init(&domain(name)?, &args.dir)?;
        if args.client_tls {
            let path = args.dir.join(mimi_server::CONFIG_FILE);
            let cert = mimi_server::add_client_tls(&mut config, &path)?;
            println!(
                "client API: https://{} with a self-signed certificate; devices pin it: \
                 --server-cert {}",
                config.client_listen,
                cert.display()
            );
        }
        println!(
            "wrote provider {} to {}\nrun: mimi serve --config {}",
            config.domain,
            args.dir.display(),
            args.dir.join(mimi_server::CONFIG_FILE).display()
        );
        return Ok(());
    }
    let domains = args
        .dev_federation
        .iter()
        .map(|d| domain(d))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for mut provider in mimi_server::init_dev_federation(&args.dir, &domains)? {
        let scheme = if args.client_tls {
            let cert = mimi_server::add_client_tls(&mut provider.config, &provider.config_path)?;
            println!(
                "{}: devices pin --server-cert {}",
                provider.domain,
                cert.display()
            );
            "https"
        } else {
            "http"
        };
        println!(
            "{}: federation {}, client API {scheme}://{}\n  run: mimi serve --config {}",
            provider.domain,
            provider.config.federation_listen,
            provider.config.client_listen,
            provider.config_path.display()
        );
    }
    Ok(())
}

pub(crate) fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = Config::load(&args.config)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the Tokio runtime")?;
    runtime.block_on(async {
        let running = Server::start(config).await?;
        println!(
            "{} serving: federation (mutual TLS) on {}, client API (HTTP) on http://{}; Ctrl-C stops",
            running.domain(),
            running.federation_addr(),
            running.client_addr()
        );
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        tracing::info!("shutting down");
        running.shutdown().await;
        Ok(())
    })
}

pub(crate) fn migrate(args: &MigrateArgs) -> anyhow::Result<()> {
    let config = Config::load(&args.config)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the Tokio runtime")?;
    let shown = runtime.block_on(Server::migrate(&config))?;
    println!("{}: the database {shown} is up to date", config.domain);
    Ok(())
}
