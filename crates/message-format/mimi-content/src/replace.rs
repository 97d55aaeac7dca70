//! Who may edit, delete or unlike a message, and reply-chain loop detection (digest §5.3).
//!
//! Receivers MUST NOT honour an edit or delete from anyone but the original sender unless a
//! room policy authorizes it, and even the original sender may only change the body. Sender
//! identities are the authenticated sender URIs (from the MLS credential), as octets.

use std::collections::BTreeSet;

use crate::message_id::MessageId;
use crate::model::MimiContent;

/// Whether `replacing_sender` may edit or delete a message of `original_sender` without any
/// policy authorization: only the same sender may.
pub fn may_replace(original_sender: &[u8], replacing_sender: &[u8]) -> bool {
    original_sender == replacing_sender
}

/// What the room policy grants the sender of a replacement beyond their own messages
/// (e.g. `canDeleteOtherMessage`), decided by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplaceAuthority {
    /// Only the original sender may replace, and only the body.
    OriginalSenderOnly,
    /// Policy authorizes this sender to replace other senders' messages (body only).
    PolicyAuthorized,
}

/// The message a replacement targets, as the receiver stored it.
#[derive(Clone, Copy, Debug)]
pub struct Original<'a> {
    /// Its message ID.
    pub id: MessageId,
    /// Its authenticated sender URI.
    pub sender_uri: &'a [u8],
    /// Its content.
    pub content: &'a MimiContent,
}

/// Why a receiver must not apply a replacement (edit, delete, unlike).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplaceError {
    /// The message has no `replaces`.
    #[error("message does not replace anything")]
    NotAReplacement,
    /// `replaces` names another message than the one given.
    #[error("message replaces {found}, not {expected}")]
    WrongTarget {
        /// The original's ID.
        expected: MessageId,
        /// The ID in `replaces`.
        found: MessageId,
    },
    /// The target is itself a replacement: edits must reference the first version.
    #[error("the target is itself a replacement; replacements must reference the first version")]
    TargetIsReplacement,
    /// The sender is not the original sender and no policy authorizes it.
    #[error("only the original sender may edit or delete this message")]
    NotOriginalSender,
    /// The replacement changes the topic.
    #[error("a replacement may change only the body, not the topic")]
    TopicChanged,
    /// The replacement changes which message it replies to.
    #[error("a replacement may change only the body, not inReplyTo")]
    InReplyToChanged,
    /// The replacement changes the expiry.
    #[error("a replacement may change only the body, not the expiry")]
    ExpiryChanged,
}

/// Checks that `replacement`, sent by `sender_uri`, may replace `original`.
pub fn check_replacement(
    original: &Original<'_>,
    replacement: &MimiContent,
    sender_uri: &[u8],
    authority: ReplaceAuthority,
) -> Result<(), ReplaceError> {
    let target = replacement.replaces.ok_or(ReplaceError::NotAReplacement)?;
    if target != original.id {
        return Err(ReplaceError::WrongTarget {
            expected: original.id,
            found: target,
        });
    }
    if original.content.replaces.is_some() {
        return Err(ReplaceError::TargetIsReplacement);
    }
    if authority == ReplaceAuthority::OriginalSenderOnly
        && !may_replace(original.sender_uri, sender_uri)
    {
        return Err(ReplaceError::NotOriginalSender);
    }
    if replacement.topic_id != original.content.topic_id {
        return Err(ReplaceError::TopicChanged);
    }
    if replacement.in_reply_to != original.content.in_reply_to {
        return Err(ReplaceError::InReplyToChanged);
    }
    if replacement.expires != original.content.expires {
        return Err(ReplaceError::ExpiryChanged);
    }
    Ok(())
}

/// A reply chain that loops or is longer than the caller allows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyChainError {
    /// The chain comes back to a message already in it.
    #[error("reply chain loops back to {0}")]
    Loop(MessageId),
    /// The chain is longer than the limit.
    #[error("reply chain is longer than {0} messages")]
    TooLong(usize),
}

/// Walks `inReplyTo` links from `start` (receivers must detect loops). `parent_of` returns the
/// `inReplyTo` of a known message, `None` at the root or for an unknown message (legitimate:
/// it may predate joining). Returns the chain from `start`'s parent upwards.
pub fn reply_chain(
    start: MessageId,
    mut parent_of: impl FnMut(&MessageId) -> Option<MessageId>,
    limit: usize,
) -> Result<Vec<MessageId>, ReplyChainError> {
    let mut seen = BTreeSet::from([start]);
    let mut chain = Vec::new();
    let mut current = start;
    while let Some(parent) = parent_of(&current) {
        if !seen.insert(parent) {
            return Err(ReplyChainError::Loop(parent));
        }
        if chain.len() == limit {
            return Err(ReplyChainError::TooLong(limit));
        }
        chain.push(parent);
        current = parent;
    }
    Ok(chain)
}
