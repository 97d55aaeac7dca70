//! `mimi room policy|roles|preauth` and `room create --grant`: a room's policy, role
//! definitions and preauthorization. Wiring of mimi-sdk and presentation only; what each
//! change needs is decided by mimi-client-core and mimi-room.

use mimi_client_core::{PolicySetting, RoleEdit, parse_capability};
use mimi_room::Capability;
use mimi_room::RoomState;
use mimi_room::components::{Claim, OID_ISSUER_ALT_NAME, PreAuthRoleEntry};
use mimi_types::Domain;
use serde_json::Value;

use super::args::{PreauthCommand, RolesArgs, RoomPolicyArgs};
use super::rooms::role;
use super::*;

/// `--grant ROLE=CAPABILITY` of `room create`, resolved against the preset's roles.
pub(super) fn grants(
    preset: Preset,
    texts: &[String],
) -> anyhow::Result<Vec<(RoleIndex, Capability)>> {
    let roles = preset.roles();
    texts
        .iter()
        .map(|text| {
            let (name, cap) = text
                .split_once('=')
                .ok_or_else(|| anyhow!("--grant takes ROLE=CAPABILITY, not {text:?}"))?;
            let index = match name.parse::<u32>() {
                Ok(n) => RoleIndex(n),
                Err(_) => roles
                    .roles
                    .iter()
                    .find(|r| r.role_name == name)
                    .map(|r| r.role_index)
                    .ok_or_else(|| {
                        let known: Vec<&str> =
                            roles.roles.iter().map(|r| r.role_name.as_str()).collect();
                        anyhow!(
                            "the preset has no role {name:?}; roles: {}",
                            known.join(", ")
                        )
                    })?,
            };
            Ok((index, parse_capability(cap)?))
        })
        .collect()
}

fn on(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

fn limit(v: Option<u32>) -> String {
    v.map_or_else(|| "none".to_owned(), |n| n.to_string())
}

/// The policy as `key = value` lines (the keys `room policy` takes where there is one).
fn policy_lines(state: &RoomState) -> Vec<String> {
    let base = state.base_policy();
    let mut lines = vec![
        format!("fixed-membership = {}", on(base.fixed_membership)),
        format!("discoverable = {}", on(base.discoverable)),
        format!("multi-device = {}", on(base.multi_device)),
        format!("persistent = {}", on(base.persistent_room)),
        format!("pseudonyms = {}", on(base.pseudonyms_allowed)),
        format!("max-users = {}", limit(base.max_users)),
        format!("max-clients = {}", limit(base.max_clients)),
    ];
    let mut show = |key: &str, value: Option<String>| {
        lines.push(format!(
            "{key} = {}",
            value.unwrap_or_else(|| "none (not set)".into())
        ));
    };
    show("history", state.history_policy().map(|h| format!("{h:?}")));
    show(
        "expiration",
        state.message_expiration().map(|e| format!("{e:?}")),
    );
    show("logging", state.logging_policy().map(|l| format!("{l:?}")));
    show(
        "status-notifications",
        state.status_notification_policy().map(|s| format!("{s:?}")),
    );
    show(
        "join-link-policy",
        state.join_link_policy().map(|p| format!("{p:?}")),
    );
    show(
        "assets",
        state
            .asset_policy()
            .map(mimi_client_core::describe_asset_policy),
    );
    show(
        "link-previews",
        state
            .link_preview_policy()
            .map(|p| format!("{:?}", p.send_link_previews).to_ascii_lowercase()),
    );
    show(
        "external-commits",
        Some(on(state.may_commit_externally().is_ok()).to_owned()),
    );
    show(
        "external-proposals",
        Some(on(state.may_propose_externally().is_ok()).to_owned()),
    );
    show(
        "bots",
        state.bot_policy().map(|b| {
            b.allowed_bots
                .iter()
                .map(|b| format!("{} (role {})", b.name, b.bot_role_index.0))
                .collect::<Vec<_>>()
                .join(", ")
        }),
    );
    show(
        "preauth",
        state
            .preauth()
            .map(|p| format!("{} entries", p.preauthorized_entries.len())),
    );
    lines
}

pub(super) async fn policy_command(a: RoomPolicyArgs) -> anyhow::Result<()> {
    let out = a.common.out();
    if a.settings.is_empty() {
        let d = a.common.open_to_read().await?;
        let r = room(&d, &a.room)?;
        let view = d.history(&r)?;
        let lines = policy_lines(view.state());
        let value: Value = lines
            .iter()
            .filter_map(|l| l.split_once(" = "))
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect::<serde_json::Map<_, _>>()
            .into();
        out.listing("policy", &r, value, &lines);
        return Ok(());
    }
    let settings = a
        .settings
        .iter()
        .map(|s| s.parse::<PolicySetting>().map_err(|e| anyhow!(e)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut d = a.common.open().await?;
    let r = room(&d, &a.room)?;
    d.set_policy(&r, &settings).await?;
    out.done("policy changed", &r, json!({"settings": a.settings}));
    Ok(())
}

fn capability_names(caps: &[Capability]) -> Vec<String> {
    caps.iter().map(ToString::to_string).collect()
}

pub(super) async fn roles_command(a: RolesArgs) -> anyhow::Result<()> {
    let out = a.common.out();
    let Some(role_text) = &a.role else {
        if !a.grant.is_empty() || !a.revoke.is_empty() {
            bail!("name the role to change: mimi room roles ROOM ROLE --grant CAPABILITY");
        }
        let d = a.common.open_to_read().await?;
        let r = room(&d, &a.room)?;
        let view = d.history(&r)?;
        let roles = &view.state().roles().roles;
        let lines: Vec<String> = roles
            .iter()
            .map(|role| {
                format!(
                    "{} {}: {}",
                    role.role_index.0,
                    role.role_name,
                    capability_names(&role.role_capabilities).join(" ")
                )
            })
            .collect();
        let value = json!(
            roles
                .iter()
                .map(|role| json!({
                    "index": role.role_index.0,
                    "name": role.role_name,
                    "capabilities": capability_names(&role.role_capabilities),
                }))
                .collect::<Vec<_>>()
        );
        out.listing("roles", &r, value, &lines);
        return Ok(());
    };
    if a.grant.is_empty() && a.revoke.is_empty() {
        bail!("say what to change: --grant CAPABILITY and/or --revoke CAPABILITY");
    }
    let edit = RoleEdit {
        grant: a
            .grant
            .iter()
            .map(|c| parse_capability(c))
            .collect::<Result<_, _>>()?,
        revoke: a
            .revoke
            .iter()
            .map(|c| parse_capability(c))
            .collect::<Result<_, _>>()?,
    };
    let mut d = a.common.open().await?;
    let r = room(&d, &a.room)?;
    let index = role(&d, &r, role_text)?;
    d.edit_role(&r, index, &edit).await?;
    out.done(
        "role changed",
        &r,
        json!({"role": index.0, "granted": a.grant, "revoked": a.revoke}),
    );
    Ok(())
}

/// An entry as text: its claims, readably where they are ours.
fn entry_text(e: &PreAuthRoleEntry) -> String {
    let claims: Vec<String> = e
        .claimset
        .iter()
        .map(|c| {
            let value = String::from_utf8_lossy(&c.claim_value);
            if c.claim_id.id == OID_ISSUER_ALT_NAME {
                format!("issued by {value}")
            } else {
                format!("credential names {value}")
            }
        })
        .collect();
    format!(
        "{} ({}) if {}",
        e.target_role.role_name,
        e.target_role.role_index.0,
        claims.join(" and ")
    )
}

pub(super) async fn preauth_command(command: PreauthCommand) -> anyhow::Result<()> {
    match command {
        PreauthCommand::List(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let entries = d.preauth(&r)?;
            let lines: Vec<String> = entries
                .iter()
                .enumerate()
                .map(|(i, e)| format!("{i}: {}", entry_text(e)))
                .collect();
            let value = json!(
                entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| json!({"index": i, "role": e.target_role.role_index.0, "entry": entry_text(e)}))
                    .collect::<Vec<_>>()
            );
            out.listing("preauth", &r, value, &lines);
            Ok(())
        }
        PreauthCommand::Add(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let index = role(&d, &r, &a.role)?;
            let claims = match (&a.provider, &a.user) {
                (Some(provider), _) => {
                    let domain: Domain = provider
                        .parse()
                        .map_err(|e| anyhow!("{provider:?} is not a provider domain: {e}"))?;
                    vec![Claim::x509_issuer(&domain)]
                }
                (None, Some(u)) => vec![Claim::x509_subject_uri(&user(&d, u)?.to_string())],
                (None, None) => bail!("say whom: --provider DOMAIN or --user USER"),
            };
            d.add_preauth(&r, claims, index).await?;
            out.done("preauthorized", &r, json!({"role": index.0}));
            Ok(())
        }
        PreauthCommand::Remove(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            d.remove_preauth(&r, a.index).await?;
            out.done("preauthorization removed", &r, json!({"index": a.index}));
            Ok(())
        }
    }
}
