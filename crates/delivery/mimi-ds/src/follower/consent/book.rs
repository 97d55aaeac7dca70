//! One user's consent book: whom they consent to (grants, per room or any room), whom they
//! blocked, the requests waiting for their answer, the requests they made and what came of
//! them, and their policy for strangers. Stored as one record per user
//! ([`UserConsent::to_record`]).

use std::collections::{BTreeMap, BTreeSet};

use mimi_types::{Domain, RoomUri, UserUri};

use super::policy::ConsentPolicy;
use crate::record::{Reader, RecordError, Writer};

/// What the target provider decides for a key-material request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentDecision {
    /// The requester may fetch.
    Allowed,
    /// No consent at all (`noConsent`).
    NoConsent,
    /// Consent exists, but for other rooms (`noConsentForThisRoom`).
    NoConsentForThisRoom,
}

/// The rooms a grant covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantScope {
    /// Any room (a contact).
    AnyRoom,
    /// These rooms only.
    Rooms(BTreeSet<RoomUri>),
}

/// What became of a consent request this user made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Sent (or queued); no answer yet.
    Asked {
        /// When it was made, ms since the UNIX epoch.
        at_ms: u64,
    },
    /// The target granted consent.
    Granted {
        /// When the grant arrived.
        at_ms: u64,
    },
    /// The target revoked (or pre-emptively denied) consent.
    Revoked {
        /// When the revocation arrived.
        at_ms: u64,
    },
    /// The target's provider refused the request (e.g. no such user).
    Refused {
        /// The provider's reason.
        reason: String,
    },
}

/// A key of the request maps: the other user and the room, none for "any room".
pub type ScopeKey = (UserUri, Option<RoomUri>);

/// What a book refuses to hold more of.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BookFull {
    /// Pending requests from one requester (one per scope).
    #[error(
        "{requester} has {limit} consent requests waiting for {target} already; they are \
         answered or cancelled first"
    )]
    PendingPerRequester {
        /// The requester.
        requester: UserUri,
        /// The target.
        target: UserUri,
        /// The cap.
        limit: usize,
    },
    /// Pending requests in all.
    #[error("{target} has {limit} consent requests waiting already; try again later")]
    Pending {
        /// The target.
        target: UserUri,
        /// The cap.
        limit: usize,
    },
    /// Requests this user made that are not answered.
    #[error("{user} has {limit} consent requests of their own outstanding; wait for answers first")]
    Outgoing {
        /// The user.
        user: UserUri,
        /// The cap.
        limit: usize,
    },
    /// Grants or blocks.
    #[error("{user} has {limit} contacts or blocks already; remove some first")]
    Contacts {
        /// The user.
        user: UserUri,
        /// The cap.
        limit: usize,
    },
}

/// What a received `requestConsent(request)` did to the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestReceipt {
    /// Now waiting for the user's answer.
    Recorded,
    /// The same request was waiting already (nothing changed).
    Repeated,
    /// The user consents already for that scope: the caller answers with a grant.
    AlreadyGranted,
    /// The user blocked the requester: dropped without a trace (the 201 reveals nothing).
    Blocked,
}

/// One user's consent book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserConsent {
    user: UserUri,
    policy: Option<ConsentPolicy>,
    granted: BTreeMap<UserUri, GrantScope>,
    blocked: BTreeSet<UserUri>,
    incoming: BTreeMap<ScopeKey, u64>,
    outgoing: BTreeMap<ScopeKey, Outgoing>,
}

impl UserConsent {
    /// Pending requests one requester may have waiting for one user (one per scope).
    pub const MAX_PENDING_PER_REQUESTER: usize = 4;
    /// Pending requests one user may have waiting in all.
    pub const MAX_PENDING: usize = 256;
    /// Requests of the user's own kept (answered ones are dropped oldest first beyond this).
    pub const MAX_OUTGOING: usize = 1024;
    /// Grants and blocks, each.
    pub const MAX_CONTACTS: usize = 10_000;

    /// An empty book for `user` (the provider's default policy applies).
    pub fn new(user: UserUri) -> Self {
        Self {
            user: user.canonical(),
            policy: None,
            granted: BTreeMap::new(),
            blocked: BTreeSet::new(),
            incoming: BTreeMap::new(),
            outgoing: BTreeMap::new(),
        }
    }

    /// Whose book this is.
    pub fn user(&self) -> &UserUri {
        &self.user
    }

    /// The user's own policy, if they set one.
    pub fn policy(&self) -> Option<&ConsentPolicy> {
        self.policy.as_ref()
    }

    /// Sets the user's policy (`None`: the provider's default).
    pub fn set_policy(&mut self, policy: Option<ConsentPolicy>) {
        self.policy = policy;
    }

    /// Whom the user consents to, and for which rooms.
    pub fn granted(&self) -> &BTreeMap<UserUri, GrantScope> {
        &self.granted
    }

    /// Whom the user blocked.
    pub fn blocked(&self) -> &BTreeSet<UserUri> {
        &self.blocked
    }

    /// Requests waiting for the user's answer, with when each arrived.
    pub fn incoming(&self) -> &BTreeMap<ScopeKey, u64> {
        &self.incoming
    }

    /// Requests the user made and what came of them.
    pub fn outgoing(&self) -> &BTreeMap<ScopeKey, Outgoing> {
        &self.outgoing
    }

    /// Whether `requester` may fetch this user's key material for `room` (none: not for a
    /// room), with `default` the provider's policy for users who set none. A block wins over
    /// everything; a grant covering the room allows; then the policy; a requester with grants
    /// for other rooms only gets [`ConsentDecision::NoConsentForThisRoom`]. A user may always
    /// fetch their own.
    pub fn decide(
        book: Option<&Self>,
        target: &UserUri,
        default: &ConsentPolicy,
        requester: &UserUri,
        room: Option<&RoomUri>,
    ) -> ConsentDecision {
        let requester = requester.canonical();
        if requester == target.canonical() {
            return ConsentDecision::Allowed;
        }
        let policy = book.and_then(|b| b.policy.as_ref()).unwrap_or(default);
        let Some(book) = book else {
            return if policy.allows(&requester) {
                ConsentDecision::Allowed
            } else {
                ConsentDecision::NoConsent
            };
        };
        if book.blocked.contains(&requester) {
            return ConsentDecision::NoConsent;
        }
        match (book.granted.get(&requester), room) {
            (Some(GrantScope::AnyRoom), _) => ConsentDecision::Allowed,
            (Some(GrantScope::Rooms(rooms)), Some(room)) if rooms.contains(room) => {
                ConsentDecision::Allowed
            }
            _ if policy.allows(&requester) => ConsentDecision::Allowed,
            (Some(GrantScope::Rooms(_)), _) => ConsentDecision::NoConsentForThisRoom,
            (None, _) => ConsentDecision::NoConsent,
        }
    }

    /// Whether a grant covers `requester` for `room` (none: any room).
    fn covers(&self, requester: &UserUri, room: Option<&RoomUri>) -> bool {
        match (self.granted.get(requester), room) {
            (Some(GrantScope::AnyRoom), _) => true,
            (Some(GrantScope::Rooms(rooms)), Some(room)) => rooms.contains(room),
            _ => false,
        }
    }

    /// The user consents to `requester`, for `room` only or for any room: lifts a block and
    /// answers the matching waiting requests (all of the requester's for any room).
    pub fn grant(&mut self, requester: &UserUri, room: Option<&RoomUri>) -> Result<(), BookFull> {
        let requester = requester.canonical();
        if !self.granted.contains_key(&requester) && self.granted.len() >= Self::MAX_CONTACTS {
            return Err(BookFull::Contacts {
                user: self.user.clone(),
                limit: Self::MAX_CONTACTS,
            });
        }
        self.blocked.remove(&requester);
        match room {
            None => {
                self.granted.insert(requester.clone(), GrantScope::AnyRoom);
                self.incoming.retain(|(from, _), _| from != &requester);
            }
            Some(room) => {
                let scope = self
                    .granted
                    .entry(requester.clone())
                    .or_insert_with(|| GrantScope::Rooms(BTreeSet::new()));
                if let GrantScope::Rooms(rooms) = scope {
                    rooms.insert(room.clone());
                }
                self.incoming.remove(&(requester, Some(room.clone())));
            }
        }
        Ok(())
    }

    /// The user withdraws every consent given to `requester` and refuses them from now on;
    /// their waiting requests are dropped. Returns whether a grant was withdrawn (then the
    /// requester's provider is told; a block of a stranger is not announced).
    pub fn block(&mut self, requester: &UserUri) -> Result<bool, BookFull> {
        let requester = requester.canonical();
        if !self.blocked.contains(&requester) && self.blocked.len() >= Self::MAX_CONTACTS {
            return Err(BookFull::Contacts {
                user: self.user.clone(),
                limit: Self::MAX_CONTACTS,
            });
        }
        let had_grant = self.granted.remove(&requester).is_some();
        self.incoming.retain(|(from, _), _| from != &requester);
        self.blocked.insert(requester);
        Ok(had_grant)
    }

    /// The user asks `target` for consent (for `room`, or any room). Asking someone also
    /// consents to them (the draft's bilateral connection): the caller sends the grant too.
    pub fn ask(
        &mut self,
        target: &UserUri,
        room: Option<&RoomUri>,
        now_ms: u64,
    ) -> Result<(), BookFull> {
        let target = target.canonical();
        let key = (target.clone(), room.cloned());
        if !self.outgoing.contains_key(&key) && self.outgoing.len() >= Self::MAX_OUTGOING {
            // Forget the oldest answered request; refuse if none is answered.
            let answered = self
                .outgoing
                .iter()
                .find(|(_, o)| !matches!(o, Outgoing::Asked { .. }))
                .map(|(k, _)| k.clone());
            match answered {
                Some(old) => {
                    self.outgoing.remove(&old);
                }
                None => {
                    return Err(BookFull::Outgoing {
                        user: self.user.clone(),
                        limit: Self::MAX_OUTGOING,
                    });
                }
            }
        }
        if !self.covers(&target, None) {
            self.grant(&target, None)?;
        }
        self.outgoing.insert(key, Outgoing::Asked { at_ms: now_ms });
        Ok(())
    }

    /// A `requestConsent(request)` from `requester` for this user arrived.
    pub fn receive_request(
        &mut self,
        requester: &UserUri,
        room: Option<&RoomUri>,
        now_ms: u64,
    ) -> Result<RequestReceipt, BookFull> {
        let requester = requester.canonical();
        if self.blocked.contains(&requester) {
            return Ok(RequestReceipt::Blocked);
        }
        if self.covers(&requester, room) {
            return Ok(RequestReceipt::AlreadyGranted);
        }
        let key = (requester.clone(), room.cloned());
        if self.incoming.contains_key(&key) {
            return Ok(RequestReceipt::Repeated);
        }
        let from_requester = self
            .incoming
            .keys()
            .filter(|(from, _)| from == &requester)
            .count();
        if from_requester >= Self::MAX_PENDING_PER_REQUESTER {
            return Err(BookFull::PendingPerRequester {
                requester,
                target: self.user.clone(),
                limit: Self::MAX_PENDING_PER_REQUESTER,
            });
        }
        if self.incoming.len() >= Self::MAX_PENDING {
            return Err(BookFull::Pending {
                target: self.user.clone(),
                limit: Self::MAX_PENDING,
            });
        }
        self.incoming.insert(key, now_ms);
        Ok(RequestReceipt::Recorded)
    }

    /// A `requestConsent(cancel)` arrived: the request of that exact scope is withdrawn.
    /// Returns whether one was waiting.
    pub fn receive_cancel(&mut self, requester: &UserUri, room: Option<&RoomUri>) -> bool {
        self.incoming
            .remove(&(requester.canonical(), room.cloned()))
            .is_some()
    }

    /// `target` granted this user consent (for `room`, or any room), asked for or not.
    pub fn receive_grant(&mut self, target: &UserUri, room: Option<&RoomUri>, now_ms: u64) {
        let target = target.canonical();
        let key = (target.clone(), room.cloned());
        if !self.outgoing.contains_key(&key) && self.outgoing.len() >= Self::MAX_OUTGOING {
            // An unsolicited grant beyond the cap is not remembered; the key-material
            // answer is what counts anyway.
            return;
        }
        if room.is_none() {
            for (key, state) in &mut self.outgoing {
                if key.0 == target {
                    *state = Outgoing::Granted { at_ms: now_ms };
                }
            }
        }
        self.outgoing
            .insert(key, Outgoing::Granted { at_ms: now_ms });
    }

    /// `target` revoked (or pre-emptively denied) consent for `room`, or any room. Only
    /// requests the user made are marked: an unsolicited revocation leaves no entry.
    pub fn receive_revoke(&mut self, target: &UserUri, room: Option<&RoomUri>, now_ms: u64) {
        let target = target.canonical();
        for (key, state) in &mut self.outgoing {
            if key.0 == target && (room.is_none() || key.1.as_ref() == room) {
                *state = Outgoing::Revoked { at_ms: now_ms };
            }
        }
    }

    /// The target's provider refused the user's request to `target` for `room`.
    pub fn mark_refused(&mut self, target: &UserUri, room: Option<&RoomUri>, reason: &str) {
        if let Some(state) = self.outgoing.get_mut(&(target.canonical(), room.cloned())) {
            *state = Outgoing::Refused {
                reason: reason.chars().take(300).collect(),
            };
        }
    }

    const WHAT: &'static str = "consent";
    const VERSION: u8 = 1;

    /// The stored form: version 1, the user, the policy (0 none, 1 anyone, 2 contacts, 3
    /// providers + list), grants (user, 0 any room or 1 + rooms), blocks, waiting requests
    /// (user, room or empty, ms), own requests (user, room or empty, state 0 asked / 1 granted
    /// / 2 revoked with ms, 3 refused with reason).
    pub fn to_record(&self) -> Result<Vec<u8>, RecordError> {
        let mut w = Writer::new(Self::WHAT, Self::VERSION);
        w.bytes(self.user.to_string().as_bytes())?;
        match &self.policy {
            None => w.u32(0),
            Some(ConsentPolicy::Anyone) => w.u32(1),
            Some(ConsentPolicy::Contacts) => w.u32(2),
            Some(ConsentPolicy::Providers(domains)) => {
                w.u32(3);
                w.count(domains.len())?;
                for d in domains {
                    w.bytes(d.as_str().as_bytes())?;
                }
            }
        }
        w.count(self.granted.len())?;
        for (user, scope) in &self.granted {
            w.bytes(user.to_string().as_bytes())?;
            match scope {
                GrantScope::AnyRoom => w.u32(0),
                GrantScope::Rooms(rooms) => {
                    w.u32(1);
                    w.count(rooms.len())?;
                    for room in rooms {
                        w.bytes(room.to_string().as_bytes())?;
                    }
                }
            }
        }
        w.count(self.blocked.len())?;
        for user in &self.blocked {
            w.bytes(user.to_string().as_bytes())?;
        }
        w.count(self.incoming.len())?;
        for ((user, room), at_ms) in &self.incoming {
            write_key(&mut w, user, room.as_ref())?;
            w.u64(*at_ms);
        }
        w.count(self.outgoing.len())?;
        for ((user, room), state) in &self.outgoing {
            write_key(&mut w, user, room.as_ref())?;
            match state {
                Outgoing::Asked { at_ms } => {
                    w.u32(0);
                    w.u64(*at_ms);
                }
                Outgoing::Granted { at_ms } => {
                    w.u32(1);
                    w.u64(*at_ms);
                }
                Outgoing::Revoked { at_ms } => {
                    w.u32(2);
                    w.u64(*at_ms);
                }
                Outgoing::Refused { reason } => {
                    w.u32(3);
                    w.bytes(reason.as_bytes())?;
                }
            }
        }
        Ok(w.finish())
    }

    /// Restores a book stored under `user` (a record naming another user is refused).
    pub fn from_record(user: &UserUri, record: &[u8]) -> Result<Self, RecordError> {
        let (_, mut r) = Reader::open(Self::WHAT, record, &[Self::VERSION])?;
        let written = parse_user(&mut r)?;
        if written != user.canonical() {
            return Err(RecordError::Part {
                what: Self::WHAT,
                detail: format!(
                    "stored under {user} but written for {written}; the database was edited"
                ),
            });
        }
        let policy = match r.u32()? {
            0 => None,
            1 => Some(ConsentPolicy::Anyone),
            2 => Some(ConsentPolicy::Contacts),
            3 => {
                let n = r.u32()?;
                let mut domains = BTreeSet::new();
                for _ in 0..n {
                    let text = r.text()?;
                    domains
                        .insert(Domain::parse(text).map_err(|_| r.malformed("policy provider"))?);
                }
                Some(ConsentPolicy::Providers(domains))
            }
            _ => return Err(r.malformed("policy kind")),
        };
        let mut book = Self::new(written);
        book.policy = policy;
        for _ in 0..r.u32()? {
            let user = parse_user(&mut r)?;
            let scope = match r.u32()? {
                0 => GrantScope::AnyRoom,
                1 => {
                    let mut rooms = BTreeSet::new();
                    for _ in 0..r.u32()? {
                        rooms.insert(parse_room(&mut r)?);
                    }
                    GrantScope::Rooms(rooms)
                }
                _ => return Err(r.malformed("grant scope")),
            };
            book.granted.insert(user, scope);
        }
        for _ in 0..r.u32()? {
            book.blocked.insert(parse_user(&mut r)?);
        }
        for _ in 0..r.u32()? {
            let key = read_key(&mut r)?;
            book.incoming.insert(key, r.u64()?);
        }
        for _ in 0..r.u32()? {
            let key = read_key(&mut r)?;
            let state = match r.u32()? {
                0 => Outgoing::Asked { at_ms: r.u64()? },
                1 => Outgoing::Granted { at_ms: r.u64()? },
                2 => Outgoing::Revoked { at_ms: r.u64()? },
                3 => Outgoing::Refused {
                    reason: r.text()?.to_owned(),
                },
                _ => return Err(r.malformed("request state")),
            };
            book.outgoing.insert(key, state);
        }
        r.end()?;
        Ok(book)
    }
}

fn write_key(w: &mut Writer, user: &UserUri, room: Option<&RoomUri>) -> Result<(), RecordError> {
    w.bytes(user.to_string().as_bytes())?;
    w.bytes(room.map(ToString::to_string).unwrap_or_default().as_bytes())
}

fn read_key(r: &mut Reader<'_>) -> Result<ScopeKey, RecordError> {
    let user = parse_user(r)?;
    let room = r.text()?;
    let room = if room.is_empty() {
        None
    } else {
        Some(RoomUri::parse(room).map_err(|_| r.malformed("room URI"))?)
    };
    Ok((user, room))
}

fn parse_user(r: &mut Reader<'_>) -> Result<UserUri, RecordError> {
    let text = r.text()?;
    UserUri::parse(text).map_err(|_| r.malformed("user URI"))
}

fn parse_room(r: &mut Reader<'_>) -> Result<RoomUri, RecordError> {
    let text = r.text()?;
    RoomUri::parse(text).map_err(|_| r.malformed("room URI"))
}
