//! Operators' hub retractions of abusive messages (hub-retracted-messages-00; digest §5.9).
//!
//! `mimi admin retract` (or `mimi admin reports resolve --retract`) writes a request into the
//! accounts database beside the running server; the server's retraction worker (one per
//! process, every second; a process first claims a request by marking it done, so with
//! PostgreSQL only one of the provider's processes carries it out) carries it out through the hub engine (`mimi_ds::hub::HubRoom::retract`: the room's policy
//! must give the hub's service user `canDeleteOtherMessage`), which signs the AppEphemeral
//! proposal and fans it out like any proposal, and records the outcome with the request. Only
//! rooms this provider hosts can be retracted in. The hub fills in the remover (its service
//! user) and the time when it sends.

use std::sync::Arc;
use std::time::Duration;

use mimi_content::MessageId;
use mimi_room::components::HubRetraction;
use mimi_types::codepoints::ComponentId;
use mimi_types::{RoomUri, UserUri};
use tokio::sync::watch;

use crate::abuse_queue::QueuedReport;
use crate::accounts::{Accounts, on_pool};
use crate::error::ServerError;
use crate::provider::Provider;

/// How often the worker looks for requests.
const POLL: Duration = Duration::from_secs(1);

/// A retraction an operator asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetractionRequest {
    /// Its number.
    pub id: u64,
    /// The room.
    pub room: RoomUri,
    /// What to retract (the hub fills in remover and time when it sends).
    pub retraction: HubRetraction,
    /// The abuse report it resolves, if any.
    pub report: Option<u64>,
    /// When it was asked for, milliseconds since the UNIX epoch.
    pub requested_ms: u64,
    /// When and with what outcome the server carried it out.
    pub done: Option<(u64, String)>,
}

type Row = (
    i64,
    String,
    Vec<u8>,
    Option<i64>,
    i64,
    Option<i64>,
    Option<String>,
);

fn stored(e: impl std::fmt::Display) -> ServerError {
    ServerError::Accounts(format!("hub retraction requests: {e}"))
}

fn ms(at: u64) -> i64 {
    i64::try_from(at).unwrap_or(i64::MAX)
}

fn encode(retraction: &HubRetraction) -> Vec<u8> {
    let mut out = retraction.component_id().value().to_be_bytes().to_vec();
    out.extend(retraction.encode());
    out
}

fn decode(bytes: &[u8]) -> Result<HubRetraction, ServerError> {
    let (Some(id), Some(data)) = (bytes.get(..2), bytes.get(2..)) else {
        return Err(stored("a request is cut short"));
    };
    let id = ComponentId::new(u16::from_be_bytes([id[0], id[1]]));
    HubRetraction::decode(id, data)
        .ok_or_else(|| stored(format!("component {id:?} is not a hub retraction")))?
        .map_err(stored)
}

fn request(row: Row) -> Result<RetractionRequest, ServerError> {
    let (id, room, bytes, report, requested_ms, done_ms, outcome) = row;
    Ok(RetractionRequest {
        id: u64::try_from(id).map_err(stored)?,
        room: RoomUri::parse(&room).map_err(stored)?,
        retraction: decode(&bytes)?,
        report: report.map(u64::try_from).transpose().map_err(stored)?,
        requested_ms: u64::try_from(requested_ms).map_err(stored)?,
        done: match done_ms {
            Some(at) => Some((
                u64::try_from(at).map_err(stored)?,
                outcome.unwrap_or_default(),
            )),
            None => None,
        },
    })
}

const SELECT: &str = "SELECT id, room, request, report_id, requested_ms, done_ms, outcome \
                      FROM hub_retractions";

impl QueuedReport {
    /// The MIMI message IDs of the reported messages (of the alleged abuser, in the room):
    /// what a retraction of them names. Messages whose IDs cannot be computed are left out.
    pub fn message_ids(&self) -> Vec<[u8; 32]> {
        let Ok(sender) = UserUri::parse(self.report.alleged_abuser_uri.as_str()) else {
            return Vec::new();
        };
        let mut ids: Vec<[u8; 32]> = Vec::new();
        for m in &self.report.messages {
            if let Ok(MessageId(id)) =
                mimi_content::message_id_for(&sender, &self.room, &m.message_content)
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
        ids
    }
}

impl Accounts {
    /// Queues a retraction in `room` (hosted here) for the running server, optionally on
    /// behalf of report `report`; returns its number. Durable when this returns.
    pub async fn request_retraction(
        &self,
        room: &RoomUri,
        retraction: &HubRetraction,
        report: Option<u64>,
        now_ms: u64,
    ) -> Result<u64, ServerError> {
        let insert = "INSERT INTO hub_retractions (room, request, report_id, requested_ms) \
                      VALUES ($1, $2, $3, $4) RETURNING id";
        let report = report.map(ms);
        let id: i64 = on_pool!(self, pool => sqlx::query_scalar(insert)
            .bind(room.to_string())
            .bind(encode(retraction))
            .bind(report)
            .bind(ms(now_ms))
            .fetch_one(pool)
            .await
            .map_err(stored)?);
        u64::try_from(id).map_err(stored)
    }

    /// Request number `id`, if there is one.
    pub async fn retraction_request(
        &self,
        id: u64,
    ) -> Result<Option<RetractionRequest>, ServerError> {
        let select = format!("{SELECT} WHERE id = $1");
        let row: Option<Row> = on_pool!(self, pool => sqlx::query_as(&select)
            .bind(ms(id))
            .fetch_optional(pool)
            .await
            .map_err(stored)?);
        row.map(request).transpose()
    }

    /// Up to `limit` requests not carried out yet, oldest first.
    async fn open_retractions(&self, limit: i64) -> Result<Vec<Row>, ServerError> {
        let select = format!("{SELECT} WHERE done_ms IS NULL ORDER BY id LIMIT $1");
        Ok(on_pool!(self, pool => sqlx::query_as(&select)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(stored)?))
    }

    /// Claims request `id` (marks it done at `at_ms`, "being carried out"); false if another
    /// process of the provider claimed it first.
    async fn claim_retraction(&self, id: i64, at_ms: u64) -> Result<bool, ServerError> {
        self.set_retraction(
            "UPDATE hub_retractions SET done_ms = $2, outcome = $3 \
             WHERE id = $1 AND done_ms IS NULL",
            id,
            at_ms,
            "being carried out",
        )
        .await
    }

    /// Records the outcome of claimed request `id`.
    async fn finish_retraction(
        &self,
        id: i64,
        at_ms: u64,
        outcome: &str,
    ) -> Result<bool, ServerError> {
        self.set_retraction(
            "UPDATE hub_retractions SET done_ms = $2, outcome = $3 WHERE id = $1",
            id,
            at_ms,
            outcome,
        )
        .await
    }

    async fn set_retraction(
        &self,
        update: &str,
        id: i64,
        at_ms: u64,
        outcome: &str,
    ) -> Result<bool, ServerError> {
        let done = on_pool!(self, pool => sqlx::query(update)
            .bind(id)
            .bind(ms(at_ms))
            .bind(outcome)
            .execute(pool)
            .await
            .map_err(stored)?
            .rows_affected());
        Ok(done == 1)
    }
}

/// What a retraction names, for the outcome an operator reads.
fn describe(retraction: &HubRetraction) -> String {
    match retraction {
        HubRetraction::Messages(m) => format!("{} message(s)", m.retracted_messages.len()),
        HubRetraction::Range(r) => match r.starting_timestamp {
            Some(from) => format!(
                "every message of {} from {from} ms on",
                r.abusive_sender_uri
            ),
            None => format!("every message of {}", r.abusive_sender_uri),
        },
    }
}

/// Carries out one request; returns the outcome to record.
async fn carry_out(provider: &Provider, room: &RoomUri, retraction: HubRetraction) -> String {
    if room.hub_domain() != &provider.domain {
        return format!(
            "refused: {room} is hosted by {}, not by this provider; only a room's hub retracts",
            room.hub_domain()
        );
    }
    let what = describe(&retraction);
    let stamped = retraction.stamped(
        mimi_room::presets::hub_service_user(&provider.domain),
        Provider::now_ms(),
    );
    match provider.hub_retract(room, &stamped).await {
        Ok(()) => format!("retracted {what}: the hub's proposal went to every member provider"),
        Err(e) => format!("refused: {e}"),
    }
}

/// The retraction worker: carries out queued requests until `stop`.
pub(crate) async fn run(provider: Arc<Provider>, mut stop: watch::Receiver<bool>) {
    loop {
        match provider.accounts.open_retractions(16).await {
            Ok(rows) => {
                for row in rows {
                    let id = row.0;
                    match provider
                        .accounts
                        .claim_retraction(id, Provider::now_ms())
                        .await
                    {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(e) => {
                            tracing::error!(request = id, error = %e, "claiming a hub retraction failed");
                            continue;
                        }
                    }
                    let outcome = match request(row) {
                        Ok(r) => carry_out(&provider, &r.room, r.retraction).await,
                        Err(e) => format!("refused: {e}"),
                    };
                    match provider
                        .accounts
                        .finish_retraction(id, Provider::now_ms(), &outcome)
                        .await
                    {
                        Ok(_) => tracing::info!(request = id, %outcome, "hub retraction"),
                        Err(e) => {
                            tracing::error!(request = id, error = %e, "recording a hub retraction failed");
                        }
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "reading hub retraction requests failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => return,
        }
    }
}
