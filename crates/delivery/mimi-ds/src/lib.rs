//! The MIMI delivery service as pure engines (draft-ietf-mimi-protocol-06 §5, §7).
//!
//! Nothing here opens a socket, reads the clock, spawns a task or touches a database. Every
//! entry point takes the current time (`now`, milliseconds since the UNIX epoch), the
//! **authenticated** peer domain (from mutual TLS), the decoded request and the state it acts on,
//! and returns the response plus the effects the caller must carry out, in this order:
//!
//! 1. persist the changed state and the effects in **one** transaction ([`DsStore`]);
//! 2. answer the peer (a `success` is a promise that the fan-out will happen);
//! 3. execute the effects: [`Effect::Notify`] to followers over their ordered queues (the hub's
//!    own provider included, through the same inbox code). An accepted abuse report is kept
//!    for the operators before the answer ([`hub::AbuseReportOutcome::Accepted`]).
//!
//! * [`hub`]: a room's hub: `update` (one commit per epoch, first valid wins), `submitMessage`
//!   (participant, capability and epoch checks, hub order and timestamp), `groupInfo`,
//!   Welcome routing by KeyPackageRef, follower bookkeeping.
//! * [`follower`]: a provider's receiving side: the KeyPackage pool (single use, last resort,
//!   expiry, per-requester rate limit), consent, and `notify` receipt (only from the room's
//!   hub; repeats found per message, however the hub grouped them, and acknowledged once;
//!   epochs never go backwards; a commit before the messages of its epoch; early messages
//!   buffered).
//! * [`assets`]: who may fetch an attachment asset (`proxyDownload`).
//! * [`discovery`]: `identifierQuery` at the target provider: profiles, what matches, what an
//!   answer reveals, and the per-requester limit.
//! * [`batch_notifies`]: a follower's queued fan-out grouped into notify bodies, one per room
//!   and batch, in queue order; [`queue_notify`]: what one queued item holds (the body, and
//!   the member devices its application messages are withheld from).
//! * Readings where the drafts leave a choice: only the hub is an external sender of a room's
//!   group (protocol-06 §7.4 lets followers be added while they have participants; we never
//!   add them, so the MUST to remove them is met trivially and followers need no MLS
//!   signing key); the hub ships the new epoch's ratchet tree with each Welcome; a proposal
//!   bundle is accepted or refused whole.
//! * [`DsStore`]: what the engines need persisted, with an in-memory implementation and a
//!   conformance suite every backend runs.

pub mod assets;
mod batch;
pub mod discovery;
mod effects;
mod error;
pub mod follower;
pub mod hub;
mod queued;
mod record;
mod store;

pub use batch::{NotifyBatch, batch_notifies};
pub use effects::{Delivery, Effect, Recipients};
pub use error::RequestError;
pub use queued::{QueuedNotify, queue_notify, read_queued};
pub use record::RecordError;
pub use store::{
    ConsentRecord, ConsentWrite, DeadLetter, DeviceEvent, DsStore, FeedItem, LogEntry, MemoryStore,
    NewDeviceEvent, NewOutbound, NewPeerRequest, OutboundItem, PeerRequest, PeerRequestKind,
    ProfileSaved, RoomHead, RoomRecord, StoreError, conformance,
};
