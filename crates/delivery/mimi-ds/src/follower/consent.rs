//! Consent: who may fetch a user's key material (draft-ietf-mimi-protocol-06 §5.7, §8).

use std::collections::{BTreeMap, BTreeSet};

use mimi_types::{RoomUri, UserUri};

/// What the target provider decides for a key-material request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConsentDecision {
    /// The requester may fetch.
    Allowed,
    /// No consent at all (`noConsent`).
    NoConsent,
    /// Consent exists, but for other rooms (`noConsentForThisRoom`).
    NoConsentForThisRoom,
}

/// The scope of a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    AnyRoom,
    Rooms(BTreeSet<RoomUri>),
}

/// A provider's consent records for its users.
///
/// With `open` set (the default for development federations), anyone may fetch unless the
/// target revoked them; otherwise only granted requesters may.
#[derive(Debug, Clone, Default)]
pub struct ConsentBook {
    open: bool,
    grants: BTreeMap<(UserUri, UserUri), Scope>,
    revoked: BTreeSet<(UserUri, UserUri)>,
}

impl ConsentBook {
    /// A book that requires a grant for every requester.
    pub fn closed() -> Self {
        Self::default()
    }

    /// A book that allows every requester not explicitly revoked.
    pub fn open() -> Self {
        Self {
            open: true,
            ..Self::default()
        }
    }

    /// `target` consents to `requester` fetching its key material, for `room` only or for any.
    pub fn grant(&mut self, target: &UserUri, requester: &UserUri, room: Option<&RoomUri>) {
        let key = (target.clone(), requester.clone());
        self.revoked.remove(&key);
        match room {
            None => {
                self.grants.insert(key, Scope::AnyRoom);
            }
            Some(room) => match self
                .grants
                .entry(key)
                .or_insert(Scope::Rooms(BTreeSet::new()))
            {
                Scope::AnyRoom => {}
                Scope::Rooms(rooms) => {
                    rooms.insert(room.clone());
                }
            },
        }
    }

    /// `target` withdraws every consent it gave `requester`.
    pub fn revoke(&mut self, target: &UserUri, requester: &UserUri) {
        let key = (target.clone(), requester.clone());
        self.grants.remove(&key);
        self.revoked.insert(key);
    }

    /// Whether `requester` may fetch `target`'s key material for `room`.
    pub fn decide(
        &self,
        target: &UserUri,
        requester: &UserUri,
        room: Option<&RoomUri>,
    ) -> ConsentDecision {
        let key = (target.clone(), requester.clone());
        if self.revoked.contains(&key) {
            return ConsentDecision::NoConsent;
        }
        match (self.grants.get(&key), room) {
            (Some(Scope::AnyRoom), _) => ConsentDecision::Allowed,
            (Some(Scope::Rooms(rooms)), Some(room)) if rooms.contains(room) => {
                ConsentDecision::Allowed
            }
            (Some(Scope::Rooms(_)), _) if !self.open => ConsentDecision::NoConsentForThisRoom,
            _ if self.open => ConsentDecision::Allowed,
            _ => ConsentDecision::NoConsent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(s: &str) -> UserUri {
        UserUri::parse(s).unwrap()
    }

    #[test]
    fn closed_book_needs_a_grant_and_honours_its_scope() {
        let diana = user("mimi://z.example/u/diana");
        let charlie = user("mimi://y.example/u/charlie");
        let room = RoomUri::parse("mimi://y.example/r/clubhouse").unwrap();
        let other = RoomUri::parse("mimi://y.example/r/other").unwrap();
        let mut book = ConsentBook::closed();
        assert_eq!(
            book.decide(&diana, &charlie, Some(&room)),
            ConsentDecision::NoConsent
        );
        book.grant(&diana, &charlie, Some(&room));
        assert_eq!(
            book.decide(&diana, &charlie, Some(&room)),
            ConsentDecision::Allowed
        );
        assert_eq!(
            book.decide(&diana, &charlie, Some(&other)),
            ConsentDecision::NoConsentForThisRoom
        );
        book.grant(&diana, &charlie, None);
        assert_eq!(
            book.decide(&diana, &charlie, Some(&other)),
            ConsentDecision::Allowed
        );
        book.revoke(&diana, &charlie);
        assert_eq!(
            book.decide(&diana, &charlie, Some(&room)),
            ConsentDecision::NoConsent
        );
    }

    #[test]
    fn open_book_allows_until_revoked() {
        let diana = user("mimi://z.example/u/diana");
        let charlie = user("mimi://y.example/u/charlie");
        let mut book = ConsentBook::open();
        assert_eq!(
            book.decide(&diana, &charlie, None),
            ConsentDecision::Allowed
        );
        book.revoke(&diana, &charlie);
        assert_eq!(
            book.decide(&diana, &charlie, None),
            ConsentDecision::NoConsent
        );
        book.grant(&diana, &charlie, None);
        assert_eq!(
            book.decide(&diana, &charlie, None),
            ConsentDecision::Allowed
        );
    }
}
