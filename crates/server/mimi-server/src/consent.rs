//! Consent at this provider: received `requestConsent`/`updateConsent`, our users' consent
//! actions, and the consent books `keyMaterial` consults. The engine (`mimi_ds::follower::
//! consent`) decides; this module loads the books, saves them with the requests they cause in
//! one transaction (`DsStore::save_consent`), and applies an entry meant for another user of
//! ours directly to that user's book in the same transaction. Entries for other providers are
//! queued and sent by the destination's outbound worker ([`crate::outbound`]).

use std::collections::BTreeMap;

use mimi_ds::follower::consent::{
    self, ConsentContext, ConsentLimiter, ConsentMessage, ConsentReply,
};
use mimi_ds::follower::{ConsentPolicy, UserConsent};
use mimi_ds::{ConsentWrite, DsStore as _, NewPeerRequest, PeerRequestKind, StoreError};
use mimi_federation_api::path::ConsentPeer;
use mimi_federation_api::request_consent::RequestConsentRequest;
use mimi_federation_api::update_consent::UpdateConsentRequest;
use mimi_federation_api::{Encode, decode_exact};
use mimi_types::{Domain, RoomUri, UserUri};

use crate::error::ServerError;
use crate::error::bad_request;
use crate::provider::Provider;

/// How often a consent change is tried again when another request changed one of its books
/// meanwhile.
const ATTEMPTS: usize = 5;

/// The books one change touches (with the versions they were loaded at) and the requests it
/// queues, saved together.
#[derive(Debug, Default)]
struct Change {
    books: BTreeMap<UserUri, (u64, Option<UserConsent>)>,
    requests: Vec<NewPeerRequest>,
}

impl Change {
    fn book(&mut self, user: &UserUri) -> Option<&mut UserConsent> {
        self.books
            .get_mut(&user.canonical())
            .and_then(|(_, b)| b.as_mut())
    }
}

/// The path parameter must name the entry's user of ours (or our domain).
fn check_path(path: &ConsentPeer, user: &UserUri, field: &str) -> Result<(), ServerError> {
    let matches = match path {
        ConsentPeer::User(named) => &named.canonical() == user,
        ConsentPeer::Domain(domain) => domain == user.domain(),
        _ => false,
    };
    if matches {
        Ok(())
    } else {
        Err(ServerError::api(
            mimi_client_api::ErrorCode::BadRequest,
            format!("{field} {user} is not the user the path names"),
        ))
    }
}

fn internal(e: impl std::fmt::Display) -> ServerError {
    mimi_ds::RequestError::Internal(e.to_string()).into()
}

impl Provider {
    /// `user`'s book and the version it is stored at (0 and an empty book if never saved;
    /// `None` for a user without an account here).
    async fn load_book(&self, user: &UserUri) -> Result<(u64, Option<UserConsent>), ServerError> {
        let user = user.canonical();
        if user.domain() != &self.domain || !self.accounts.has_user(&user).await? {
            return Ok((0, None));
        }
        match self.store.load_consent(&user).await? {
            Some(record) => {
                let book = UserConsent::from_record(&user, &record.state).map_err(internal)?;
                Ok((record.version, Some(book)))
            }
            None => Ok((0, Some(UserConsent::new(user)))),
        }
    }

    /// The consent book of one of our users, for `keyMaterial` (none if never saved).
    pub(crate) async fn consent_book(
        &self,
        user: &UserUri,
    ) -> Result<Option<UserConsent>, ServerError> {
        let user = user.canonical();
        match self.store.load_consent(&user).await? {
            Some(record) => Ok(Some(
                UserConsent::from_record(&user, &record.state).map_err(internal)?,
            )),
            None => Ok(None),
        }
    }

    /// Makes sure `user`'s book is part of `change`.
    async fn take_book(&self, change: &mut Change, user: &UserUri) -> Result<(), ServerError> {
        let user = user.canonical();
        if let std::collections::btree_map::Entry::Vacant(slot) = change.books.entry(user.clone()) {
            slot.insert(self.load_book(&user).await?);
        }
        Ok(())
    }

    /// Sends `message`: queued for another provider, applied at once to a user of ours.
    async fn route(&self, change: &mut Change, message: ConsentMessage) -> Result<(), ServerError> {
        let recipient = message.recipient()?;
        if recipient.domain() != &self.domain {
            let (kind, body) = match &message {
                ConsentMessage::Request(r) => (PeerRequestKind::RequestConsent, r.encode()),
                ConsentMessage::Update(u) => (PeerRequestKind::UpdateConsent, u.encode()),
            };
            change.requests.push(NewPeerRequest {
                to: recipient.domain().clone(),
                kind,
                body: body.map_err(internal)?,
            });
            return Ok(());
        }
        self.take_book(change, &recipient).await?;
        let ctx = ConsentContext {
            now_ms: Provider::now_ms(),
            peer: &self.domain,
            our_domain: &self.domain,
        };
        // Our own users' requests were counted when they asked.
        let mut unlimited = ConsentLimiter::new(0, 1);
        match message {
            ConsentMessage::Request(request) => {
                let reply = consent::receive_request(
                    ctx,
                    &request,
                    change.book(&recipient),
                    &mut unlimited,
                )?;
                match reply {
                    ConsentReply::Send(answer) => Box::pin(self.route(change, answer)).await?,
                    ConsentReply::None => {}
                }
            }
            ConsentMessage::Update(update) => {
                consent::receive_update(ctx, &update, change.book(&recipient))?;
            }
        }
        Ok(())
    }

    /// Saves the change in one transaction; `Ok(false)` if a book changed meanwhile.
    async fn save_change(&self, change: Change) -> Result<bool, ServerError> {
        let mut writes = Vec::new();
        let mut destinations = Vec::new();
        for (user, (version, book)) in change.books {
            if let Some(book) = book {
                writes.push(ConsentWrite {
                    user,
                    expected_version: version,
                    state: book.to_record().map_err(internal)?,
                });
            }
        }
        for request in &change.requests {
            destinations.push(request.to.clone());
        }
        match self.store.save_consent(writes, change.requests).await {
            Ok(()) => {
                for to in destinations {
                    self.wake_outbound(&to);
                }
                Ok(true)
            }
            Err(StoreError::Conflict { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// `requestConsent` from `peer`; `path` names the target (or its provider).
    pub(crate) async fn receive_request_consent(
        &self,
        peer: &Domain,
        path: &ConsentPeer,
        body: &[u8],
    ) -> Result<(), ServerError> {
        let request: RequestConsentRequest =
            decode_exact(body).map_err(|e| bad_request("requestConsent body", e))?;
        let ctx = ConsentContext {
            now_ms: Provider::now_ms(),
            peer,
            our_domain: &self.domain,
        };
        let scope = consent::check_request(ctx, &request)?;
        check_path(path, &scope.target, "targetUri")?;
        for _ in 0..ATTEMPTS {
            let mut change = Change::default();
            self.take_book(&mut change, &scope.target).await?;
            let reply = {
                let mut limiter = self
                    .follower
                    .consent_limiter
                    .lock()
                    .map_err(|_| internal("consent limiter lock poisoned"))?;
                consent::receive_request(ctx, &request, change.book(&scope.target), &mut limiter)?
            };
            match reply {
                ConsentReply::Send(answer) => self.route(&mut change, answer).await?,
                ConsentReply::None => {}
            }
            if self.save_change(change).await? {
                return Ok(());
            }
        }
        Err(internal("the consent book kept changing; retry"))
    }

    /// `updateConsent` from `peer`; `path` names the requester (or its provider).
    pub(crate) async fn receive_update_consent(
        &self,
        peer: &Domain,
        path: &ConsentPeer,
        body: &[u8],
    ) -> Result<(), ServerError> {
        let update: UpdateConsentRequest =
            decode_exact(body).map_err(|e| bad_request("updateConsent body", e))?;
        let ctx = ConsentContext {
            now_ms: Provider::now_ms(),
            peer,
            our_domain: &self.domain,
        };
        let scope = consent::check_update(ctx, &update)?;
        check_path(path, &scope.requester, "requesterUri")?;
        for _ in 0..ATTEMPTS {
            let mut change = Change::default();
            self.take_book(&mut change, &scope.requester).await?;
            consent::receive_update(ctx, &update, change.book(&scope.requester))?;
            if self.save_change(change).await? {
                return Ok(());
            }
        }
        Err(internal("the consent book kept changing; retry"))
    }

    /// Runs one of `user`'s consent actions on their book (and whatever it sends), saving
    /// everything at once; returns the book as saved.
    async fn consent_action(
        &self,
        user: &UserUri,
        action: impl Fn(&mut UserConsent) -> Result<Vec<ConsentMessage>, ServerError>,
    ) -> Result<UserConsent, ServerError> {
        for _ in 0..ATTEMPTS {
            let mut change = Change::default();
            self.take_book(&mut change, user).await?;
            let Some(book) = change.book(user) else {
                return Err(mimi_ds::RequestError::NotOurUser(user.to_string()).into());
            };
            let messages = action(book)?;
            for message in messages {
                self.route(&mut change, message).await?;
            }
            let saved = change.book(user).cloned();
            if self.save_change(change).await? {
                return saved.ok_or_else(|| internal("the book vanished"));
            }
        }
        Err(internal("the consent book kept changing; retry"))
    }

    /// `user` asks `target` for consent (for `room`, or any room).
    pub(crate) async fn consent_ask(
        &self,
        user: &UserUri,
        target: &UserUri,
        room: Option<&RoomUri>,
    ) -> Result<UserConsent, ServerError> {
        if target.domain() != &self.domain && !self.peers_with(target.domain()) {
            return Err(ServerError::api(
                mimi_client_api::ErrorCode::NotFound,
                format!(
                    "{} is not a provider this one federates with; ask its operator to peer",
                    target.domain()
                ),
            ));
        }
        self.consent_action(user, |book| {
            let mut limiter = self
                .follower
                .consent_limiter
                .lock()
                .map_err(|_| internal("consent limiter lock poisoned"))?;
            Ok(consent::ask(
                Provider::now_ms(),
                book,
                target,
                room,
                &mut limiter,
            )?)
        })
        .await
    }

    /// `user` accepts `requester` (for `room`, or any room).
    pub(crate) async fn consent_accept(
        &self,
        user: &UserUri,
        requester: &UserUri,
        room: Option<&RoomUri>,
    ) -> Result<UserConsent, ServerError> {
        self.consent_action(user, |book| {
            Ok(vec![consent::accept(book, requester, room)?])
        })
        .await
    }

    /// `user` blocks `requester`.
    pub(crate) async fn consent_block(
        &self,
        user: &UserUri,
        requester: &UserUri,
    ) -> Result<UserConsent, ServerError> {
        self.consent_action(user, |book| {
            Ok(consent::block(book, requester)?.into_iter().collect())
        })
        .await
    }

    /// `user` sets their policy (`None`: the provider's default).
    pub(crate) async fn consent_set_policy(
        &self,
        user: &UserUri,
        policy: Option<ConsentPolicy>,
    ) -> Result<UserConsent, ServerError> {
        self.consent_action(user, |book| {
            book.set_policy(policy.clone());
            Ok(Vec::new())
        })
        .await
    }

    /// `user`'s book as stored (an empty one if never saved).
    pub(crate) async fn consent_view(&self, user: &UserUri) -> Result<UserConsent, ServerError> {
        let (_, book) = self.load_book(user).await?;
        book.ok_or_else(|| mimi_ds::RequestError::NotOurUser(user.to_string()).into())
    }

    /// A queued consent request the destination refused for good: the asking user's book
    /// records it, so that they see why.
    pub(crate) async fn consent_refused(
        &self,
        kind: PeerRequestKind,
        body: &[u8],
        reason: &str,
    ) -> Result<(), ServerError> {
        if kind != PeerRequestKind::RequestConsent {
            return Ok(());
        }
        let Ok(request) = decode_exact::<RequestConsentRequest>(body) else {
            return Ok(());
        };
        let scope = consent::ParsedScope::parse(&request.entry.scope)?;
        for _ in 0..ATTEMPTS {
            let mut change = Change::default();
            self.take_book(&mut change, &scope.requester).await?;
            let Some(book) = change.book(&scope.requester) else {
                return Ok(());
            };
            book.mark_refused(&scope.target, scope.room.as_ref(), reason);
            if self.save_change(change).await? {
                return Ok(());
            }
        }
        Ok(())
    }
}
