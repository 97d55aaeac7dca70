//! What each device should show, and what it does show, in one comparable form.
//!
//! The script keeps a [`Model`]: who is a member when, and how each message, edit, delete and
//! reaction changes the timeline of every device that is a member at that moment. A device's
//! real view ([`mimi_sdk::RoomView`], decrypted by its own MLS state) is turned into the same
//! form ([`actual`]) and the two must be equal.

use std::collections::{BTreeMap, BTreeSet};

use mimi_content::MessageId;
use mimi_sdk::{Device, MessageView};
use mimi_types::RoomUri;

/// One line of a transcript: a message with its edits, delete and reactions applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shown {
    /// The script's name for the message (`hello`, `reply`, ...).
    pub(crate) label: String,
    /// The sending user's id.
    pub(crate) sender: String,
    /// The label of the message it replies to.
    pub(crate) reply_to: Option<String>,
    /// The current text.
    pub(crate) text: String,
    /// Whether it was edited.
    pub(crate) edited: bool,
    /// Whether it was deleted (a tombstone).
    pub(crate) deleted: bool,
    /// Reaction → user ids.
    pub(crate) reactions: BTreeMap<String, BTreeSet<String>>,
    /// The expiry, as shown.
    pub(crate) expires: Option<String>,
    /// The attachment: what the device downloaded, checked and decrypted.
    pub(crate) attachment: Option<String>,
}

impl Shown {
    /// A new message of `sender` with `text`.
    pub(crate) fn new(label: &str, sender: &str, text: &str) -> Self {
        Self {
            label: label.to_owned(),
            sender: sender.to_owned(),
            reply_to: None,
            text: text.to_owned(),
            edited: false,
            deleted: false,
            reactions: BTreeMap::new(),
            expires: None,
            attachment: None,
        }
    }

    /// The line a transcript prints.
    pub(crate) fn render(&self) -> String {
        if self.deleted {
            return format!("{}: (deleted)", self.sender);
        }
        let mut line = format!("{}: ", self.sender);
        if let Some(to) = &self.reply_to {
            line.push_str(&format!("↪ {to}: "));
        }
        line.push_str(&self.text);
        if let Some(attachment) = &self.attachment {
            line.push_str(&format!("[file {attachment}]"));
        }
        if self.edited {
            line.push_str(" (edited)");
        }
        if let Some(expires) = &self.expires {
            line.push_str(&format!(" (expires {expires})"));
        }
        for (reaction, users) in &self.reactions {
            let users: Vec<&str> = users.iter().map(String::as_str).collect();
            line.push_str(&format!(" [{reaction} {}]", users.join(",")));
        }
        line
    }
}

/// What one device shows of the room.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct DeviceView {
    /// Whether the device is a member.
    pub(crate) active: bool,
    /// Participants (users) while a member; 0 once not.
    pub(crate) participants: usize,
    /// Their devices in the MLS group while a member; 0 once not.
    pub(crate) devices: usize,
    /// The timeline.
    pub(crate) messages: Vec<Shown>,
}

impl DeviceView {
    /// The first difference from `other` (expected), as a sentence.
    pub(crate) fn difference(&self, expected: &Self) -> Option<String> {
        if self.active != expected.active {
            return Some(format!(
                "is {}a member, should {}be",
                if self.active { "" } else { "not " },
                if expected.active { "" } else { "not " }
            ));
        }
        if (self.participants, self.devices) != (expected.participants, expected.devices) {
            return Some(format!(
                "sees {} participants with {} devices, should see {} with {}",
                self.participants, self.devices, expected.participants, expected.devices
            ));
        }
        let rows = self.messages.len().max(expected.messages.len());
        for i in 0..rows {
            match (self.messages.get(i), expected.messages.get(i)) {
                (Some(a), Some(e)) if a == e => {}
                (Some(a), Some(e)) => {
                    return Some(format!(
                        "message {}: shows {:?}, should show {:?}",
                        i + 1,
                        a.render(),
                        e.render()
                    ));
                }
                (Some(a), None) => {
                    return Some(format!("shows {:?}, which it should not", a.render()));
                }
                (None, Some(e)) => return Some(format!("misses {:?}", e.render())),
                (None, None) => {}
            }
        }
        None
    }
}

/// The expected state of every device, kept by the script as it goes.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    /// The user id of each device.
    users: Vec<String>,
    /// Devices that are members now.
    members: BTreeSet<usize>,
    /// What each device should show.
    pub(crate) views: Vec<DeviceView>,
}

impl Model {
    /// No device in the room yet; `users[i]` is device i's user id.
    pub(crate) fn new(users: &[&str]) -> Self {
        Self {
            users: users.iter().map(|u| (*u).to_owned()).collect(),
            members: BTreeSet::new(),
            views: vec![DeviceView::default(); users.len()],
        }
    }

    fn refresh_participants(&mut self) {
        let participants: BTreeSet<&String> = self
            .members
            .iter()
            .filter_map(|d| self.users.get(*d))
            .collect();
        let count = participants.len();
        let devices = self.members.len();
        for (device, view) in self.views.iter_mut().enumerate() {
            view.active = self.members.contains(&device);
            view.participants = if view.active { count } else { 0 };
            view.devices = if view.active { devices } else { 0 };
        }
    }

    /// Devices join (they see what is posted from now on).
    pub(crate) fn join(&mut self, devices: &[usize]) {
        self.members.extend(devices);
        self.refresh_participants();
    }

    /// Devices leave or are removed (their timeline stays as it is).
    pub(crate) fn leave(&mut self, devices: &[usize]) {
        for d in devices {
            self.members.remove(d);
        }
        self.refresh_participants();
    }

    /// The member devices now, in order.
    pub(crate) fn members(&self) -> impl Iterator<Item = usize> + '_ {
        self.members.iter().copied()
    }

    /// Every member sees `message` appended.
    pub(crate) fn post(&mut self, message: &Shown) {
        for d in &self.members {
            if let Some(view) = self.views.get_mut(*d) {
                view.messages.push(message.clone());
            }
        }
    }

    /// Every member sees `target` changed by `change`.
    pub(crate) fn change(&mut self, target: &str, change: impl Fn(&mut Shown)) {
        for d in &self.members {
            if let Some(view) = self.views.get_mut(*d) {
                for message in view.messages.iter_mut().filter(|m| m.label == target) {
                    change(message);
                }
            }
        }
    }
}

/// What `device` shows of `room`, in the model's form: `labels` names the script's messages,
/// `attachment` says what the device made of the attachment of a message (by label).
pub(crate) fn actual(
    device: &Device,
    room: &RoomUri,
    labels: &BTreeMap<MessageId, String>,
    attachment: &dyn Fn(&str) -> Option<String>,
) -> DeviceView {
    let Some(view) = device.engine().room(room) else {
        return DeviceView::default();
    };
    let label_of = |id: &MessageId| labels.get(id).cloned().unwrap_or_else(|| "?".to_owned());
    let messages = view
        .messages()
        .iter()
        .map(|m: &MessageView| {
            let label = label_of(&m.id);
            let mut reactions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (reaction, users) in &m.reactions {
                reactions.insert(
                    reaction.clone(),
                    users.iter().map(|u| u.id().to_string()).collect(),
                );
            }
            Shown {
                reply_to: m.in_reply_to.as_ref().map(label_of),
                text: m.body.text.clone(),
                edited: m.edits > 0,
                deleted: m.deleted,
                reactions,
                expires: m.expires.map(|e| expiry(e.relative, e.time)),
                attachment: if m.body.attachments.is_empty() {
                    None
                } else {
                    Some(attachment(&label).unwrap_or_else(|| "not opened".to_owned()))
                },
                sender: m.sender.id().to_string(),
                label,
            }
        })
        .collect();
    let active = view.is_active();
    let members = if active { view.members() } else { Vec::new() };
    DeviceView {
        active,
        participants: members.len(),
        devices: members.iter().map(|m| m.clients.len()).sum(),
        messages,
    }
}

/// An expiry as the transcripts show it.
pub(crate) fn expiry(relative: bool, time: u32) -> String {
    if relative {
        format!("{time} s after reading")
    } else {
        let of_day = time % 86_400;
        format!("at {:02}:{:02} UTC", of_day / 3600, of_day % 3600 / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_at_the_time_see_posts_and_changes() {
        let mut model = Model::new(&["alice", "bob", "bob"]);
        model.join(&[0, 1]);
        model.post(&Shown::new("hi", "alice", "Hi"));
        model.join(&[2]);
        model.leave(&[0]);
        model.change("hi", |m| m.edited = true);
        assert!(!model.views[0].messages[0].edited);
        assert!(model.views[1].messages[0].edited);
        assert!(model.views[2].messages.is_empty());
        assert_eq!(model.views[1].participants, 1);
        assert_eq!(model.views[0].participants, 0);
        assert!(!model.views[0].active);
    }

    #[test]
    fn differences_name_the_first_wrong_line() {
        let mut expected = DeviceView {
            active: true,
            participants: 2,
            devices: 2,
            messages: vec![
                Shown::new("a", "alice", "one"),
                Shown::new("b", "bob", "two"),
            ],
        };
        let mut shown = expected.clone();
        assert_eq!(shown.difference(&expected), None);
        shown.messages.pop();
        assert!(
            shown
                .difference(&expected)
                .unwrap()
                .contains("misses \"bob: two\"")
        );
        expected.messages.pop();
        shown.messages[0].deleted = true;
        assert!(
            shown
                .difference(&expected)
                .unwrap()
                .contains("shows \"alice: (deleted)\"")
        );
        shown.active = false;
        assert!(
            shown
                .difference(&expected)
                .unwrap()
                .contains("not a member")
        );
    }

    #[test]
    fn lines_show_replies_edits_reactions_and_expiry() {
        let mut m = Shown::new("r", "diana", "Hi Alice");
        m.reply_to = Some("hello".into());
        m.edited = true;
        m.expires = Some(expiry(false, 3600 * 25 + 60 * 7));
        m.reactions
            .entry("❤".into())
            .or_default()
            .extend(["alice".to_owned(), "bob".to_owned()]);
        assert_eq!(
            m.render(),
            "diana: ↪ hello: Hi Alice (edited) (expires at 01:07 UTC) [❤ alice,bob]"
        );
    }
}
