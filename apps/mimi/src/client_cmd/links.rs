//! `mimi room link create|list|revoke`: a room's join links. Wiring of mimi-sdk and
//! presentation only.

use super::args::LinkCommand;
use super::rooms::role;
use super::*;

pub(super) async fn link_command(command: LinkCommand) -> anyhow::Result<()> {
    match command {
        LinkCommand::Create(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let index = role(&d, &r, &a.role)?;
            let not_after = if a.expires_in == 0 {
                0
            } else {
                now_s().saturating_add(a.expires_in)
            };
            let link = d.create_join_link(&r, index, not_after, a.uses).await?;
            let text = mimi_client_core::format_join_link(&r, &link.code);
            out.done(
                "join link created (shown once; share it with whoever should join)",
                &r,
                json!({
                    "link": text,
                    "role": index.0,
                    "not_after": not_after,
                    "uses": a.uses,
                }),
            );
            Ok(())
        }
        LinkCommand::List(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let links: Vec<_> = d
                .join_links(&r)?
                .into_iter()
                .map(|(i, t)| {
                    json!({
                        "index": i,
                        "role": t.role_index.0,
                        "not_after": t.not_after,
                        "uses_left": t.uses_left,
                    })
                })
                .collect();
            out.done("join links", &r, json!({ "links": links }));
            Ok(())
        }
        LinkCommand::Revoke(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            d.revoke_join_link(&r, a.index).await?;
            out.done("join link revoked", &r, json!({"index": a.index}));
            Ok(())
        }
    }
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
