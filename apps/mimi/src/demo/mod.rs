//! `mimi demo`: the MIMI architecture figure, end to end, on three real providers.
//!
//! x.example (Alice, Bob), y.example (the hub: Charlie with two devices) and z.example (Diana,
//! Evelyn) are `mimi-server` providers started in this process with fresh keys in a data
//! directory: mutual TLS between them on 127.0.0.1, SQLite files, the client API over HTTP.
//! Six `mimi_sdk::Device`s talk to them over that client API. The story ([`script`]) is
//! narrated step by step; then every device's decrypted transcript is printed, what crossed
//! which provider (the hub's `GET /metrics`), the proof that Bob cannot read what followed his
//! removal ([`proof`]), and a verdict per device. Exits non-zero unless every device saw
//! exactly what the model of the story says it should.

mod federation;
mod model;
mod output;
mod proof;
mod script;
mod steps;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};

use federation::{DOMAINS, Federation, HUB, metrics, per_peer, route_total, total};
use script::{AFTER_BOB, CAST, Demo, ROOM, device_name, password};

/// How the transcripts are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Layout {
    /// Side by side: one band per provider, its devices in columns, one row per message.
    Table,
    /// One block per device.
    Blocks,
}

/// Options of `mimi demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Keep the providers running after the demo and print how to connect the CLI to them
    /// (Ctrl-C stops them).
    #[arg(long)]
    keep_running: bool,
    /// Keep the providers' and devices' data in DIR (created; must not hold a demo already).
    /// Default: a temporary directory removed at exit.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Client API ports BASE, BASE+1, BASE+2 and federation ports BASE+10.. for x, y, z
    /// (default: ports the system picks).
    #[arg(long, value_name = "BASE")]
    base_port: Option<u16>,
    /// How to lay out the transcripts.
    #[arg(long, value_enum, default_value_t = Layout::Table)]
    layout: Layout,
    /// Width of the transcripts in columns.
    #[arg(long, default_value_t = 112)]
    width: usize,
}

pub(crate) fn run(args: &DemoArgs) -> anyhow::Result<()> {
    if args.width < 60 {
        bail!("--width must be at least 60 (got {})", args.width);
    }
    let temp;
    let dir: &Path = match &args.data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the data directory {}", dir.display()))?;
            dir
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("mimi-demo-")
                .tempdir()
                .context("creating a temporary directory")?;
            temp.path()
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mimi-demo")
        .enable_all()
        .build()
        .context("starting the Tokio runtime")?;
    let result = runtime.block_on(demo(args, dir));
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    result
}

async fn demo(args: &DemoArgs, dir: &Path) -> anyhow::Result<()> {
    println!("MIMI demo: three providers, one room, six devices, end-to-end encrypted with MLS.");
    println!(
        "x.example (Alice, Bob) and z.example (Diana, Evelyn) follow; y.example (Charlie, two \
         devices) hosts the room."
    );
    println!(
        "Data in {}{}",
        dir.display(),
        if args.data_dir.is_some() {
            ""
        } else {
            " (temporary, removed at exit; --data-dir keeps it)"
        }
    );
    let mut federation = Federation::start(&dir.join("providers"), args.base_port).await?;
    let outcome = story(args, dir, &federation).await;
    if args.keep_running {
        keep_running(&federation, dir, args.data_dir.is_some()).await?;
    }
    federation.shutdown().await;
    outcome
}

/// The story, the transcripts, the crossing summary, the checks.
async fn story(args: &DemoArgs, dir: &Path, federation: &Federation) -> anyhow::Result<()> {
    let mut demo = Demo::register(federation, &dir.join("devices")).await?;
    println!("  registered 5 users and 6 devices (each with a SQLite file and KeyPackages)\n");
    println!("What happens:");
    // A step that fails stops the story; what the devices show is printed and checked anyway.
    let played = demo.play().await;
    if let Err(e) = &played {
        println!("  the story stopped: {e:#}");
    }

    println!("\nWhat each device decrypted and shows:\n");
    let views = demo.views();
    match args.layout {
        Layout::Table => print!("{}", output::table(&views, &demo.order, args.width)),
        Layout::Blocks => print!("{}", output::blocks(&views, args.width)),
    }

    crossings(federation).await?;

    println!("\nBob after his removal:");
    let proof = match &played {
        Ok(()) => proof::bob_cannot_read(&demo, federation).await,
        Err(_) => Err(anyhow::anyhow!("not checked: the story stopped before")),
    };
    let bob_ok = match proof {
        Ok(p) => {
            println!(
                "  the hub fanned {AFTER_BOB:?} out as an MLS PrivateMessage ({} bytes, epoch {})",
                p.ciphertext_bytes, p.message_epoch
            );
            println!(
                "  x.example {} it in bob/laptop's feed (the server keeps a removed device's feed)",
                if p.in_bobs_feed {
                    "also stored"
                } else {
                    "did not store"
                }
            );
            println!(
                "  a copy of Bob's MLS state (removed at epoch {}: that commit's secrets went to \
                 the others only) refuses to decrypt it:\n    {}",
                p.bob_epoch, p.refusal
            );
            true
        }
        Err(e) => {
            println!("  FAIL: {e:#}");
            false
        }
    };

    println!("\nVerdict:");
    let views = demo.views();
    let mut failed = 0;
    for (d, (shown, expected)) in views.iter().zip(&demo.model.views).enumerate() {
        match shown.difference(expected) {
            None => println!(
                "  PASS {:<26} {} messages, {}",
                device_name(d),
                shown.messages.len(),
                if shown.active {
                    "member"
                } else {
                    "not a member"
                }
            ),
            Some(difference) => {
                failed += 1;
                println!("  FAIL {:<26} {difference}", device_name(d));
            }
        }
    }
    if !bob_ok || played.is_err() {
        failed += 1;
    }
    if failed > 0 {
        bail!("{failed} checks failed (see FAIL above)");
    }
    println!(
        "\nEvery device saw exactly what it should; Bob cannot read what followed his removal."
    );
    Ok(())
}

/// What crossed which provider, from each provider's `GET /metrics`.
async fn crossings(federation: &Federation) -> anyhow::Result<()> {
    let hub = federation.hub()?;
    // The hub's queues drain shortly after the last delivery (an acknowledgement may lag).
    let mut hub_metrics = metrics(hub.client_addr).await?;
    for _ in 0..50 {
        if total(&hub_metrics, "mimi_outbound_queue_depth") == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        hub_metrics = metrics(hub.client_addr).await?;
    }
    println!("What crossed which provider (the providers' GET /metrics):");
    println!(
        "  hub {} accepted {} messages (submitMessage) and fanned out every message and commit:",
        hub.domain,
        total(&hub_metrics, "mimi_hub_messages_accepted_total")
    );
    for (p, domain) in DOMAINS.iter().enumerate() {
        let who: Vec<String> = CAST
            .iter()
            .enumerate()
            .filter(|(_, c)| c.2 == p)
            .map(|(d, _)| device_name(d))
            .map(|n| n.split('@').next().unwrap_or_default().to_owned())
            .collect();
        let how = if p == HUB {
            "the hub's own devices, in-process"
        } else {
            "follower, mutual TLS"
        };
        println!(
            "    notify → {domain}: {:>3} requests, {:>3} acknowledged carrying {:>3} messages, {} failed ({how}; {})",
            per_peer(&hub_metrics, "mimi_notify_sends_total", domain),
            per_peer(&hub_metrics, "mimi_notify_acks_total", domain),
            per_peer(&hub_metrics, "mimi_notify_items_acked_total", domain),
            per_peer(&hub_metrics, "mimi_notify_failures_total", domain),
            who.join(", ")
        );
    }
    let mut requests = Vec::new();
    for provider in federation.providers() {
        let m = metrics(provider.client_addr).await?;
        requests.push(format!(
            "{} {}",
            provider.domain,
            total(&m, "mimi_http_requests_total")
        ));
        let (uploads, downloads) = (route_total(&m, "/v1/blobs"), route_total(&m, "/v1/assets"));
        if uploads + downloads > 0 {
            println!(
                "  blobs at {}: {uploads} uploaded, {downloads} downloaded by its devices \
                 (ciphertext, fetched from the uploader's provider with proxyDownload; the key \
                 travels only inside the MLS message)",
                provider.domain
            );
        }
    }
    println!(
        "  client API requests from the devices: {}",
        requests.join(", ")
    );
    Ok(())
}

/// Prints how to reach the providers and waits for Ctrl-C.
async fn keep_running(federation: &Federation, dir: &Path, kept: bool) -> anyhow::Result<()> {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "mimi".to_owned());
    println!("\nThe providers keep running:");
    for provider in federation.providers() {
        println!(
            "  {:<10} client API {}   config {}",
            provider.domain.as_str(),
            provider.base_url(),
            provider.config_path.display()
        );
    }
    println!(
        "Data directory: {} ({})",
        dir.display(),
        if kept {
            "kept; restart a provider later with `mimi serve --config <its config>`"
        } else {
            "removed when the demo stops; use --data-dir to keep it"
        }
    );
    let (user, _, p) = CAST[0];
    let server = federation
        .providers()
        .get(p)
        .map(|pr| pr.base_url())
        .unwrap_or_default();
    let profile = dir.join("cli").join(user);
    let profile = profile.display();
    println!("Connect the CLI as {user} (a new device that joins the room by external commit):");
    println!(
        "  {exe} account login --server {server} --user {user} --password {} --device-id cli --profile {profile}",
        password(user)
    );
    println!("  {exe} room join {ROOM} --profile {profile}");
    println!("  {exe} history {ROOM} --profile {profile}");
    println!("  {exe} send {ROOM} \"hello from the CLI\" --profile {profile}");
    println!("  {exe} listen --profile {profile}");
    print_app_commands(federation, dir, &exe);
    println!("Ctrl-C stops the providers.");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    println!("\nstopping the providers");
    Ok(())
}

/// For each demo user: a browser device (logged in, joined to the room by external commit) and
/// the `mimi app` that serves its page.
fn print_app_commands(federation: &Federation, dir: &Path, exe: &str) {
    println!(
        "Chat in the browser as each demo user (a new device \"browser\" that joins {ROOM} by \
         external commit; Bob was removed from it, so his join is refused):"
    );
    let mut seen = Vec::new();
    for (user, _, p) in CAST {
        if seen.contains(&user) {
            continue;
        }
        seen.push(user);
        let server = federation
            .providers()
            .get(p)
            .map(|pr| pr.base_url())
            .unwrap_or_default();
        let profile = dir.join("app").join(user);
        let profile = profile.display();
        println!("  {user}:");
        println!(
            "    {exe} account login --server {server} --user {user} --password {} \
             --device-id browser --profile {profile}",
            password(user)
        );
        println!("    {exe} room join {ROOM} --profile {profile}");
        println!("    {exe} app --open --profile {profile}");
    }
}
