//! The mimi-rs provider server: the async shell around the sans-IO engines of `mimi-ds`.
//!
//! * [`Config`]: the TOML configuration (every key documented with its default in
//!   [`config`]).
//! * [`init`] / [`init_dev_federation`]: write a provider (MLS CA, server identity, TLS CA and
//!   certificate, configuration), or several that trust each other for local use;
//!   [`add_client_tls`]: a self-signed client API certificate for development.
//! * [`Server::start`]: the federation listener (mutual TLS, via `mimi-transport`), the client
//!   API listener (`mimi-transport`'s public listener: HTTPS with `[client_tls]`, else plain
//!   HTTP meant for 127.0.0.1; request-head and idle timeouts on both), and one outbound worker
//!   per peer that sends the stored fan-out in order.
//! * [`LocalFederation`] (the [`local`] module): N providers on 127.0.0.1 written and started
//!   in this process, for the demo, `mimi bench` and the tests.
//!
//! Protocol decisions stay in `mimi-ds`; this crate loads state, runs an engine, persists the
//! new state **with** its effects in one store call, answers, then carries out the effects:
//!
//! * hub rooms are loaded from the store per request under a per-room async mutex (and, with
//!   PostgreSQL, the room's row locked `FOR UPDATE` in the transaction that saves it) and saved
//!   with their fan-out in one transaction before the answer;
//! * follower inboxes write each accepted message once (the follower log, with the member
//!   devices' interval changes and the inbox record) in one `write_inbox` call before answering
//!   201; device streams are cursors over that log;
//! * the outbound worker sends `pending_outbound` rows per follower in id order and acks them
//!   only on 2xx (fan-out to our own domain is applied locally, without HTTP).
//!
//! Typing indicators are ephemeral (the `typing` module, our reading D27 of the federation
//! API): `POST /v1/rooms/{room}/typing` is checked by the hub like a message but neither stored
//! nor queued; the hub relays it to its devices' live WebSocket streams and best-effort to
//! member domains over `POST /ephemeral/{room}`, whose followers hand it to their live streams
//! only. A device not streaming at that moment never sees it.
//!
//! The client API listener also serves Prometheus metrics at `GET /metrics` (requests by
//! route and status, fan-out per peer, outbound queue depths, fan-out latency, hub messages
//! accepted; see the `metrics` module).
//!
//! Accounts (users, password hashes, devices, token hashes, which local device is in which
//! room) live next to the delivery-service store ([`accounts`]: a second SQLite file, or the
//! same PostgreSQL database), and so do the attachment blobs devices upload for a room
//! (`POST /v1/blobs?room=`, downloaded by members through their own provider, `GET /v1/assets`,
//! which fetches other providers' assets with `proxyDownload`: see `mimi_client_api::blobs`).
//!
//! `database.url` selects the backend (SQLite files in the data directory by default, or
//! `postgres://...`; see [`config`]); `serve` migrates on start, `mimi migrate` does only that.
//! `GET /health` on the client API listener answers 200 `{"database":"ok"}`, or 503 when the
//! database does not answer within 5 s.
//!
//! Several processes of one provider (scale-out) share one PostgreSQL database; any of them
//! serves any client or peer request, and peers list all their federation addresses
//! (`addresses = [...]`, tried in order). Hub decisions for a room are serialized by its row
//! lock; each destination's fan-out is sent by one process at a time, the holder of its lease
//! (a session advisory lock; when the holder dies PostgreSQL frees it and another process
//! carries on from the oldest unacknowledged item, within 0.5 s); saves announce new fan-out and
//! device events with `pg_notify` at commit, which wakes the senders and event streams of every
//! process (`apps/mimi/tests/scale.rs` runs two processes and kills one mid-burst). Not shared
//! across processes: typing indicators (relayed to the live streams of the receiving process
//! only), the KeyMaterial and consent requester rate limits, and metrics (per process).
//!
//! Consent (the `consent` module; the decisions are `mimi_ds::follower::consent`'s): each
//! user's consent book (grants per room or any room, blocks, waiting requests, own requests,
//! policy) is a record in the store, consulted by `keyMaterial` (`noConsent`,
//! `noConsentForThisRoom`) and changed by `requestConsent`/`updateConsent` from peers and by
//! the client API's `/v1/contacts` routes. What a change sends to another provider is queued
//! in the same transaction (`peer_requests`) and sent by that provider's outbound worker;
//! what it sends to another user of ours is applied to their book in the same transaction.
//! Users who set no policy get `[consent] default_policy` (`contacts`; a development
//! federation writes `anyone`).
//!
//! Running three providers locally:
//!
//! ```text
//! mimi init --dev-federation x.example,y.example,z.example --dir /tmp/fed
//! mimi serve --config /tmp/fed/x.example/mimi.toml   # and y, z in other terminals
//! curl http://127.0.0.1:18080/openapi.json           # x's client API
//! ```
//!
//! Known limits: the follower's `RoomInbox` lives in memory (mimi-ds has no record form for
//! it; the stored record keeps only recent body digests for deduplication); a device removed
//! from a room keeps getting its events (its client ignores them); the client API does not
//! check the MLS sender of a handshake for rooms hosted elsewhere (the remote hub checks the
//! domain only); for rooms hosted here it does. The outbound worker sends one notify per
//! request per destination, so fan-out lags behind a burst: in the crash test
//! (`apps/mimi/tests/crash.rs`, 2,000 messages from four devices on 2 cores) about 1,000 items
//! were still queued at the hub when the burst ended, and the mean accept-to-ack latency was
//! about 3.5 s.

pub mod abuse_queue;
pub mod accounts;
mod accounts_schema;
mod assets;
mod auth_limits;
mod blob_store;
mod blobs;
mod client_api;
mod client_http;
pub mod config;
mod consent;
mod contacts;
mod device_wake;
mod devices;
mod directory;
mod discovery;
mod error;
mod federation;
mod follower;
mod health;
mod hub;
mod hub_cache;
mod init;
mod live;
pub mod local;
mod mailbox;
mod metrics;
mod metrics_route;
mod outbound;
mod passwords;
mod peer_http;
mod pki;
mod provider;
mod report_abuse;
pub mod retraction;
mod server;
mod store;
mod token_cache;
mod transfers;
mod typing;
mod withheld;

pub use config::{Config, ConfigError};
pub use error::ServerError;
pub use init::{
    CLIENT_TLS_CERT, CLIENT_TLS_KEY, CONFIG_FILE, DevProvider, add_client_tls, free_loopback_addr,
    init, init_dev_federation, init_dev_federation_at, is_addr_in_use,
};
pub use local::{LocalError, LocalEvent, LocalFederation, LocalOptions, LocalProvider, Ports};
pub use server::{RunningServer, Server};
