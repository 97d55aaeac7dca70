//! Ordered outbound queues, one per destination, each with its own worker.
//!
//! Requests to one peer are sent strictly one after the other, in the order they were queued: a
//! hub's fan-out to a follower must keep hub order (protocol-06 §5.5), and a commit must arrive
//! before the messages of its epoch. A request is retried until the peer answers 2xx (transient
//! failures: connection errors, 408, 429 and 5xx, with capped exponential backoff and the peer's
//! `Retry-After`) or refuses it for good (another 4xx), which is reported. Peers do not wait on
//! each other: a dead follower only stalls its own queue.
//!
//! The queues live in memory: durability is the caller's (the server persists its fan-out before
//! queueing, and re-queues what was not confirmed after a restart).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mimi_types::Domain;
use tokio::sync::{mpsc, watch};

use crate::backoff::Backoff;
use crate::client::{FederationClient, PeerResponse};

/// One request waiting to be sent.
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    /// The caller's identifier, returned in the [`OutboundEvent`].
    pub id: u64,
    /// The path at the peer.
    pub path: String,
    /// The body, `POST`ed.
    pub body: Vec<u8>,
}

/// What became of a queued request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum OutboundEvent {
    /// The peer answered 2xx.
    Delivered {
        /// The destination.
        peer: Domain,
        /// The request's identifier.
        id: u64,
        /// The peer's answer.
        response: PeerResponse,
        /// How many attempts it took.
        attempts: u32,
    },
    /// The peer refused the request for good (a 4xx other than 408 and 429).
    Rejected {
        /// The destination.
        peer: Domain,
        /// The request's identifier.
        id: u64,
        /// The peer's answer.
        response: PeerResponse,
    },
}

struct Queue {
    sender: mpsc::UnboundedSender<OutboundRequest>,
    depth: Arc<AtomicUsize>,
}

/// The set of per-destination queues.
pub struct Outbound {
    client: FederationClient,
    backoff: Backoff,
    queues: Mutex<BTreeMap<Domain, Queue>>,
    events: mpsc::UnboundedSender<OutboundEvent>,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("from", self.client.domain())
            .finish_non_exhaustive()
    }
}

impl Outbound {
    /// Queues sending through `client`; events arrive on the returned receiver.
    pub fn new(
        client: FederationClient,
        backoff: Backoff,
    ) -> (Self, mpsc::UnboundedReceiver<OutboundEvent>) {
        let (events, receiver) = mpsc::unbounded_channel();
        let (stop, _) = watch::channel(false);
        let outbound = Self {
            client,
            backoff,
            queues: Mutex::new(BTreeMap::new()),
            events,
            stop,
        };
        (outbound, receiver)
    }

    /// Queues `request` for `peer`, behind everything queued for `peer` before it. Must be called
    /// inside a Tokio runtime (the first request to a peer starts its worker).
    pub fn enqueue(&self, peer: &Domain, request: OutboundRequest) {
        let Ok(mut queues) = self.queues.lock() else {
            return;
        };
        let queue = queues.entry(peer.clone()).or_insert_with(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            let depth = Arc::new(AtomicUsize::new(0));
            tokio::spawn(worker(
                peer.clone(),
                receiver,
                depth.clone(),
                self.client.clone(),
                self.backoff,
                self.events.clone(),
                self.stop.subscribe(),
            ));
            Queue { sender, depth }
        });
        queue.depth.fetch_add(1, Ordering::SeqCst);
        if queue.sender.send(request).is_err() {
            queue.depth.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Requests queued for `peer` and not yet delivered or rejected.
    pub fn depth(&self, peer: &Domain) -> usize {
        self.queues
            .lock()
            .ok()
            .and_then(|q| q.get(peer).map(|q| q.depth.load(Ordering::SeqCst)))
            .unwrap_or(0)
    }
}

impl Drop for Outbound {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn worker(
    peer: Domain,
    mut receiver: mpsc::UnboundedReceiver<OutboundRequest>,
    depth: Arc<AtomicUsize>,
    client: FederationClient,
    backoff: Backoff,
    events: mpsc::UnboundedSender<OutboundEvent>,
    mut stop: watch::Receiver<bool>,
) {
    while let Some(request) = tokio::select! {
        next = receiver.recv() => next,
        _ = stop.changed() => None,
    } {
        let mut attempt = 0u32;
        let event = loop {
            let result = client
                .post(&peer, &request.path, request.body.clone())
                .await;
            let retry_after = match result {
                Ok(response) if response.is_success() => {
                    break OutboundEvent::Delivered {
                        peer: peer.clone(),
                        id: request.id,
                        response,
                        attempts: attempt + 1,
                    };
                }
                Ok(response) if !is_transient(response.status) => {
                    tracing::warn!(%peer, id = request.id, status = response.status, "peer refused request");
                    break OutboundEvent::Rejected {
                        peer: peer.clone(),
                        id: request.id,
                        response,
                    };
                }
                Ok(response) => {
                    tracing::debug!(%peer, id = request.id, status = response.status, attempt, "will retry");
                    response.retry_after
                }
                Err(err) => {
                    tracing::debug!(%peer, id = request.id, %err, attempt, "will retry");
                    None
                }
            };
            let wait = backoff.delay(attempt, rand::random::<f64>(), retry_after);
            attempt = attempt.saturating_add(1);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return,
            }
        };
        depth.fetch_sub(1, Ordering::SeqCst);
        if events.send(event).is_err() {
            return;
        }
    }
}

/// Whether a status is worth retrying.
fn is_transient(status: u16) -> bool {
    matches!(status, 408 | 429) || status >= 500
}
