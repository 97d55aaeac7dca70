//! Messages that act on earlier ones: reactions aggregated on their target, and edits,
//! deletes and unlikes checked with [`check_replacement`] and the room policy, then applied.

use std::collections::{BTreeMap, BTreeSet};

use mimi_content::{
    Disposition, MessageId, MimiContent, NestedPart, Original, PartBody, ReplaceAuthority,
    check_replacement,
};
use mimi_types::UserUri;
use mimi_types::codepoints::media_type;

use super::{Body, Entry, Reaction, Rejection, RoomView, body_of};

impl RoomView {
    /// `user`'s reactions that still stand: target message → reaction text → the reaction's
    /// own message ID (what an unreact names).
    pub fn reactions_by(&self, user: &UserUri) -> BTreeMap<MessageId, BTreeMap<String, MessageId>> {
        let mut found: BTreeMap<MessageId, BTreeMap<String, MessageId>> = BTreeMap::new();
        for (id, reaction) in &self.reactions {
            if &reaction.reactor == user && !reaction.removed {
                let texts = found.entry(reaction.target).or_default();
                for text in &reaction.texts {
                    texts.insert(text.clone(), *id);
                }
            }
        }
        found
    }

    pub(super) fn react(
        &mut self,
        id: MessageId,
        entry: &Entry,
        content: MimiContent,
    ) -> MessageId {
        let target = content.in_reply_to.unwrap_or(id);
        let texts = reaction_texts(&content.nested_part);
        if let Some(message) = self
            .by_id
            .get(&target)
            .and_then(|i| self.messages.get_mut(*i))
        {
            for text in &texts {
                message
                    .reactions
                    .entry(text.clone())
                    .or_default()
                    .insert(entry.sender.clone());
            }
        }
        self.reactions.insert(
            id,
            Reaction {
                target,
                reactor: entry.sender.clone(),
                texts,
                content,
                removed: false,
                timestamp: entry.timestamp,
            },
        );
        target
    }

    /// The live message a replacement targets.
    fn target_of(&self, entry: &Entry, content: &MimiContent) -> Result<usize, Rejection> {
        let unknown = |target| Rejection::UnknownTarget {
            sender: entry.sender.clone(),
            target,
        };
        let target = content.replaces.ok_or_else(|| Rejection::InvalidContent {
            sender: entry.sender.clone(),
            error: "a replacement without replaces".into(),
        })?;
        let index = *self.by_id.get(&target).ok_or_else(|| unknown(target))?;
        match self.messages.get(index) {
            Some(m) if !m.deleted => Ok(index),
            _ => Err(unknown(target)),
        }
    }

    fn check(
        &self,
        index: usize,
        entry: &Entry,
        content: &MimiContent,
        authority: ReplaceAuthority,
    ) -> Result<MessageId, Rejection> {
        let Some(target) = self.messages.get(index) else {
            return Err(Rejection::InvalidContent {
                sender: entry.sender.clone(),
                error: "replacement target vanished".into(),
            });
        };
        let author = target.sender.to_string();
        let original = Original {
            id: target.id,
            sender_uri: author.as_bytes(),
            content: &target.original,
        };
        check_replacement(
            &original,
            content,
            entry.sender.to_string().as_bytes(),
            authority,
        )
        .map_err(|error| Rejection::Replacement {
            sender: entry.sender.clone(),
            target: target.id,
            error,
        })?;
        Ok(target.id)
    }

    pub(super) fn edit(
        &mut self,
        entry: &Entry,
        content: &MimiContent,
        check_policy: bool,
    ) -> Result<MessageId, Rejection> {
        let index = self.target_of(entry, content)?;
        let target = self.check(index, entry, content, ReplaceAuthority::OriginalSenderOnly)?;
        if check_policy && let Some(m) = self.messages.get(index) {
            self.allowed(
                &entry.sender,
                self.state.may_edit_message(&entry.sender, &m.sender),
            )?;
        }
        if let Some(m) = self.messages.get_mut(index) {
            m.body = body_of(&content.nested_part);
            m.edits = m.edits.saturating_add(1);
        }
        Ok(target)
    }

    pub(super) fn delete(
        &mut self,
        entry: &Entry,
        content: &MimiContent,
        check_policy: bool,
    ) -> Result<MessageId, Rejection> {
        let index = self.target_of(entry, content)?;
        let author = self
            .messages
            .get(index)
            .map(|m| m.sender.clone())
            .ok_or_else(|| Rejection::InvalidContent {
                sender: entry.sender.clone(),
                error: "replacement target vanished".into(),
            })?;
        if check_policy {
            self.allowed(
                &entry.sender,
                self.state.may_delete_message(&entry.sender, &author),
            )?;
        }
        let authority = if author == entry.sender {
            ReplaceAuthority::OriginalSenderOnly
        } else {
            ReplaceAuthority::PolicyAuthorized
        };
        let target = self.check(index, entry, content, authority)?;
        if let Some(m) = self.messages.get_mut(index) {
            m.body = Body::default();
            m.deleted = true;
            m.reactions.clear();
        }
        Ok(target)
    }

    pub(super) fn unlike(
        &mut self,
        entry: &Entry,
        content: &MimiContent,
        check_policy: bool,
    ) -> Result<MessageId, Rejection> {
        let unknown = |target| Rejection::UnknownTarget {
            sender: entry.sender.clone(),
            target,
        };
        let id = content.replaces.ok_or_else(|| Rejection::InvalidContent {
            sender: entry.sender.clone(),
            error: "an unlike without replaces".into(),
        })?;
        let reaction = self
            .reactions
            .get(&id)
            .filter(|r| !r.removed)
            .ok_or_else(|| unknown(id))?;
        if check_policy {
            self.allowed(
                &entry.sender,
                self.state
                    .may_delete_reaction(&entry.sender, &reaction.reactor),
            )?;
        }
        let authority = if reaction.reactor == entry.sender {
            ReplaceAuthority::OriginalSenderOnly
        } else {
            ReplaceAuthority::PolicyAuthorized
        };
        let reactor = reaction.reactor.to_string();
        let original = Original {
            id,
            sender_uri: reactor.as_bytes(),
            content: &reaction.content,
        };
        check_replacement(
            &original,
            content,
            entry.sender.to_string().as_bytes(),
            authority,
        )
        .map_err(|error| Rejection::Replacement {
            sender: entry.sender.clone(),
            target: id,
            error,
        })?;
        let target = reaction.target;
        self.withdraw_reaction(&id);
        Ok(target)
    }

    /// Withdraws the standing reaction `id` (an unlike, or the hub's retraction): marks it
    /// removed and takes its reactor off each of its texts on the target, unless another
    /// standing reaction of theirs to that target keeps the text. Returns the target, or
    /// `None` where no standing reaction has that ID.
    pub(super) fn withdraw_reaction(&mut self, id: &MessageId) -> Option<MessageId> {
        let reaction = self.reactions.get_mut(id).filter(|r| !r.removed)?;
        reaction.removed = true;
        let (target, reactor, texts) = (
            reaction.target,
            reaction.reactor.clone(),
            reaction.texts.clone(),
        );
        // The user may still stand behind the same reaction text through another reaction.
        let still: BTreeSet<String> = self
            .reactions
            .values()
            .filter(|r| !r.removed && r.target == target && r.reactor == reactor)
            .flat_map(|r| r.texts.iter().cloned())
            .collect();
        if let Some(m) = self
            .by_id
            .get(&target)
            .and_then(|i| self.messages.get_mut(*i))
        {
            for text in texts.iter().filter(|t| !still.contains(*t)) {
                if let Some(users) = m.reactions.get_mut(text) {
                    users.remove(&reactor);
                    if users.is_empty() {
                        m.reactions.remove(text);
                    }
                }
            }
        }
        Some(target)
    }
}

fn reaction_texts(part: &NestedPart) -> Vec<String> {
    let mut out = Vec::new();
    part.walk(&mut |_, _, p| {
        if let PartBody::Single(single) = &p.body
            && p.disposition.effective() == Disposition::REACTION
            && single.content_type.starts_with(media_type::TEXT_PLAIN)
        {
            out.push(String::from_utf8_lossy(&single.content).into_owned());
        }
    });
    out
}
