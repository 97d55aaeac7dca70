//! Sending: requests to peers, and the outbound workers that deliver the stored fan-out.
//!
//! One worker per destination reads `pending_outbound` in id order and sends it as notify
//! bodies that each carry every queued message of one room, up to [`BATCH`] messages and
//! about [`MAX_BATCH_BYTES`] (or the follower's advertised limit), grouped by
//! [`mimi_ds::batch_notifies`]: a busy room costs the follower one request and one durable
//! write per batch instead of per message, and an idle room's single message goes out at once.
//! The items of a batch are acknowledged together (one transaction) only once the follower
//! answered 2xx (fan-out to our own domain is applied to our follower inbox directly); the
//! follower skips messages it applied before, however a resend groups them. A transient failure (unreachable, 408, 429, 5xx) is retried
//! with capped exponential backoff and the peer's `Retry-After`. A permanent refusal (another
//! 4xx, e.g. 413 from a follower whose body limit is smaller than ours) is never dropped: the
//! item is set aside as a dead letter (kept in the store, see [`mimi_ds::DeadLetter`]), so one
//! poisoned item cannot stall the room, and is offered again with a long backoff
//! ([`dead_letter_delay`]: `limits.dead_letter_retry_ms`, doubling per refusal, at most
//! [`DEAD_LETTER_MAX_DELAY`]) until the follower takes it. Each refusal is counted
//! (`mimi_notify_dead_lettered_total`, `mimi_dead_letters` in `/metrics`) and logged at warn
//! with the peer, the room, the status and the follower's reason. A dead letter delivered late
//! is applied by the follower like any notify (its inbox drops messages of epochs it has left).
//! A worker sleeps until woken by a save or for one second.
//!
//! With PostgreSQL, several processes of the provider share the queue: every process runs a
//! worker per destination, but only the one holding the destination's lease (an advisory lock
//! held by a connection of its own, see `mimi_store::Lease`) sends, so each follower still
//! gets its items one at a time in id order. The others try for the lease every
//! [`LEASE_RETRY`]; when the holder dies its connection closes, PostgreSQL frees the lease and
//! another process carries on from the oldest unacknowledged item. Saves in any process wake
//! the holder through PostgreSQL's LISTEN/NOTIFY ([`relay_wakeups`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use mimi_ds::{DsStore as _, OutboundItem, PeerRequest, PeerRequestKind};
use mimi_federation_api::http::{Endpoint, NOTIFY, REQUEST_CONSENT, UPDATE_CONSENT};
use mimi_store::{Lease, Wakeup, Wakeups};
use mimi_transport::backoff::Backoff;
use mimi_types::Domain;
use tokio::sync::{Notify, watch};

use crate::error::ServerError;
use crate::provider::{Core, Provider};

/// How many stored items a worker reads at once, and the most messages one notify carries.
pub(crate) const BATCH: usize = 64;

/// The most bytes (of queued bodies) one notify carries, below the follower's advertised limit.
const MAX_BATCH_BYTES: usize = 1 << 20;

/// How often a worker without its destination's lease tries to take it.
const LEASE_RETRY: Duration = Duration::from_millis(500);

/// How often a worker looks for dead letters that are due.
const DEAD_LETTER_CHECK: Duration = Duration::from_secs(1);

/// Dead letters a worker offers again at once, at most.
const DEAD_LETTER_BATCH: usize = 16;

/// The longest wait between two offers of a dead letter.
pub(crate) const DEAD_LETTER_MAX_DELAY: Duration = Duration::from_secs(3600);

/// The wait before offering a dead letter again after its `refusals`-th refusal (1 for the
/// first): `first`, doubling per refusal, at most [`DEAD_LETTER_MAX_DELAY`].
pub(crate) fn dead_letter_delay(first: Duration, refusals: u64) -> Duration {
    let doublings = u32::try_from(refusals.saturating_sub(1).min(31)).unwrap_or(31);
    first
        .saturating_mul(1u32 << doublings)
        .min(DEAD_LETTER_MAX_DELAY.max(first))
}

impl Core {
    /// `POST`s `body` to `endpoint` (with `param`) at `peer`; the body of a 2xx answer.
    pub(crate) async fn post_to_peer(
        &self,
        peer: &Domain,
        endpoint: &Endpoint,
        param: &impl std::fmt::Display,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, ServerError> {
        let unreachable = |e: mimi_transport::TransportError| ServerError::Peer {
            peer: peer.clone(),
            status: 0,
            message: e.to_string(),
        };
        let path = self
            .federation
            .endpoint_path(peer, endpoint, param)
            .await
            .map_err(unreachable)?;
        let response = self
            .federation
            .post(peer, &path, body)
            .await
            .map_err(unreachable)?;
        if response.is_success() {
            Ok(response.body)
        } else {
            Err(ServerError::Peer {
                peer: peer.clone(),
                status: response.status,
                message: String::from_utf8_lossy(&response.body).trim().to_owned(),
            })
        }
    }
}

enum Sent {
    Delivered,
    Refused(u16, String),
    Retry(Option<Duration>, String),
}

async fn send_one(provider: &Provider, to: &Domain, batch: &mimi_ds::NotifyBatch) -> Sent {
    let (room, body) = (&batch.room, &batch.body);
    if to == &provider.domain {
        let withheld = batch.withheld.iter().cloned().collect();
        return match provider.receive_notify(to, room, body, withheld).await {
            Ok(()) => Sent::Delivered,
            Err(e) => match e.http_status() {
                status @ (400..=407 | 409..=428 | 430..=499) => {
                    Sent::Refused(status, e.to_string())
                }
                _ => Sent::Retry(None, e.to_string()),
            },
        };
    }
    let path = match provider.federation.endpoint_path(to, &NOTIFY, room).await {
        Ok(path) => path,
        Err(e) => return Sent::Retry(None, e.to_string()),
    };
    let withheld = mimi_federation_api::withheld::format_withheld(&batch.withheld);
    let headers: Vec<(&str, &str)> = withheld
        .as_deref()
        .map(|v| (mimi_federation_api::withheld::WITHHELD_HEADER, v))
        .into_iter()
        .collect();
    match provider
        .federation
        .post_with(to, &path, body.clone(), &headers)
        .await
    {
        Ok(r) if r.is_success() => Sent::Delivered,
        Ok(r) if matches!(r.status, 408 | 429) || r.status >= 500 => {
            Sent::Retry(r.retry_after, format!("HTTP {}", r.status))
        }
        Ok(r) => Sent::Refused(r.status, String::from_utf8_lossy(&r.body).trim().to_owned()),
        Err(e) => Sent::Retry(None, e.to_string()),
    }
}

/// The worker for destination `to`, until `stop` turns true.
pub(crate) async fn run(
    provider: Arc<Provider>,
    to: Domain,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let backoff = Backoff::default();
    let mut attempt = 0u32;
    let mut lease: Option<Lease> = None;
    let mut next_dead_letter_check = Instant::now();
    loop {
        if *stop.borrow() {
            return;
        }
        if !holds_lease(&provider, &to, &mut lease).await {
            tokio::select! {
                () = tokio::time::sleep(LEASE_RETRY) => {}
                _ = stop.changed() => return,
            }
            continue;
        }
        if Instant::now() >= next_dead_letter_check {
            // At most once a second (or after the pause a transient failure asked for).
            let pause = offer_dead_letters(&provider, &to).await;
            next_dead_letter_check = Instant::now() + pause.unwrap_or(DEAD_LETTER_CHECK);
        }
        let peer_step = send_peer_requests(&provider, &to).await;
        let items = match provider.store.pending_outbound(&to, BATCH).await {
            Ok(items) => items,
            Err(e) => {
                tracing::error!(%to, error = %e, "reading the outbound queue failed");
                Vec::new()
            }
        };
        // (how long to wait, whether a new save may cut the wait short)
        let mut wait = None;
        match peer_step {
            Step::Next if items.is_empty() => wait = Some((Duration::from_secs(1), true)),
            Step::Next => {}
            Step::Pause(delay) => wait = Some((delay, false)),
            Step::Retry(retry_after, reason) => {
                let delay = backoff.delay(attempt, rand::random::<f64>(), retry_after);
                tracing::debug!(%to, %reason, attempt, ?delay, "consent requests will be retried");
                attempt = attempt.saturating_add(1);
                wait = Some((delay, false));
            }
        }
        let limit = provider.body_limit_of(&to).min(MAX_BATCH_BYTES);
        for batch in mimi_ds::batch_notifies(&items, BATCH, limit) {
            let step = send_batch(&provider, &to, &items, &batch).await;
            match step {
                Step::Next => attempt = 0,
                Step::Pause(delay) => {
                    wait = Some((delay, false));
                    break;
                }
                Step::Retry(retry_after, reason) => {
                    let delay = backoff.delay(attempt, rand::random::<f64>(), retry_after);
                    tracing::debug!(%to, ids = ?batch.ids, %reason, attempt, ?delay, "fan-out will be retried");
                    attempt = attempt.saturating_add(1);
                    wait = Some((delay, false));
                    break;
                }
            }
        }
        if let Some((wait, wakeable)) = wait {
            tokio::select! {
                () = wake.notified(), if wakeable => {}
                () = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// Sends the queued peer requests (consent) for `to` in id order: a 2xx or a final refusal
/// (a 4xx other than 408/429, recorded in the asking user's book) removes each; a transient
/// failure stops here, to be retried with the worker's backoff.
async fn send_peer_requests(provider: &Provider, to: &Domain) -> Step {
    let requests = match provider.store.pending_peer_requests(to, BATCH).await {
        Ok(requests) => requests,
        Err(e) => {
            tracing::error!(%to, error = %e, "reading the peer request queue failed");
            return Step::Pause(Duration::from_secs(1));
        }
    };
    for request in requests {
        match send_peer_request(provider, to, &request).await {
            Sent::Delivered => {
                tracing::debug!(%to, id = request.id, kind = request.kind.as_str(), "peer request delivered");
            }
            Sent::Refused(status, reason) => {
                tracing::warn!(
                    peer = %to,
                    id = request.id,
                    kind = request.kind.as_str(),
                    status,
                    %reason,
                    "peer refused a consent request; the asking user is told"
                );
                let why = format!("{to} answered HTTP {status}: {reason}");
                if let Err(e) = provider
                    .consent_refused(request.kind, &request.body, &why)
                    .await
                {
                    tracing::error!(%to, id = request.id, error = %e, "recording the refusal failed; will resend");
                    return Step::Pause(Duration::from_secs(1));
                }
            }
            Sent::Retry(retry_after, reason) => return Step::Retry(retry_after, reason),
        }
        if let Err(e) = provider.store.ack_peer_request(request.id).await {
            tracing::error!(%to, id = request.id, error = %e, "ack failed; will resend");
            return Step::Pause(Duration::from_millis(100));
        }
    }
    Step::Next
}

async fn send_peer_request(provider: &Core, to: &Domain, request: &PeerRequest) -> Sent {
    let (endpoint, recipient) = match request.kind {
        PeerRequestKind::RequestConsent => (&REQUEST_CONSENT, consent_recipient(request, true)),
        PeerRequestKind::UpdateConsent => (&UPDATE_CONSENT, consent_recipient(request, false)),
    };
    let Some(recipient) = recipient else {
        return Sent::Refused(0, "the queued body does not decode".into());
    };
    let path = match provider
        .federation
        .endpoint_path(to, endpoint, &recipient)
        .await
    {
        Ok(path) => path,
        Err(e) => return Sent::Retry(None, e.to_string()),
    };
    match provider
        .federation
        .post(to, &path, request.body.clone())
        .await
    {
        Ok(r) if r.is_success() => Sent::Delivered,
        Ok(r) if matches!(r.status, 408 | 429) || r.status >= 500 => {
            Sent::Retry(r.retry_after, format!("HTTP {}", r.status))
        }
        Ok(r) => Sent::Refused(r.status, String::from_utf8_lossy(&r.body).trim().to_owned()),
        Err(e) => Sent::Retry(None, e.to_string()),
    }
}

/// The user a queued consent body goes to (the path parameter): the target of a request, the
/// requester of an update.
fn consent_recipient(request: &PeerRequest, is_request: bool) -> Option<mimi_types::UserUri> {
    use mimi_federation_api::decode_exact;
    let entry = if is_request {
        decode_exact::<mimi_federation_api::request_consent::RequestConsentRequest>(&request.body)
            .ok()?
            .entry
    } else {
        decode_exact::<mimi_federation_api::update_consent::UpdateConsentRequest>(&request.body)
            .ok()?
            .entry
    };
    let scope = mimi_ds::follower::consent::ParsedScope::parse(&entry.scope).ok()?;
    Some(if is_request {
        scope.target
    } else {
        scope.requester
    })
}

/// What the worker does after a batch.
enum Step {
    /// Delivered or set aside: go on with the next batch.
    Next,
    /// The store failed: wait this long and read the queue again.
    Pause(Duration),
    /// The follower failed transiently: back off (its `Retry-After`, if any) and resend.
    Retry(Option<Duration>, String),
}

/// Sends one batch and records the outcome: acknowledged together when delivered; when the
/// follower refuses a batch of several items, each is offered alone so that only the ones it
/// refuses become dead letters.
async fn send_batch(
    provider: &Provider,
    to: &Domain,
    items: &[OutboundItem],
    batch: &mimi_ds::NotifyBatch,
) -> Step {
    provider.metrics.notify_sent(to, batch.body.len());
    let sent = send_one(provider, to, batch).await;
    match &sent {
        Sent::Delivered => provider.metrics.notify_acked(
            to,
            items
                .iter()
                .filter(|i| batch.ids.contains(&i.id))
                .map(|i| i.body.as_slice()),
        ),
        Sent::Refused(..) | Sent::Retry(..) => provider.metrics.notify_failed(to),
    }
    match sent {
        Sent::Delivered => {
            if let Err(e) = provider.store.ack_outbound_all(&batch.ids).await {
                tracing::error!(%to, ids = ?batch.ids, error = %e, "ack failed; will resend");
                return Step::Pause(Duration::from_millis(100));
            }
            tracing::debug!(%to, ids = ?batch.ids, room = %batch.room, "fan-out delivered");
            Step::Next
        }
        Sent::Refused(status, reason) if batch.ids.len() > 1 => {
            tracing::info!(%to, room = %batch.room, status, %reason, items = batch.ids.len(), "follower refused a batched notify; offering its items one by one");
            for id in &batch.ids {
                let Some(item) = items.iter().find(|i| i.id == *id) else {
                    continue;
                };
                let single = mimi_ds::NotifyBatch::single(item);
                match Box::pin(send_batch(provider, to, items, &single)).await {
                    Step::Next => {}
                    other => return other,
                }
            }
            Step::Next
        }
        Sent::Refused(status, reason) => {
            let Some(item) = items.iter().find(|i| batch.ids.first() == Some(&i.id)) else {
                return Step::Next;
            };
            if let Err(e) = set_aside(provider, to, item, 0, status, &reason).await {
                tracing::error!(%to, id = item.id, error = %e, "setting a refused item aside failed; will resend");
                return Step::Pause(Duration::from_millis(100));
            }
            Step::Next
        }
        Sent::Retry(retry_after, reason) => Step::Retry(retry_after, reason),
    }
}

/// Sets a refused item aside as a dead letter after its refusal number `refusals + 1`, with
/// the warning an operator acts on.
async fn set_aside(
    provider: &Core,
    to: &Domain,
    item: &OutboundItem,
    refusals: u64,
    status: u16,
    reason: &str,
) -> Result<(), mimi_ds::StoreError> {
    let refusals = refusals.saturating_add(1);
    let first = Duration::from_millis(provider.limits.dead_letter_retry_ms.max(1));
    let delay = dead_letter_delay(first, refusals);
    let retry_at_ms =
        Provider::now_ms().saturating_add(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
    // The follower's message, cut short: it is stored and logged.
    let reason: String = reason.chars().take(300).collect();
    let why = format!("HTTP {status}: {reason}");
    provider
        .store
        .set_aside_outbound(item.id, &why, retry_at_ms)
        .await?;
    provider.metrics.dead_lettered(to);
    tracing::warn!(
        peer = %to,
        room = %item.room,
        id = item.id,
        status,
        %reason,
        refusals,
        retry_in_s = delay.as_secs(),
        bytes = item.body.len(),
        "follower refused fan-out; kept as a dead letter and retried later. Check the peer's \
         logs and limits (HTTP 413: its max_body_bytes is below this item's size)"
    );
    Ok(())
}

/// Offers the due dead letters for `to` once each: delivered ones are acknowledged, refused
/// ones set aside again with a longer wait. Returns how long to leave dead letters alone
/// when the peer failed transiently (unreachable or busy): its `Retry-After`, else
/// `limits.dead_letter_retry_ms`.
async fn offer_dead_letters(provider: &Provider, to: &Domain) -> Option<Duration> {
    let due = match provider
        .store
        .dead_letters(to, Provider::now_ms(), DEAD_LETTER_BATCH)
        .await
    {
        Ok(due) => due,
        Err(e) => {
            tracing::error!(%to, error = %e, "reading the dead letters failed");
            return Some(Duration::from_secs(5));
        }
    };
    for dead in due {
        let item = &dead.item;
        provider.metrics.notify_sent(to, item.body.len());
        match send_one(provider, to, &mimi_ds::NotifyBatch::single(item)).await {
            Sent::Delivered => {
                provider.metrics.notify_acked(to, [item.body.as_slice()]);
                provider.metrics.dead_letter_delivered(to);
                if let Err(e) = provider.store.ack_outbound(item.id).await {
                    tracing::error!(%to, id = item.id, error = %e, "ack failed; will resend");
                    return Some(Duration::from_secs(1));
                }
                tracing::info!(
                    peer = %to,
                    room = %item.room,
                    id = item.id,
                    refusals = dead.refusals,
                    "dead letter delivered"
                );
            }
            Sent::Refused(status, reason) => {
                provider.metrics.notify_failed(to);
                if let Err(e) = set_aside(provider, to, item, dead.refusals, status, &reason).await
                {
                    tracing::error!(%to, id = item.id, error = %e, "setting a dead letter aside failed");
                    return Some(Duration::from_secs(5));
                }
            }
            Sent::Retry(retry_after, reason) => {
                provider.metrics.notify_failed(to);
                tracing::debug!(%to, id = item.id, %reason, "dead letter not delivered; the peer is unavailable");
                let first = Duration::from_millis(provider.limits.dead_letter_retry_ms.max(1));
                return Some(retry_after.unwrap_or(first).min(DEAD_LETTER_MAX_DELAY));
            }
        }
    }
    None
}

/// Whether this process may send to `to` now: always with SQLite (one process per provider);
/// with PostgreSQL if it holds (or now takes) the destination's lease. A lease whose connection
/// failed is dropped, and a new one is tried next time.
async fn holds_lease(provider: &Core, to: &Domain, lease: &mut Option<Lease>) -> bool {
    let Some(postgres) = provider.store.postgres() else {
        return true;
    };
    if lease.is_none() {
        match postgres.lease(&format!("outbound {to}")).await {
            Ok(new) => *lease = Some(new),
            Err(e) => {
                tracing::warn!(%to, error = %e, "cannot open the fan-out lease connection");
                return false;
            }
        }
    }
    let Some(held) = lease.as_mut() else {
        return false;
    };
    let was_held = held.is_held();
    match held.hold().await {
        Ok(true) => {
            if !was_held {
                tracing::info!(%to, "this process now sends the fan-out to {to}");
            }
            true
        }
        Ok(false) => false,
        Err(e) => {
            tracing::warn!(%to, error = %e, "lost the fan-out lease connection; trying again");
            *lease = None;
            false
        }
    }
}

/// Turns the wake-ups announced by every process's saves into this process's: outbound
/// workers and device event streams. When the listening connection was lost, everything is
/// woken (announcements meanwhile were missed).
pub(crate) async fn relay_wakeups(
    provider: Arc<Provider>,
    mut wakeups: Wakeups,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let next = tokio::select! {
            next = wakeups.next() => next,
            _ = stop.changed() => return,
        };
        match next {
            Ok(Wakeup::Outbound(to)) => {
                if let Some(wake) = provider.outbound_wakeups.get(&to) {
                    wake.notify_one();
                }
            }
            Ok(Wakeup::Events(device)) => provider.wake_device(&device),
            Ok(Wakeup::RoomEvents(room)) => provider.wake_room(&room).await,
            Ok(_) => provider.wake_all(),
            Err(e) => {
                tracing::warn!(error = %e, "listening for wake-ups failed; retrying in 1 s");
                provider.wake_all();
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }
}
