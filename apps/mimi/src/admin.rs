//! `mimi admin`: operator tools that work on a provider's database beside `mimi serve`.
//! Wiring and presentation only.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use mimi_content::{MimiContent, PartBody};
use mimi_server::abuse_queue::QueuedReport;
use mimi_server::{Config, Server};

/// Operator tools.
#[derive(Debug, Args)]
pub(crate) struct AdminArgs {
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// The abuse reports this provider's hub accepted for its rooms.
    Reports(ReportsArgs),
}

#[derive(Debug, Args)]
struct ReportsArgs {
    #[command(subcommand)]
    command: ReportsCommand,
}

#[derive(Debug, Subcommand)]
enum ReportsCommand {
    /// List the open reports (with --all, the resolved ones too).
    List {
        /// Also the resolved reports.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Show a report with the reported messages' text (verified by the hub's franks).
    Show {
        /// The report's number (from `list`).
        id: u64,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Mark a report resolved, with what was done.
    Resolve {
        /// The report's number.
        id: u64,
        /// What was done (kept with the report).
        #[arg(long)]
        note: String,
        #[command(flatten)]
        config: ConfigArg,
    },
}

#[derive(Debug, Args)]
struct ConfigArg {
    /// The provider's configuration file.
    #[arg(long)]
    config: PathBuf,
}

fn when(ms: u64) -> String {
    format!("{ms} ms since the UNIX epoch")
}

fn text_of(content: &[u8]) -> String {
    match MimiContent::decode(content) {
        Ok(c) => match &c.nested_part.body {
            PartBody::Single(p) => String::from_utf8_lossy(&p.content).into_owned(),
            PartBody::Null => "(no content)".into(),
            other => format!("(a part of cardinality {})", other.cardinality()),
        },
        Err(e) => format!("(not MIMI content: {e})"),
    }
}

fn line(r: &QueuedReport) -> String {
    let state = match &r.resolved {
        Some((_, note)) => format!("resolved: {note}"),
        None => "open".into(),
    };
    format!(
        "#{} {} reported {} in {} ({} message(s), from {}) {}",
        r.id,
        r.report.reporting_user.as_str(),
        r.report.alleged_abuser_uri.as_str(),
        r.room,
        r.report.messages.len(),
        r.peer,
        state
    )
}

pub(crate) fn run(args: &AdminArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the Tokio runtime")?;
    runtime.block_on(async {
        let AdminCommand::Reports(reports) = &args.command;
        match &reports.command {
            ReportsCommand::List { all, config } => {
                let accounts = Server::accounts(&Config::load(&config.config)?).await?;
                let mut after = 0;
                let mut shown = 0usize;
                loop {
                    let page = accounts.abuse_reports(!all, after, 200).await?;
                    let Some(last) = page.last() else { break };
                    after = last.id;
                    for r in &page {
                        println!("{}", line(r));
                    }
                    shown += page.len();
                }
                if shown == 0 {
                    println!("no {}reports", if *all { "" } else { "open " });
                }
                Ok(())
            }
            ReportsCommand::Show { id, config } => {
                let accounts = Server::accounts(&Config::load(&config.config)?).await?;
                let Some(r) = accounts.abuse_report(*id).await? else {
                    bail!("no report #{id} (see `mimi admin reports list --all`)");
                };
                println!("{}", line(&r));
                println!("received: {}", when(r.received_ms));
                if let Some((at, note)) = &r.resolved {
                    println!("resolved: {} — {note}", when(*at));
                }
                println!("note: {}", r.report.note);
                for (i, m) in r.report.messages.iter().enumerate() {
                    println!(
                        "message {i} (accepted {}): {}",
                        when(m.accepted_timestamp),
                        text_of(&m.message_content)
                    );
                }
                Ok(())
            }
            ReportsCommand::Resolve { id, note, config } => {
                let accounts = Server::accounts(&Config::load(&config.config)?).await?;
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                    .unwrap_or(0);
                if accounts.resolve_abuse_report(*id, now, note).await? {
                    println!("report #{id} resolved");
                    Ok(())
                } else {
                    bail!("no open report #{id} (see `mimi admin reports list --all`)")
                }
            }
        }
    })
}
