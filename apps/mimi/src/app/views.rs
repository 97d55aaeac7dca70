//! What the page shows, as JSON: the room list (unread counts, last message) and one room
//! (members with roles, the timeline with replies, reactions, edits, deletes, expiries,
//! attachments and receipts). Texts are data: the page escapes everything it shows.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use mimi_content::MessageId;
use mimi_sdk::{MessageView, RoomView};
use mimi_types::{RoomUri, UserUri};
use serde_json::{Value, json};

/// Seconds since the UNIX epoch.
pub(crate) fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `bob@y.example` for `mimi://y.example/u/bob`.
pub(crate) fn short_user(user: &UserUri) -> String {
    format!("{}@{}", user.id().as_str(), user.domain().as_str())
}

/// The name a room is listed under: the other user of a direct message, else its name, else
/// its identifier.
fn title(view: &RoomView) -> String {
    if let Some(peer) = view.direct_peer() {
        short_user(peer)
    } else if view.name().is_empty() {
        view.room().id().as_str().to_owned()
    } else {
        view.name().to_owned()
    }
}

/// The common character references of Markdown text as characters (senders escape `<` as
/// `&lt;`: GFM-MIMI "No HTML"), for a plain-text preview.
fn unescape(markdown: &str) -> String {
    markdown
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// A one-line preview of a message.
fn preview(m: &MessageView) -> String {
    if m.retracted.is_some() {
        return "message removed by the provider".into();
    }
    if m.deleted {
        return "message deleted".into();
    }
    let first = m.body.text.lines().next().unwrap_or("");
    let first = if m.body.markdown {
        unescape(first)
    } else {
        first.to_owned()
    };
    let mut text: String = first.chars().take(80).collect();
    if let (true, Some(a)) = (text.is_empty(), m.body.attachments.first()) {
        text = format!("📎 {}", a.filename);
    }
    text
}

/// The room list, the most recently active first. `seen`: messages the page marked read
/// (not counted as unread even before the read receipt comes back, or with receipts off).
pub(crate) fn rooms(
    views: &[&RoomView],
    me: &UserUri,
    seen: &BTreeMap<RoomUri, BTreeSet<MessageId>>,
) -> Value {
    let now = now_s();
    let mut list: Vec<(u64, Value)> = views
        .iter()
        .map(|v| {
            let last = v.visible_messages(now).last();
            let unread = v
                .unread_from_others()
                .iter()
                .filter(|id| v.message(id).is_some_and(|m| !m.is_expired(now)))
                .filter(|id| !seen.get(v.room()).is_some_and(|s| s.contains(id)))
                .count();
            let value = json!({
                "room": v.room().to_string(),
                "title": title(v),
                "topic": v.topic(),
                "active": v.is_active(),
                "members": v.members().len(),
                "unread": unread,
                "last": last.map(|m| json!({
                    "sender": short_user(&m.sender),
                    "mine": &m.sender == me,
                    "text": preview(m),
                    "timestamp_ms": m.timestamp,
                })),
            });
            (last.map_or(0, |m| m.timestamp), value)
        })
        .collect();
    list.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    Value::Array(list.into_iter().map(|(_, v)| v).collect())
}

/// `✓✓` read by every other member, `✓` delivered to every other member, else sent.
fn receipt(m: &MessageView, others: &[UserUri]) -> &'static str {
    if others.is_empty() {
        "sent"
    } else if others.iter().all(|u| m.read_by.contains(u)) {
        "read"
    } else if others.iter().all(|u| m.delivered_to.contains(u)) {
        "delivered"
    } else {
        "sent"
    }
}

fn message(
    v: &RoomView,
    m: &MessageView,
    me: &UserUri,
    others: &[UserUri],
    mine: &BTreeMap<MessageId, BTreeMap<String, MessageId>>,
) -> Value {
    let reply_to = m.in_reply_to.map(|id| match v.message(&id) {
        Some(t) => json!({"id": id.to_string(), "sender": short_user(&t.sender), "text": preview(t)}),
        None => json!({"id": id.to_string(), "sender": null, "text": "a message this device does not have"}),
    });
    let own_reactions = mine.get(&m.id);
    let reactions: Vec<Value> = m
        .reactions
        .iter()
        .filter(|(_, users)| !users.is_empty())
        .map(|(text, users)| {
            json!({
                "text": text,
                "users": users.iter().map(short_user).collect::<Vec<_>>(),
                "mine": own_reactions.and_then(|r| r.get(text)).map(ToString::to_string),
            })
        })
        .collect();
    let is_mine = &m.sender == me;
    json!({
        "id": m.id.to_string(),
        "sender": short_user(&m.sender),
        "mine": is_mine,
        "timestamp_ms": m.timestamp,
        "reply_to": reply_to,
        "text": m.body.text,
        "markdown": m.body.markdown,
        "attachments": m.body.attachments.iter().enumerate().map(|(i, a)| json!({
            "index": i, "filename": a.filename, "content_type": a.content_type,
            "size": a.size, "description": a.description,
        })).collect::<Vec<_>>(),
        "edits": m.edits,
        "deleted": m.deleted,
        "removed_by_provider": m.retracted.is_some(),
        "expires_at": m.expires.filter(|e| !e.relative).map(|e| e.time),
        "reactions": reactions,
        "receipt": if is_mine && !m.deleted { Some(receipt(m, others)) } else { None },
        "delivered_to": m.delivered_to.iter().filter(|u| *u != me).map(short_user).collect::<Vec<_>>(),
        "read_by": m.read_by.iter().filter(|u| *u != me).map(short_user).collect::<Vec<_>>(),
        "may_edit": !m.deleted && is_mine && v.may_edit(m).is_ok(),
        "may_delete": !m.deleted && v.may_delete(m).is_ok(),
    })
}

/// One room: what the conversation view shows.
pub(crate) fn room(v: &RoomView, me: &UserUri, typing: Vec<String>) -> Value {
    let now = now_s();
    let members = v.members();
    let others: Vec<UserUri> = members
        .iter()
        .map(|m| m.user.clone())
        .filter(|u| u != me)
        .collect();
    let mine = v.reactions_by(me);
    let caps = v.my_capabilities();
    json!({
        "room": v.room().to_string(),
        "title": title(v),
        "name": v.name(),
        "topic": v.topic(),
        "active": v.is_active(),
        "me": short_user(me),
        "may_send": v.is_active() && v.may_send().is_ok(),
        "may_react": v.is_active() && v.may_react().is_ok(),
        "may_invite": v.is_active() && caps.contains(&mimi_room::Capability::CAN_ADD_PARTICIPANT),
        "members": members.iter().map(|m| json!({
            "user": short_user(&m.user),
            "uri": m.user.to_string(),
            "me": &m.user == me,
            "role": m.role.0,
            "role_name": if m.role_name.is_empty() { format!("role {}", m.role.0) } else { m.role_name.clone() },
            "devices": m.clients.len(),
            "banned": m.banned,
        })).collect::<Vec<_>>(),
        "messages": v.visible_messages(now).map(|m| message(v, m, me, &others, &mine)).collect::<Vec<_>>(),
        "typing": typing.iter().filter(|u| *u != &me.to_string()).filter_map(|u| UserUri::parse(u).ok()).map(|u| short_user(&u)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn previews_show_escaped_markup_as_text() {
        assert_eq!(
            unescape("&lt;b>raw&lt;/b> &amp;lt; &quot;x&quot;"),
            "<b>raw</b> &lt; \"x\""
        );
    }
}
