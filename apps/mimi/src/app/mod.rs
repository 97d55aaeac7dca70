//! `mimi app`: a web client served by the user's own `mimi` process on 127.0.0.1.
//!
//! The page talks to this process only: its JSON API and WebSocket drive the profile's
//! [`mimi_sdk::Device`] exactly as the CLI does, so keys and MLS state stay in the device's
//! file and the provider never sees plaintext. Wiring and presentation only:
//!
//! * [`worker`]: the one thread that owns the device, syncs it and runs the page's requests;
//! * [`guard`]: the token of this run, and the `Host`/`Origin` checks against DNS rebinding
//!   and other sites;
//! * [`api`]: the JSON routes, [`live`]: the WebSocket of live updates, [`views`]: what the
//!   page shows of rooms and messages as JSON, [`people`]: contact requests and user search;
//! * [`assets`]: the page itself (HTML, CSS and JavaScript written here, embedded in the
//!   binary: no build step).

mod api;
mod assets;
mod guard;
mod live;
mod people;
mod views;
mod worker;

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context as _;
use clap::Args;
use serde_json::json;

use crate::client_cmd::Common;

/// `mimi app`.
#[derive(Debug, Args)]
pub(crate) struct AppArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    /// The port to listen on (on 127.0.0.1 only); 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub(crate) port: u16,
    /// Open the page in the default browser (`xdg-open`, `open` on macOS).
    #[arg(long)]
    pub(crate) open: bool,
}

/// Runs `mimi app` until interrupted.
pub(crate) fn run(args: &AppArgs) -> anyhow::Result<()> {
    let file = args.common.device_file()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args, file))
}

async fn serve(args: &AppArgs, file: std::path::PathBuf) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((
        Ipv4Addr::LOCALHOST,
        args.port,
    )))
    .await
    .with_context(|| {
        format!(
            "cannot listen on 127.0.0.1:{}: pick another port with --port (0 for any free one)",
            args.port
        )
    })?;
    let port = listener
        .local_addr()
        .context("cannot read the listening address")?
        .port();
    let (handle, who) = worker::start(file).await?;
    let guard = guard::Guard::new(port);
    let url = format!("http://127.0.0.1:{port}/#token={}", guard.token());
    if args.common.json {
        println!(
            "{}",
            json!({"url": url, "user": who.user, "device": who.device})
        );
    } else {
        println!("mimi app for {} (device {})", who.user, who.device);
        println!("open {url}");
        println!(
            "(this link holds the key to your chats for as long as this process runs: keep it to yourself; Ctrl-C stops the app)"
        );
    }
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    if args.open {
        open_browser(&url);
    }
    let app = api::router(handle, guard);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the app's web server failed")
}

/// Opens `url` in the desktop's browser; says so when it cannot.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(opener)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("note: cannot run {opener} ({e}): open the link above yourself");
    }
}
