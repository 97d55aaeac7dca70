//! `mimi room servers list|allow|deny|mode`: a room's server access list and the providers
//! taking part. Wiring of mimi-sdk and presentation only; mimi-client-core and mimi-room
//! decide what a change needs.

use mimi_client_core::{ServerAccess, ServerMode};
use mimi_room::components::ServerCapabilities;
use mimi_types::Domain;
use serde_json::Value;

use super::args::{ServerChangeArgs, ServersCommand};
use super::*;

/// The mode's name as the commands take it.
pub(super) fn mode_name(mode: ServerMode) -> &'static str {
    match mode {
        ServerMode::Open => "open",
        ServerMode::AllowList => "allow-list",
        ServerMode::DenyList => "deny-list",
    }
}

/// One line per provider: `b.example  join,keymaterial,submit  (taking part, listed)`.
pub(super) fn server_lines(access: &ServerAccess) -> Vec<String> {
    let mut lines = vec![format!("mode: {}", mode_name(access.mode))];
    for s in &access.servers {
        let mut notes = Vec::new();
        if s.taking_part {
            notes.push("taking part");
        }
        if s.listed {
            notes.push("listed");
        }
        lines.push(format!(
            "{}  {}  ({})",
            s.domain,
            s.capabilities,
            notes.join(", ")
        ));
    }
    lines
}

/// The JSON form of [`server_lines`].
pub(super) fn server_json(access: &ServerAccess) -> Value {
    json!({
        "mode": mode_name(access.mode),
        "servers": access.servers.iter().map(|s| json!({
            "provider": s.domain.to_string(),
            "capabilities": s.capabilities.to_string(),
            "taking_part": s.taking_part,
            "listed": s.listed,
        })).collect::<Vec<_>>(),
    })
}

pub(super) async fn servers_command(command: ServersCommand) -> anyhow::Result<()> {
    match command {
        ServersCommand::List(a) => {
            let out = a.common.out();
            let d = a.common.open_to_read().await?;
            let r = room(&d, &a.room)?;
            let view = d.history(&r)?;
            let access = ServerAccess::of(view.state());
            out.listing("servers", &r, server_json(&access), &server_lines(&access));
            Ok(())
        }
        ServersCommand::Allow(a) => change(a, true).await,
        ServersCommand::Deny(a) => change(a, false).await,
        ServersCommand::Mode(a) => {
            let out = a.common.out();
            let mode = match a.mode.as_str() {
                "open" => ServerMode::Open,
                "allow-list" => ServerMode::AllowList,
                "deny-list" => ServerMode::DenyList,
                other => bail!("{other:?} is not a server mode; use open, deny-list or allow-list"),
            };
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            d.set_server_mode(&r, mode).await?;
            out.done("server mode changed", &r, json!({"mode": a.mode}));
            Ok(())
        }
    }
}

async fn change(a: ServerChangeArgs, allow: bool) -> anyhow::Result<()> {
    let out = a.common.out();
    let domain: Domain = a
        .provider
        .parse()
        .map_err(|e| anyhow!("{:?} is not a provider domain: {e}", a.provider))?;
    let caps = match &a.only {
        Some(text) => ServerCapabilities::parse_list(text).map_err(|e| anyhow!(e))?,
        None => ServerCapabilities::ALL,
    };
    let mut d = a.common.open().await?;
    let r = room(&d, &a.room)?;
    d.change_server_access(&r, &domain, allow, caps).await?;
    let what = if allow {
        "server allowed"
    } else {
        "server denied"
    };
    out.done(
        what,
        &r,
        json!({"provider": domain.to_string(), "capabilities": caps.to_string()}),
    );
    Ok(())
}
