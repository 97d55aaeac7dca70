//! Presentation: human lines by default, one JSON object per line with `--json`.

use mimi_client_core::{MessageView, RoomView};
use mimi_content::MessageId;
use mimi_room::components::ServerCapabilities;
use mimi_sdk::{ClientEvent, Contacts, Device, ProfileView, UsersFound};
use mimi_types::{RoomUri, UserUri};
use serde_json::{Value, json};

/// Where and how to print.
pub(crate) struct Out {
    pub(crate) json: bool,
}

fn print_json(value: &Value) {
    println!("{value}");
}

fn message_json(m: &MessageView) -> Value {
    json!({
        "id": m.id.to_string(),
        "sender": m.sender.to_string(),
        "client": m.client.to_string(),
        "timestamp_ms": m.timestamp,
        "in_reply_to": m.in_reply_to.map(|id| id.to_string()),
        "text": m.body.text,
        "markdown": m.body.markdown,
        "attachments": m.body.attachments.iter().map(|a| json!({
            "filename": a.filename, "content_type": a.content_type, "size": a.size, "url": a.url,
        })).collect::<Vec<_>>(),
        "edits": m.edits,
        "deleted": m.deleted,
        "removed_by_provider": m.retracted.as_ref().map(|r| json!({
            "by": r.by.to_string(), "at_ms": r.at, "reason_code": r.reason_code,
        })),
        "reactions": m.reactions.iter().map(|(r, users)| {
            (r.clone(), json!(users.iter().map(ToString::to_string).collect::<Vec<_>>()))
        }).collect::<serde_json::Map<_, _>>(),
        "delivered_to": m.delivered_to.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "read_by": m.read_by.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

/// The receipt mark of one of `me`'s messages: `✓✓` read by every other member, `✓`
/// delivered to every other member, nothing otherwise (or for others' messages).
fn receipt_mark(v: &RoomView, m: &MessageView, me: &UserUri) -> &'static str {
    if &m.sender != me || m.deleted {
        return "";
    }
    let others: Vec<UserUri> = v
        .members()
        .into_iter()
        .map(|member| member.user)
        .filter(|u| u != me)
        .collect();
    if others.is_empty() {
        ""
    } else if others.iter().all(|u| m.read_by.contains(u)) {
        "  ✓✓"
    } else if others.iter().all(|u| m.delivered_to.contains(u)) {
        "  ✓"
    } else {
        ""
    }
}

fn short(id: &MessageId) -> String {
    id.to_string()[..8].to_owned()
}

fn message_line(m: &MessageView) -> String {
    let mut line = format!("[{}] {}: ", short(&m.id), m.sender);
    if let Some(to) = &m.in_reply_to {
        line.push_str(&format!("(reply to {}) ", short(to)));
    }
    if m.retracted.is_some() {
        line.push_str("<removed by the provider>");
    } else if m.deleted {
        line.push_str("<deleted>");
    } else {
        line.push_str(&m.body.text);
        for a in &m.body.attachments {
            line.push_str(&format!(" [file {} {} bytes]", a.filename, a.size));
        }
    }
    if m.edits > 0 {
        line.push_str(" (edited)");
    }
    for (reaction, users) in &m.reactions {
        line.push_str(&format!("  {reaction} {}", users.len()));
    }
    line
}

/// `mimi://b.example/u/bob` as `bob@b.example` (anything else as given).
fn at(uri: &str) -> String {
    match UserUri::parse(uri) {
        Ok(u) => format!("{}@{}", u.id().as_str(), u.domain()),
        Err(_) => uri.to_owned(),
    }
}

fn for_room(room: Option<&String>) -> String {
    room.map(|r| format!(" (room {r})")).unwrap_or_default()
}

impl Out {
    pub(crate) fn profile(&self, v: &ProfileView) {
        if self.json {
            print_json(&json!({
                "ok": "profile", "user": v.user, "handle": v.handle,
                "display_name": v.display_name, "searchable": v.searchable,
            }));
        } else {
            println!("{}", v.user);
            println!(
                "  handle:       {}",
                v.handle.as_deref().unwrap_or("(none)")
            );
            println!(
                "  display name: {}",
                v.display_name.as_deref().unwrap_or("(none)")
            );
            let searchable = if v.searchable.is_empty() {
                "(nothing: nobody can find you)".to_owned()
            } else {
                v.searchable.join(", ")
            };
            println!("  searchable:   {searchable}");
        }
    }

    pub(crate) fn found(&self, f: &UsersFound) {
        if self.json {
            let users: Vec<Value> = f
                .users
                .iter()
                .map(
                    |u| json!({"user": u.user, "handle": u.handle, "display_name": u.display_name}),
                )
                .collect();
            print_json(
                &json!({"ok": "find", "provider": f.provider, "code": f.code, "users": users}),
            );
            return;
        }
        match f.code.as_str() {
            "success" => {
                for u in &f.users {
                    let mut line = u.user.clone();
                    if let Some(h) = &u.handle {
                        line.push_str(&format!("  @{h}"));
                    }
                    if let Some(n) = &u.display_name {
                        line.push_str(&format!("  \"{n}\""));
                    }
                    println!("{line}");
                }
            }
            "notFound" => println!("nobody found on {}", f.provider),
            "ambiguous" => println!(
                "too many on {} match (or the query is too short); be more precise",
                f.provider
            ),
            "unsupportedField" => println!("{} does not search that field", f.provider),
            other => println!("{} answered {other}", f.provider),
        }
    }

    pub(crate) fn contacts(&self, c: &Contacts, only_requests: bool) {
        if self.json {
            match serde_json::to_value(c) {
                Ok(mut value) => {
                    if only_requests {
                        value = value["requests"].clone();
                        value = json!({ "requests": value });
                    }
                    print_json(&value);
                }
                Err(e) => eprintln!("cannot print the contacts: {e}"),
            }
            return;
        }
        if only_requests {
            if c.requests.is_empty() {
                println!("no consent requests waiting");
            }
            for r in &c.requests {
                println!(
                    "{} asks to add you to rooms{}: mimi contacts accept {} (or block)",
                    at(&r.user),
                    for_room(r.room.as_ref()),
                    at(&r.user)
                );
            }
            return;
        }
        let whose = if c.own_policy {
            "yours"
        } else {
            "the provider's default"
        };
        println!("policy: {} ({whose})", c.policy);
        println!("waiting for your answer: {}", c.requests.len());
        for r in &c.requests {
            println!("  {}{}", at(&r.user), for_room(r.room.as_ref()));
        }
        println!("contacts (may add you): {}", c.contacts.len());
        for contact in &c.contacts {
            match &contact.rooms {
                Some(rooms) => println!("  {} (rooms {})", at(&contact.user), rooms.join(", ")),
                None => println!("  {}", at(&contact.user)),
            }
        }
        println!("blocked: {}", c.blocked.len());
        for b in &c.blocked {
            println!("  {}", at(b));
        }
        println!(
            "your requests, and consent others gave you: {}",
            c.asked.len()
        );
        for a in &c.asked {
            let detail = a
                .detail
                .as_ref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            println!(
                "  {}{} {}{detail}",
                at(&a.user),
                for_room(a.room.as_ref()),
                a.status
            );
        }
    }

    pub(crate) fn contact_done(&self, what: &str, user: &UserUri, after: &Contacts) {
        if self.json {
            print_json(&json!({"ok": what, "user": user.to_string(), "contacts": after}));
        } else {
            println!("{what}: {}", at(&user.to_string()));
        }
    }

    pub(crate) fn registered(&self, what: &str, user: &UserUri, device: &Device) {
        if self.json {
            print_json(&json!({
                "ok": what, "user": user.to_string(), "client": device.client_uri().to_string(),
                "server": device.server(), "file": device.path().display().to_string(),
            }));
        } else {
            println!(
                "{what}: {user}, device {} on {}\nprofile file: {}",
                device.client_uri(),
                device.server(),
                device.path().display()
            );
        }
    }

    pub(crate) fn done(&self, what: &str, room: &RoomUri, extra: Value) {
        if self.json {
            let mut value = json!({"ok": what, "room": room.to_string()});
            if let (Value::Object(map), Value::Object(more)) = (&mut value, extra) {
                map.extend(more);
            }
            print_json(&value);
        } else {
            let detail = match &extra {
                Value::Object(map) if !map.is_empty() => format!(" {extra}"),
                _ => String::new(),
            };
            println!("{what}: {room}{detail}");
        }
    }

    /// The rooms of a provider's directory.
    pub(crate) fn directory(&self, rooms: &[mimi_sdk::DirectoryRoom]) {
        if self.json {
            let rooms: Vec<Value> = rooms
                .iter()
                .map(|r| {
                    json!({
                        "room": r.room, "name": r.name, "topic": r.topic,
                        "participants": r.participants, "open": r.open,
                    })
                })
                .collect();
            print_json(&json!({"ok": "directory", "rooms": rooms}));
            return;
        }
        if rooms.is_empty() {
            println!("no discoverable rooms found");
        }
        for r in rooms {
            let how = if r.open {
                "open: mimi room join"
            } else {
                "ask for an invite or link"
            };
            let topic = if r.topic.is_empty() {
                String::new()
            } else {
                format!(" - {}", r.topic)
            };
            println!(
                "{} {:?}{topic} ({} participants; {how})",
                r.room, r.name, r.participants
            );
        }
    }

    /// A listing about `room`: `value` with `--json`, else a heading and `lines`.
    pub(crate) fn listing(&self, what: &str, room: &RoomUri, value: Value, lines: &[String]) {
        if self.json {
            print_json(&json!({"ok": what, "room": room.to_string(), what: value}));
        } else {
            println!("{what} of {room}:");
            for line in lines {
                println!("  {line}");
            }
        }
    }

    pub(crate) fn sent(&self, what: &str, room: &RoomUri, id: &MessageId) {
        if self.json {
            print_json(&json!({"ok": what, "room": room.to_string(), "id": id.to_string()}));
        } else {
            println!("{what} in {room}: {id}");
        }
    }

    pub(crate) fn rooms(&self, views: &[&RoomView]) {
        if self.json {
            print_json(&json!(
                views
                    .iter()
                    .map(|v| json!({
                        "room": v.room().to_string(), "name": v.name(), "active": v.is_active(),
                        "members": v.members().len(), "messages": v.messages().len(),
                        "direct_with": v.direct_peer().map(ToString::to_string),
                    }))
                    .collect::<Vec<_>>()
            ));
            return;
        }
        if views.is_empty() {
            println!("no rooms yet: `mimi room create NAME`, or wait for an invitation");
        }
        for v in views {
            let name = match v.direct_peer() {
                Some(peer) => format!("direct message with {peer}"),
                None if v.name().is_empty() => "-".to_owned(),
                None => v.name().to_owned(),
            };
            println!(
                "{}  {}{} ({} members, {} messages)",
                v.room(),
                name,
                if v.is_active() { "" } else { " [left]" },
                v.members().len(),
                v.messages().len()
            );
        }
    }

    pub(crate) fn info(&self, v: &RoomView) {
        let caps: Vec<String> = v
            .my_capabilities()
            .iter()
            .map(ToString::to_string)
            .collect();
        let servers = mimi_client_core::ServerAccess::of(v.state());
        if self.json {
            print_json(&json!({
                "room": v.room().to_string(), "name": v.name(), "topic": v.topic(),
                "epoch": v.epoch(), "active": v.is_active(), "members": v.members().len(),
                "my_capabilities": caps,
                "policy_enforcer": v.enforcer().map(|e| json!({"user": e.user.to_string(), "role": e.role_name})),
                "direct_with": v.direct_peer().map(ToString::to_string),
                "servers": super::servers::server_json(&servers),
                "ended_by": v.state().ended().map(|e| e.ended_by.to_string()),
            }));
        } else {
            println!("room:    {}", v.room());
            println!("name:    {}", v.name());
            println!("topic:   {}", v.topic());
            println!("epoch:   {}", v.epoch());
            println!(
                "member:  {}",
                if v.is_active() {
                    "yes"
                } else {
                    "no (left or removed)"
                }
            );
            println!("members: {}", v.members().len());
            if let Some(e) = v.state().ended() {
                println!(
                    "ended:   by {} (nothing more can be sent, changed or joined)",
                    e.ended_by
                );
            }
            if let Some(peer) = v.direct_peer() {
                println!(
                    "direct:  a direct message with {peer} (fixed membership: nobody can be added or removed)"
                );
            }
            match v.enforcer() {
                Some(e) => println!(
                    "hub:     {} enforces the policy ({}: may remove devices, ban, change roles)",
                    v.room().hub_domain(),
                    e.role_name
                ),
                None => println!(
                    "hub:     {} has no role in this room (it cannot remove revoked devices)",
                    v.room().hub_domain()
                ),
            }
            println!("you may: {}", caps.join(", "));
            let taking_part: Vec<String> = servers
                .servers
                .iter()
                .filter(|s| s.taking_part)
                .map(|s| s.domain.to_string())
                .collect();
            println!("servers: {}", taking_part.join(", "));
            let restricted: Vec<String> = servers
                .servers
                .iter()
                .filter(|s| s.capabilities != ServerCapabilities::ALL)
                .map(|s| format!("{} ({})", s.domain, s.capabilities))
                .collect();
            println!(
                "access:  {}{}",
                super::servers::mode_name(servers.mode),
                if restricted.is_empty() {
                    String::new()
                } else {
                    format!("; restricted: {}", restricted.join(", "))
                }
            );
        }
    }

    pub(crate) fn members(&self, v: &RoomView) {
        let members = v.members();
        if self.json {
            print_json(&json!(
                members
                    .iter()
                    .map(|m| json!({
                        "user": m.user.to_string(), "role": m.role.0, "role_name": m.role_name,
                        "clients": m.clients.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        "banned": m.banned,
                    }))
                    .collect::<Vec<_>>()
            ));
            return;
        }
        for m in members {
            println!(
                "{}  {} ({}){}  {} device(s)",
                m.user,
                m.role_name,
                m.role.0,
                if m.banned { " [banned]" } else { "" },
                m.clients.len()
            );
        }
    }

    pub(crate) fn settings(&self, d: &Device) {
        if self.json {
            print_json(&json!({
                "ok": "settings",
                "read_receipts": d.read_receipts(),
                "delivery_reports": d.delivery_reports(),
            }));
            return;
        }
        let on = |b: bool| if b { "on" } else { "off" };
        println!("read receipts: {}", on(d.read_receipts()));
        println!("delivery reports: {}", on(d.delivery_reports()));
    }

    pub(crate) fn history(&self, v: &RoomView, me: &UserUri) {
        if self.json {
            print_json(&json!({
                "room": v.room().to_string(),
                "messages": v.messages().iter().map(message_json).collect::<Vec<_>>(),
            }));
            return;
        }
        println!(
            "{} {}",
            v.room(),
            if v.name().is_empty() { "" } else { v.name() }
        );
        for m in v.messages() {
            println!("{}{}", message_line(m), receipt_mark(v, m, me));
        }
    }

    pub(crate) fn listening(&self, device: &Device) {
        if !self.json {
            eprintln!("listening as {} (Ctrl-C to stop)", device.client_uri());
        }
    }

    pub(crate) fn event(&self, device: &Device, event: &ClientEvent) {
        let (kind, room, detail): (&str, Option<&RoomUri>, Value) = match event {
            ClientEvent::Joined { room } => ("joined", Some(room), json!({})),
            ClientEvent::Removed { room } => ("removed", Some(room), json!({})),
            ClientEvent::RoomChanged { room, epoch } => {
                ("room_changed", Some(room), json!({"epoch": epoch}))
            }
            ClientEvent::Timeline { room, message } => {
                let view = device
                    .engine()
                    .room(room)
                    .and_then(|v| v.message(message))
                    .map(message_json)
                    .unwrap_or_else(|| json!({"id": message.to_string()}));
                ("message", Some(room), view)
            }
            ClientEvent::RoomEnded { room, ended_by } => (
                "room_ended",
                Some(room),
                json!({"ended_by": ended_by.to_string()}),
            ),
            ClientEvent::ProposalsPending { room } => ("proposals_pending", Some(room), json!({})),
            ClientEvent::Rejected { room, rejection } => (
                "rejected",
                Some(room),
                json!({"why": format!("{rejection:?}")}),
            ),
            ClientEvent::Refused { room, refusal, .. } => {
                ("refused", Some(room), json!({"why": refusal.to_string()}))
            }
            ClientEvent::Queued { room, refusal, .. } => {
                ("queued", Some(room), json!({"why": refusal.to_string()}))
            }
            ClientEvent::Resent { room, .. } => ("resent", Some(room), json!({})),
            ClientEvent::CommitFailed { room, epoch, error } => (
                "commit_failed",
                Some(room),
                json!({"epoch": epoch, "why": error}),
            ),
            ClientEvent::Rejoined { room, epoch } => {
                ("rejoined", Some(room), json!({"epoch": epoch}))
            }
            ClientEvent::Typing(t) => (
                "typing",
                Some(&t.room),
                json!({"user": t.user.to_string(), "active": t.active}),
            ),
            ClientEvent::StatusChanged { room, message } => {
                let view = device
                    .engine()
                    .room(room)
                    .and_then(|v| v.message(message))
                    .map(message_json)
                    .unwrap_or_else(|| json!({"id": message.to_string()}));
                ("receipts", Some(room), view)
            }
            ClientEvent::HistoryImported {
                room,
                from,
                entries,
            } => (
                "history_imported",
                Some(room),
                json!({"from": from.to_string(), "entries": entries}),
            ),
            ClientEvent::HistoryRefused { room, from, error } => (
                "history_refused",
                Some(room),
                json!({"from": from.to_string(), "why": error.to_string()}),
            ),
            other => ("other", None, json!({"event": format!("{other:?}")})),
        };
        if self.json {
            print_json(&json!({
                "event": kind, "room": room.map(ToString::to_string), "detail": detail,
            }));
            return;
        }
        let room_text = room.map(ToString::to_string).unwrap_or_default();
        match event {
            ClientEvent::Timeline { room, message } => {
                match device.engine().room(room).and_then(|v| v.message(message)) {
                    Some(m) => println!("{room}  {}", message_line(m)),
                    None => println!("{room}  (message {} changed)", short(message)),
                }
            }
            ClientEvent::Typing(t) => println!(
                "{room_text}  {} {}",
                t.user,
                if t.active {
                    "is typing…"
                } else {
                    "stopped typing"
                }
            ),
            ClientEvent::Queued { refusal, .. } => {
                println!("{room_text}  a message was not sent and is queued: {refusal}")
            }
            ClientEvent::StatusChanged { room, message } => {
                if let Some(m) = device.engine().room(room).and_then(|v| v.message(message)) {
                    println!(
                        "{room_text}  [{}] delivered to {}, read by {}",
                        short(message),
                        m.delivered_to.len(),
                        m.read_by.len()
                    );
                }
            }
            ClientEvent::CommitFailed { epoch, error, .. } => println!(
                "{room_text}  cannot follow the room (this device stays in epoch {epoch}): \
                 a commit was refused: {error}; rejoining"
            ),
            ClientEvent::Rejoined { epoch, .. } => println!(
                "{room_text}  rejoined in epoch {epoch} (history kept; what was sent while \
                 this device was behind cannot be read)"
            ),
            _ => println!("{room_text}  {kind} {detail}"),
        }
    }
}
