//! Our join-code terms: what a [`JoinLink`] of `join_links` holds when this implementation
//! makes it (room-policy-03 leaves `JoinLink.join_link` opaque; see the crate's `readings`).
//!
//! ```text
//! struct {
//!   opaque code_digest<V>;   /* SHA-256 of the code, 32 octets */
//!   uint32 role_index;       /* the role a joiner with the code gets */
//!   uint64 not_after;        /* Unix seconds; 0: never expires */
//!   uint32 uses_left;        /* 0: unlimited */
//! } JoinCodeTerms;
//! ```
//!
//! The room keeps the code's digest, never the code, so members who can read the GroupContext
//! cannot use a link they were not given. A joiner presents the code itself (in the external
//! commit's Safe AAD and in the hub's `groupInfo` request); the MLS layer hashes it into
//! [`crate::CommitSummary::join_code`]. A link with limited uses is consumed by the join that
//! uses it: the joiner's commit must replace the entry with one use fewer (or remove it at the
//! last use), so every member and the hub count the same uses from the room state alone.

use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

use super::{Component, JoinLink, JoinLinks, JoinLinksUpdate, RoleIndex, tls_component};
use crate::codec::DecodeError;

/// The length of a code digest (SHA-256).
pub const JOIN_CODE_DIGEST_LEN: usize = 32;

/// The terms of one join code (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct JoinCodeTerms {
    /// SHA-256 of the code.
    pub code_digest: Vec<u8>,
    /// The role the joiner gets.
    pub role_index: RoleIndex,
    /// Unix seconds after which the code is refused; 0: never.
    pub not_after: u64,
    /// Uses left; 0: unlimited.
    pub uses_left: u32,
}

tls_component!(JoinCodeTerms, "JoinCodeTerms");

impl JoinCodeTerms {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        if self.code_digest.len() != JOIN_CODE_DIGEST_LEN {
            return Err(DecodeError::invalid(
                "JoinCodeTerms",
                "code_digest is not a SHA-256 digest (32 octets)",
            ));
        }
        if self.role_index == RoleIndex::NO_ROLE || self.role_index == RoleIndex::BANNED {
            return Err(DecodeError::invalid(
                "JoinCodeTerms",
                "a join code must grant a role other than 0 (no role) and 1 (banned)",
            ));
        }
        Ok(())
    }

    /// The terms as a `JoinLink`.
    pub fn to_link(&self) -> JoinLink {
        JoinLink {
            join_link: self.encode(),
        }
    }

    /// The terms a link holds, if it holds ours.
    pub fn from_link(link: &JoinLink) -> Option<Self> {
        Self::decode(&link.join_link).ok()
    }

    /// Whether the code has expired at `now_s` (Unix seconds).
    pub fn expired_at(&self, now_s: u64) -> bool {
        self.not_after != 0 && now_s > self.not_after
    }

    /// The terms after one use, or `None` if that use was the last.
    pub fn after_one_use(&self) -> Option<Self> {
        match self.uses_left {
            0 => Some(self.clone()),
            1 => None,
            n => Some(Self {
                uses_left: n - 1,
                ..self.clone()
            }),
        }
    }
}

/// A link of `join_links` matched by a presented code's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedJoinLink {
    /// Its index in `join_links`.
    pub index: usize,
    /// Its terms, when the link holds ours; `None` for an opaque link, whose bytes are the
    /// digest itself (unlimited, never expiring, any role role 0 may hand out).
    pub terms: Option<JoinCodeTerms>,
}

impl MatchedJoinLink {
    /// The `JoinLinksUpdate` a join with this link must commit: none for unlimited links, else
    /// the entry replaced by one with a use fewer (removed at its last use).
    pub fn consumption(&self) -> Option<JoinLinksUpdate> {
        let terms = self.terms.as_ref()?;
        if terms.uses_left == 0 {
            return None;
        }
        let index = u32::try_from(self.index).ok()?;
        Some(JoinLinksUpdate {
            removed_indices: vec![index],
            added_links: terms
                .after_one_use()
                .map(|t| t.to_link())
                .into_iter()
                .collect(),
        })
    }
}

impl JoinLinks {
    /// The link a presented code's `digest` opens: one holding our terms with that digest, or
    /// an opaque link equal to it.
    pub fn find(&self, digest: &[u8]) -> Option<MatchedJoinLink> {
        self.links.iter().enumerate().find_map(|(index, link)| {
            match JoinCodeTerms::from_link(link) {
                Some(terms) if terms.code_digest == digest => Some(MatchedJoinLink {
                    index,
                    terms: Some(terms),
                }),
                Some(_) => None,
                None if link.join_link == digest => Some(MatchedJoinLink { index, terms: None }),
                None => None,
            }
        })
    }

    /// The links holding our terms, with their indices.
    pub fn terms(&self) -> Vec<(usize, JoinCodeTerms)> {
        self.links
            .iter()
            .enumerate()
            .filter_map(|(i, l)| JoinCodeTerms::from_link(l).map(|t| (i, t)))
            .collect()
    }
}
