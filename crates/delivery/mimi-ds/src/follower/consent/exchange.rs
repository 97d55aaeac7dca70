//! `requestConsent` and `updateConsent` between two users' providers (protocol-06 §5.7,
//! digest §3.7): who may send what, what a received entry does to the user's book, and the
//! entries our users' actions send.
//!
//! * `requestConsent` (request or cancel) names a requester of the **sending** provider (the
//!   authenticated peer) and a target of ours: otherwise 403 (acting for another provider's
//!   user) or 404 (not our user, or no such account).
//! * `updateConsent` (grant or revoke) names a target of the sending provider and a requester
//!   of ours, likewise.
//! * A request of a user the target blocked is dropped silently (201: nothing is revealed); one
//!   the target granted already is answered with a grant; waiting requests are capped per
//!   requester ([`UserConsent::MAX_PENDING_PER_REQUESTER`]) and per user (403 beyond: final
//!   until the user answers, so a sender does not retry it), and requests per requesting user
//!   are rate-limited ([`ConsentLimiter`]: 429).
//! * KeyPackages carried by a grant are not used: the requester fetches key material through
//!   the room's hub, which is what routes the Welcome.

use std::collections::BTreeMap;

use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::consent::{ConsentAction, ConsentEntry, ConsentScope};
use mimi_federation_api::request_consent::RequestConsentRequest;
use mimi_federation_api::update_consent::UpdateConsentRequest;
use mimi_types::{Domain, RoomUri, UserUri};

use super::book::{BookFull, RequestReceipt, UserConsent};
use crate::error::RequestError;

/// A consent entry's scope, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedScope {
    /// The user asking.
    pub requester: UserUri,
    /// The user asked.
    pub target: UserUri,
    /// The room, none for any room.
    pub room: Option<RoomUri>,
}

impl ParsedScope {
    /// Parses the wire scope (canonical user forms).
    pub fn parse(scope: &ConsentScope) -> Result<Self, RequestError> {
        let requester = scope
            .requester_uri
            .to_user()
            .map_err(|e| RequestError::malformed("requesterUri", e))?
            .canonical();
        let target = scope
            .target_uri
            .to_user()
            .map_err(|e| RequestError::malformed("targetUri", e))?
            .canonical();
        let room = scope
            .room_id
            .as_ref()
            .map(|r| {
                r.to_room()
                    .map_err(|e| RequestError::malformed("roomId", e))
            })
            .transpose()?;
        Ok(Self {
            requester,
            target,
            room,
        })
    }

    fn to_wire(&self) -> Result<ConsentScope, RequestError> {
        let id = |s: String| {
            IdentifierUri::from_string(s).map_err(|e| RequestError::Internal(e.to_string()))
        };
        Ok(ConsentScope::new(
            id(self.requester.to_string())?,
            id(self.target.to_string())?,
            self.room.as_ref().map(|r| id(r.to_string())).transpose()?,
        ))
    }
}

/// A consent entry to send to another provider (or to apply to another user of ours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentMessage {
    /// `requestConsent` to the target's provider.
    Request(RequestConsentRequest),
    /// `updateConsent` to the requester's provider.
    Update(UpdateConsentRequest),
}

impl ConsentMessage {
    fn build(action: ConsentAction, scope: &ParsedScope) -> Result<Self, RequestError> {
        let entry = ConsentEntry::new(action, scope.to_wire()?);
        let internal = |e: mimi_federation_api::DecodeError| RequestError::Internal(e.to_string());
        Ok(match entry.action {
            ConsentAction::Cancel | ConsentAction::Request => {
                Self::Request(RequestConsentRequest::new(entry).map_err(internal)?)
            }
            _ => Self::Update(UpdateConsentRequest::new(entry).map_err(internal)?),
        })
    }

    /// `requestConsent(request)` from `requester` to `target`.
    pub fn request(scope: &ParsedScope) -> Result<Self, RequestError> {
        Self::build(ConsentAction::Request, scope)
    }

    /// `updateConsent(grant)` from `target` to `requester`, without KeyPackages.
    pub fn grant(scope: &ParsedScope) -> Result<Self, RequestError> {
        Self::build(
            ConsentAction::Grant {
                client_key_packages: Vec::new(),
            },
            scope,
        )
    }

    /// `updateConsent(revoke)` from `target` to `requester`.
    pub fn revoke(scope: &ParsedScope) -> Result<Self, RequestError> {
        Self::build(ConsentAction::Revoke, scope)
    }

    /// The entry.
    pub fn entry(&self) -> &ConsentEntry {
        match self {
            Self::Request(r) => &r.entry,
            Self::Update(u) => &u.entry,
        }
    }

    /// The user whose provider receives it: the target of a request, the requester of an
    /// update (the path parameter).
    pub fn recipient(&self) -> Result<UserUri, RequestError> {
        let scope = ParsedScope::parse(&self.entry().scope)?;
        Ok(match self {
            Self::Request(_) => scope.target,
            Self::Update(_) => scope.requester,
        })
    }
}

/// Requests per requesting user within a window, whoever they ask (a flood of consent
/// requests to many users is refused with 429 before any book is touched). In memory: a
/// restart forgets the counts, as it does those of [`super::super::RequesterLimiter`].
#[derive(Debug, Clone)]
pub struct ConsentLimiter {
    max: u32,
    window_ms: u64,
    counts: BTreeMap<UserUri, (u64, u32)>,
}

impl Default for ConsentLimiter {
    /// 20 requests per requesting user per 10 minutes.
    fn default() -> Self {
        Self::new(20, 600_000)
    }
}

impl ConsentLimiter {
    const PRUNE_AT: usize = 100_000;

    /// At most `max` requests per `window_ms` per requesting user (0: no limit).
    pub fn new(max: u32, window_ms: u64) -> Self {
        Self {
            max,
            window_ms: window_ms.max(1),
            counts: BTreeMap::new(),
        }
    }

    /// Counts one request of `requester`, or says when to retry (ms).
    pub fn take(&mut self, requester: &UserUri, now_ms: u64) -> Result<(), u64> {
        if self.max == 0 {
            return Ok(());
        }
        if self.counts.len() >= Self::PRUNE_AT {
            let window = self.window_ms;
            self.counts
                .retain(|_, (start, _)| now_ms.saturating_sub(*start) < window);
        }
        let entry = self
            .counts
            .entry(requester.canonical())
            .or_insert((now_ms, 0));
        if now_ms.saturating_sub(entry.0) >= self.window_ms {
            *entry = (now_ms, 0);
        }
        if entry.1 >= self.max {
            return Err(entry
                .0
                .saturating_add(self.window_ms)
                .saturating_sub(now_ms));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// What the engine needs about a received consent entry's surroundings.
#[derive(Debug, Clone, Copy)]
pub struct ConsentContext<'a> {
    /// Now, ms since the UNIX epoch.
    pub now_ms: u64,
    /// The authenticated peer (mutual TLS); our own domain for a local user's action.
    pub peer: &'a Domain,
    /// This provider.
    pub our_domain: &'a Domain,
}

/// What a received entry asks of the caller besides saving the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentReply {
    /// Nothing: answer 201.
    None,
    /// Answer 201 and send this (a grant to a requester who is granted already).
    Send(ConsentMessage),
}

fn full(e: BookFull) -> RequestError {
    RequestError::TooManyPending(e.to_string())
}

/// Checks who sent a `requestConsent` and that its target is ours; returns its scope. `book`
/// is then the target's (loaded by the caller).
pub fn check_request(
    ctx: ConsentContext<'_>,
    request: &RequestConsentRequest,
) -> Result<ParsedScope, RequestError> {
    let scope = ParsedScope::parse(&request.entry.scope)?;
    if scope.requester.domain() != ctx.peer {
        return Err(RequestError::ActingForForeignUser {
            peer: ctx.peer.clone(),
            user: scope.requester.to_string(),
        });
    }
    if scope.target.domain() != ctx.our_domain {
        return Err(RequestError::NotOurUser(scope.target.to_string()));
    }
    Ok(scope)
}

/// A `requestConsent` for one of our users. `book` is the target's (`None`: no such
/// account, 404).
pub fn receive_request(
    ctx: ConsentContext<'_>,
    request: &RequestConsentRequest,
    book: Option<&mut UserConsent>,
    limiter: &mut ConsentLimiter,
) -> Result<ConsentReply, RequestError> {
    let scope = check_request(ctx, request)?;
    let Some(book) = book else {
        return Err(RequestError::NotOurUser(scope.target.to_string()));
    };
    if book.user() != &scope.target {
        return Err(RequestError::Internal(format!(
            "the consent book of {} was given for {}",
            book.user(),
            scope.target
        )));
    }
    match request.entry.action {
        ConsentAction::Cancel => {
            book.receive_cancel(&scope.requester, scope.room.as_ref());
            Ok(ConsentReply::None)
        }
        _ => {
            if let Err(retry_in_ms) = limiter.take(&scope.requester, ctx.now_ms) {
                return Err(RequestError::RateLimited { retry_in_ms });
            }
            match book
                .receive_request(&scope.requester, scope.room.as_ref(), ctx.now_ms)
                .map_err(full)?
            {
                RequestReceipt::AlreadyGranted => {
                    Ok(ConsentReply::Send(ConsentMessage::grant(&scope)?))
                }
                _ => Ok(ConsentReply::None),
            }
        }
    }
}

/// Checks who sent an `updateConsent` and that its requester is ours; returns its scope.
pub fn check_update(
    ctx: ConsentContext<'_>,
    update: &UpdateConsentRequest,
) -> Result<ParsedScope, RequestError> {
    let scope = ParsedScope::parse(&update.entry.scope)?;
    if scope.target.domain() != ctx.peer {
        return Err(RequestError::ActingForForeignUser {
            peer: ctx.peer.clone(),
            user: scope.target.to_string(),
        });
    }
    if scope.requester.domain() != ctx.our_domain {
        return Err(RequestError::NotOurUser(scope.requester.to_string()));
    }
    Ok(scope)
}

/// An `updateConsent` for one of our users. `book` is the requester's (`None`: no such
/// account, 404).
pub fn receive_update(
    ctx: ConsentContext<'_>,
    update: &UpdateConsentRequest,
    book: Option<&mut UserConsent>,
) -> Result<(), RequestError> {
    let scope = check_update(ctx, update)?;
    let Some(book) = book else {
        return Err(RequestError::NotOurUser(scope.requester.to_string()));
    };
    if book.user() != &scope.requester {
        return Err(RequestError::Internal(format!(
            "the consent book of {} was given for {}",
            book.user(),
            scope.requester
        )));
    }
    match update.entry.action {
        ConsentAction::Grant { .. } => {
            book.receive_grant(&scope.target, scope.room.as_ref(), ctx.now_ms);
        }
        _ => book.receive_revoke(&scope.target, scope.room.as_ref(), ctx.now_ms),
    }
    Ok(())
}

/// Our user `book.user()` asks `target` for consent (for `room`, or any room): the book
/// records it, and the request and the bilateral grant are returned to send (or, for a
/// target of ours, to apply to the target's book).
pub fn ask(
    now_ms: u64,
    book: &mut UserConsent,
    target: &UserUri,
    room: Option<&RoomUri>,
    limiter: &mut ConsentLimiter,
) -> Result<Vec<ConsentMessage>, RequestError> {
    let target = target.canonical();
    if &target == book.user() {
        return Err(RequestError::malformed(
            "target",
            "a user needs no consent of their own",
        ));
    }
    if let Err(retry_in_ms) = limiter.take(book.user(), now_ms) {
        return Err(RequestError::RateLimited { retry_in_ms });
    }
    book.ask(&target, room, now_ms).map_err(full)?;
    let asking = ParsedScope {
        requester: book.user().clone(),
        target: target.clone(),
        room: room.cloned(),
    };
    let granting = ParsedScope {
        requester: target,
        target: book.user().clone(),
        room: None,
    };
    Ok(vec![
        ConsentMessage::request(&asking)?,
        ConsentMessage::grant(&granting)?,
    ])
}

/// Our user `book.user()` accepts `requester` (for `room`, or any room): the grant to send.
pub fn accept(
    book: &mut UserConsent,
    requester: &UserUri,
    room: Option<&RoomUri>,
) -> Result<ConsentMessage, RequestError> {
    book.grant(requester, room).map_err(full)?;
    ConsentMessage::grant(&ParsedScope {
        requester: requester.canonical(),
        target: book.user().clone(),
        room: room.cloned(),
    })
}

/// Our user `book.user()` blocks `requester`: the revocation to send, if they had consent.
pub fn block(
    book: &mut UserConsent,
    requester: &UserUri,
) -> Result<Option<ConsentMessage>, RequestError> {
    if !book.block(requester).map_err(full)? {
        return Ok(None);
    }
    ConsentMessage::revoke(&ParsedScope {
        requester: requester.canonical(),
        target: book.user().clone(),
        room: None,
    })
    .map(Some)
}
