//! `mimi dm`: open (or create) the direct-message room with a user and optionally send to
//! it. Wiring of mimi-sdk and presentation only.

use super::args::DmArgs;
use super::*;

pub(super) async fn dm_command(a: DmArgs) -> anyhow::Result<()> {
    let out = a.common.out();
    let mut d = a.common.open().await?;
    let peer = user(&d, &a.user)?;
    let r = match d.open_direct(&peer).await {
        Err(mimi_sdk::SdkError::ConsentRequested { user }) => bail!(
            "asked {user} for consent to a direct message; run `mimi dm {}` again once they accept",
            a.user
        ),
        other => other?,
    };
    out.done("direct message", &r, json!({"with": peer.to_string()}));
    if let Some(text) = &a.text {
        let id = if a.markdown {
            d.send_markdown(&r, text).await?
        } else {
            d.send_text(&r, text).await?
        };
        out.sent("sent", &r, &id);
    }
    Ok(())
}
