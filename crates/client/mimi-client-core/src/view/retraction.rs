//! The hub's retractions in the view (hub-retracted-messages-00): a retraction authorized on
//! receipt is logged as an entry whose bytes start with [`RETRACTION_MARK`] and hides the
//! messages and reactions it names or covers, on arrival and on every replay.

use mimi_content::MessageId;
use mimi_types::UserUri;

use super::{Applied, Body, Entry, Rejection, RoomView};

/// The first byte of a logged hub retraction (`00`, then the component ID and its data):
/// MIMI content, a CBOR array, never starts with it.
pub(crate) const RETRACTION_MARK: u8 = 0x00;

/// What identifies a logged retraction among the view's known IDs (so a history import does
/// not apply it twice): SHA-256 of its entry bytes, which no MIMI message ID (hash-algorithm
/// octet, then the digest of URIs, content and salt) can be.
pub(super) fn retraction_key(bytes: &[u8]) -> MessageId {
    use sha2::Digest as _;
    MessageId(sha2::Sha256::digest(bytes).into())
}

/// How the hub retracted a message (hub-retracted-messages-00), as the view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retracted {
    /// Who retracted it: the hub's service user (the provider).
    pub by: UserUri,
    /// When (the hub's timestamp, milliseconds since the UNIX epoch).
    pub at: u64,
    /// Why (an `AbuseType`), if said.
    pub reason_code: Option<u8>,
}

impl RoomView {
    /// Whether every message of `ids` this view has is a reaction (and it has one at least):
    /// then `canDeleteOtherReaction` suffices to retract them.
    pub(crate) fn all_reactions(&self, ids: &[[u8; 32]]) -> bool {
        let mut any = false;
        for id in ids {
            let id = MessageId(*id);
            if self.reactions.contains_key(&id) {
                any = true;
            } else if self.by_id.contains_key(&id) {
                return false;
            }
        }
        any
    }

    /// Applies a logged hub retraction (authorized when it arrived): hides the messages it
    /// names or covers that this view has (one it lacks is nothing to hide).
    pub(super) fn apply_retraction(&mut self, entry: Entry) -> Result<Option<Applied>, Rejection> {
        let invalid = |error: String| Rejection::InvalidContent {
            sender: entry.sender.clone(),
            error,
        };
        let (component, data) = match entry.bytes.get(1..3).zip(entry.bytes.get(3..)) {
            Some((c, d)) => (u16::from_be_bytes([c[0], c[1]]), d),
            None => return Err(invalid("a hub retraction entry is cut short".into())),
        };
        let retraction = mimi_room::components::HubRetraction::decode(
            mimi_types::codepoints::ComponentId::new(component),
            data,
        )
        .ok_or_else(|| {
            invalid(format!(
                "component {component:#06x} is not a hub retraction"
            ))
        })?
        .map_err(|e| invalid(e.to_string()))?;
        let mark = Retracted {
            by: retraction.remover().clone(),
            at: entry.timestamp,
            reason_code: retraction.reason_code(),
        };
        let (messages, reactions): (Vec<MessageId>, Vec<MessageId>) = match &retraction {
            mimi_room::components::HubRetraction::Messages(m) => {
                let ids: Vec<MessageId> = m
                    .retracted_messages
                    .iter()
                    .map(|id| MessageId(*id))
                    .collect();
                (
                    ids.iter()
                        .copied()
                        .filter(|id| self.by_id.contains_key(id))
                        .collect(),
                    ids.into_iter()
                        .filter(|id| self.reactions.contains_key(id))
                        .collect(),
                )
            }
            mimi_room::components::HubRetraction::Range(r) => (
                self.messages
                    .iter()
                    .filter(|m| r.covers(&m.sender, m.timestamp))
                    .map(|m| m.id)
                    .collect(),
                self.reactions
                    .iter()
                    .filter(|(_, x)| r.covers(&x.reactor, x.timestamp))
                    .map(|(id, _)| *id)
                    .collect(),
            ),
        };
        let mut changed = Vec::new();
        for id in messages {
            if let Some(m) = self.by_id.get(&id).and_then(|i| self.messages.get_mut(*i))
                && m.retracted.is_none()
            {
                m.body = Body::default();
                m.deleted = true;
                m.reactions.clear();
                m.retracted = Some(mark.clone());
                changed.push(id);
            }
        }
        for id in reactions {
            if let Some(target) = self.withdraw_reaction(&id)
                && self.by_id.contains_key(&target)
                && !changed.contains(&target)
            {
                changed.push(target);
            }
        }
        self.known.insert(retraction_key(&entry.bytes));
        self.log.push(entry);
        Ok(Some(Applied::Retracted(changed)))
    }
}
