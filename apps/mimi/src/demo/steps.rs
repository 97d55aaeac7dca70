//! The conversation steps of the story: each sends through the SDK, records what every member
//! device should now show in the model, narrates one line and waits until the devices agree.

use anyhow::Context as _;
use mimi_content::MessageId;
use mimi_sdk::FileInfo;

use super::model::{Shown, expiry};
use super::script::{CAST, Demo, device_name};

impl Demo {
    /// Records a sent message: its label, and the line every member should see.
    pub(super) fn posted(&mut self, id: MessageId, shown: &Shown) {
        self.labels.insert(id, shown.label.clone());
        self.order.push(shown.label.clone());
        self.model.post(shown);
    }

    pub(super) fn id_of(&self, label: &str) -> anyhow::Result<MessageId> {
        self.labels
            .iter()
            .find(|(_, l)| l.as_str() == label)
            .map(|(id, _)| *id)
            .with_context(|| format!("the script has no message {label}"))
    }

    /// Sends a message (and waits until every member shows it).
    pub(crate) async fn say(
        &mut self,
        actor: usize,
        label: &str,
        text: &str,
        markdown: bool,
    ) -> anyhow::Result<()> {
        let room = self.room.clone();
        let device = self.device(actor)?;
        let id = if markdown {
            device.send_markdown(&room, text).await
        } else {
            device.send_text(&room, text).await
        }
        .with_context(|| format!("{} sending {label}", device_name(actor)))?;
        let user = CAST.get(actor).map_or("?", |c| c.0);
        self.posted(id, &Shown::new(label, user, text));
        let kind = if markdown { " (Markdown)" } else { "" };
        self.narrate(
            Self::provider_of(actor),
            actor,
            &format!("says {text:?}{kind} {}", self.route()),
        );
        self.settle().await
    }

    /// Sends text that expires `after_s` seconds from now (and waits until every member
    /// shows it with its expiry).
    pub(crate) async fn say_expiring(
        &mut self,
        actor: usize,
        label: &str,
        text: &str,
        after_s: u32,
    ) -> anyhow::Result<()> {
        let room = self.room.clone();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .context("the system clock is before 1970")?
            .as_secs();
        let expires_at = u32::try_from(now)
            .context("the system clock is past 2106")?
            .saturating_add(after_s);
        let device = self.device(actor)?;
        let id = device
            .send_expiring(&room, text, expires_at)
            .await
            .with_context(|| format!("{} sending {label}", device_name(actor)))?;
        let user = CAST.get(actor).map_or("?", |c| c.0);
        let mut shown = Shown::new(label, user, text);
        shown.expires = Some(expiry(false, expires_at));
        self.posted(id, &shown);
        self.narrate(
            Self::provider_of(actor),
            actor,
            &format!(
                "says {text:?}, expiring {} {}",
                expiry(false, expires_at),
                self.route()
            ),
        );
        self.settle().await
    }

    /// Replies to `to`.
    pub(crate) async fn reply(
        &mut self,
        actor: usize,
        label: &str,
        to: &str,
        text: &str,
    ) -> anyhow::Result<()> {
        let room = self.room.clone();
        let target = self.id_of(to)?;
        let id = self
            .device(actor)?
            .reply(&room, target, text)
            .await
            .with_context(|| format!("{} replying", device_name(actor)))?;
        let user = CAST.get(actor).map_or("?", |c| c.0);
        let mut shown = Shown::new(label, user, text);
        shown.reply_to = Some(to.to_owned());
        self.posted(id, &shown);
        self.narrate(
            Self::provider_of(actor),
            actor,
            &format!("replies to {to}: {text:?} {}", self.route()),
        );
        self.settle().await
    }

    /// Reacts to `to`.
    pub(crate) async fn react(
        &mut self,
        actor: usize,
        label: &str,
        to: &str,
        reaction: &str,
    ) -> anyhow::Result<()> {
        let room = self.room.clone();
        let target = self.id_of(to)?;
        let id = self
            .device(actor)?
            .react(&room, target, reaction)
            .await
            .with_context(|| format!("{} reacting", device_name(actor)))?;
        self.labels.insert(id, label.to_owned());
        let user = CAST.get(actor).map_or("?", |c| c.0).to_owned();
        self.model.change(to, |m| {
            m.reactions
                .entry(reaction.to_owned())
                .or_default()
                .insert(user.clone());
        });
        self.narrate(
            Self::provider_of(actor),
            actor,
            &format!("reacts {reaction} to {to} {}", self.route()),
        );
        self.settle().await
    }

    /// Edits `target` (one of the actor's messages).
    pub(crate) async fn edit(
        &mut self,
        actor: usize,
        label: &str,
        target: &str,
        text: &str,
    ) -> anyhow::Result<()> {
        let room = self.room.clone();
        let id = self.id_of(target)?;
        let edit = self
            .device(actor)?
            .edit(&room, id, text)
            .await
            .with_context(|| format!("{} editing", device_name(actor)))?;
        self.labels.insert(edit, label.to_owned());
        self.model.change(target, |m| {
            m.text = text.to_owned();
            m.edited = true;
        });
        self.narrate(
            Self::provider_of(actor),
            actor,
            &format!("edits {target}: {text:?} {}", self.route()),
        );
        self.settle().await
    }

    /// Deletes `target`.
    pub(crate) async fn delete(
        &mut self,
        actor: usize,
        label: &str,
        target: &str,
    ) -> anyhow::Result<()> {
        let room = self.room.clone();
        let id = self.id_of(target)?;
        let delete = self
            .device(actor)?
            .delete(&room, id)
            .await
            .with_context(|| format!("{} deleting", device_name(actor)))?;
        self.labels.insert(delete, label.to_owned());
        self.model.change(target, |m| {
            m.deleted = true;
            m.text.clear();
            m.reactions.clear();
        });
        self.narrate(
            Self::provider_of(actor),
            actor,
            &format!("deletes {target} (a tombstone stays) {}", self.route()),
        );
        self.settle().await
    }

    /// Sends a file as an encrypted attachment; then every member device downloads it from
    /// the URL in the message, checks it against the message and decrypts it.
    pub(crate) async fn attach(
        &mut self,
        actor: usize,
        label: &str,
        file: &[u8],
        info: &FileInfo,
    ) -> anyhow::Result<()> {
        let room = self.room.clone();
        let id = self
            .device(actor)?
            .send_file(&room, file, info)
            .await
            .with_context(|| format!("{} sending {}", device_name(actor), info.filename))?;
        let user = CAST.get(actor).map_or("?", |c| c.0);
        let opened = format!(
            "{}, {} bytes: downloaded, checked, decrypted",
            info.filename,
            file.len()
        );
        let mut shown = Shown::new(label, user, "");
        shown.attachment = Some(opened.clone());
        self.posted(id, &shown);
        self.narrate(
            Self::provider_of(actor),
            actor,
            &format!(
                "sends {} encrypted: ciphertext stored by {} (blob route), key in the message {}",
                info.filename,
                Self::provider_of(actor),
                self.route()
            ),
        );
        // Every member must have the message before downloading it.
        let members: Vec<usize> = self.model.members().collect();
        self.settle_until(&format!("step {}", self.step), |demo| {
            members.iter().all(|d| {
                demo.devices
                    .get(*d)
                    .and_then(|dev| dev.engine().room(&demo.room))
                    .is_some_and(|v| v.message(&id).is_some())
            })
        })
        .await?;
        for d in members {
            let device = self.device(d)?;
            let result = match device.download(&room, id, 0).await {
                Ok(bytes) if bytes.as_slice() == file => opened.clone(),
                Ok(bytes) => format!(
                    "{}: the {} bytes downloaded and decrypted differ from what was sent",
                    info.filename,
                    bytes.len()
                ),
                Err(e) => format!("{}: {e}", info.filename),
            };
            self.opened.insert((d, label.to_owned()), result);
        }
        self.step += 1;
        println!(
            "  {:>2}. [x, y, z]   {:<15} download it from {}'s client API (the URL in the \
             message), check size and SHA-256, decrypt",
            self.step,
            "every member",
            Self::provider_of(actor)
        );
        self.settle().await
    }
}
