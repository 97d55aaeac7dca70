//! `mimi admin`: operator tools that work on a provider's database beside `mimi serve`.
//! Wiring and presentation only.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use mimi_content::{MimiContent, PartBody};
use mimi_room::components::{HubRetractedMessages, HubRetractedRange, HubRetraction};
use mimi_server::abuse_queue::QueuedReport;
use mimi_server::{Config, Server};
use mimi_types::RoomUri;

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
    /// Have this provider's hub retract messages in a room it hosts
    /// (hub-retracted-messages-00): by message ID, or every message of a sender (from a time
    /// on). `mimi serve` carries it out; this waits for its outcome.
    Retract {
        /// The room (hosted by this provider).
        #[arg(long)]
        room: String,
        /// A MIMI message ID to retract (64 hex digits); repeat for more.
        #[arg(long = "message", conflicts_with_all = ["sender", "since"])]
        messages: Vec<String>,
        /// Retract every message of this user instead.
        #[arg(long)]
        sender: Option<String>,
        /// With --sender: only messages the hub accepted at or after this time
        /// (milliseconds since the UNIX epoch).
        #[arg(long, requires = "sender")]
        since: Option<u64>,
        /// The reason (an AbuseType code).
        #[arg(long)]
        reason: Option<u8>,
        #[command(flatten)]
        config: ConfigArg,
    },
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
        /// Also have the hub retract the reported messages from every member's view
        /// (`mimi serve` must be running; the outcome is added to the note).
        #[arg(long)]
        retract: bool,
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

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Queues a retraction and waits (up to 30 s) for `mimi serve` to carry it out; returns the
/// outcome.
async fn retract(
    accounts: &mimi_server::accounts::Accounts,
    room: &RoomUri,
    retraction: &HubRetraction,
    report: Option<u64>,
) -> anyhow::Result<String> {
    let id = accounts
        .request_retraction(room, retraction, report, now_ms())
        .await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(r) = accounts.retraction_request(id).await?
            && let Some((_, outcome)) = r.done
            && outcome != "being carried out"
        {
            return Ok(outcome);
        }
        if std::time::Instant::now() > deadline {
            bail!(
                "retraction #{id} is queued but not carried out yet: is `mimi serve` running for \
                 this configuration? It will be sent when the server runs"
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

fn parse_message_id(hex: &str) -> anyhow::Result<[u8; 32]> {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect::<Option<_>>()
        .with_context(|| format!("message ID {hex:?} is not hexadecimal"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("message ID {hex:?} is not 32 octets (64 hex digits)"))
}

pub(crate) fn run(args: &AdminArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the Tokio runtime")?;
    runtime.block_on(async {
        let reports = match &args.command {
            AdminCommand::Reports(reports) => reports,
            AdminCommand::Retract {
                room,
                messages,
                sender,
                since,
                reason,
                config,
            } => {
                let accounts = Server::accounts(&Config::load(&config.config)?).await?;
                let room: RoomUri = room.parse().context("--room is not a MIMI room URI")?;
                let remover = mimi_room::presets::hub_service_user(room.hub_domain());
                let retraction = match sender {
                    Some(sender) => HubRetraction::Range(HubRetractedRange {
                        hub_retracted_timestamp: 0,
                        remover_uri: remover,
                        reason_code: *reason,
                        abusive_sender_uri: sender
                            .parse()
                            .context("--sender is not a MIMI user URI")?,
                        starting_timestamp: *since,
                    }),
                    None => {
                        if messages.is_empty() {
                            bail!("name the messages (--message ID, repeated) or a --sender");
                        }
                        HubRetraction::Messages(HubRetractedMessages {
                            hub_retracted_timestamp: 0,
                            remover_uri: remover,
                            reason_code: *reason,
                            retracted_messages: messages
                                .iter()
                                .map(|m| parse_message_id(m))
                                .collect::<anyhow::Result<_>>()?,
                        })
                    }
                };
                let outcome = retract(&accounts, &room, &retraction, None).await?;
                println!("{outcome}");
                if outcome.starts_with("refused") {
                    bail!("the hub refused the retraction");
                }
                return Ok(());
            }
        };
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
            ReportsCommand::Resolve {
                id,
                note,
                retract: with_retraction,
                config,
            } => {
                let accounts = Server::accounts(&Config::load(&config.config)?).await?;
                let mut note = note.clone();
                if *with_retraction {
                    let Some(r) = accounts.abuse_report(*id).await? else {
                        bail!("no report #{id} (see `mimi admin reports list --all`)");
                    };
                    if r.resolved.is_some() {
                        bail!("report #{id} is resolved already");
                    }
                    let ids = r.message_ids();
                    if ids.is_empty() {
                        bail!("report #{id} carries no message to retract");
                    }
                    let retraction = HubRetraction::Messages(HubRetractedMessages {
                        hub_retracted_timestamp: 0,
                        remover_uri: mimi_room::presets::hub_service_user(r.room.hub_domain()),
                        reason_code: Some(r.report.reason_code.value()),
                        retracted_messages: ids,
                    });
                    let outcome = retract(&accounts, &r.room, &retraction, Some(*id)).await?;
                    println!("{outcome}");
                    if outcome.starts_with("refused") {
                        bail!("the hub refused the retraction; report #{id} stays open");
                    }
                    note = format!("{note} (hub: {outcome})");
                }
                if accounts.resolve_abuse_report(*id, now_ms(), &note).await? {
                    println!("report #{id} resolved");
                    Ok(())
                } else {
                    bail!("no open report #{id} (see `mimi admin reports list --all`)")
                }
            }
        }
    })
}
