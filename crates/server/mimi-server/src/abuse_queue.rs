//! The operators' queue of abuse reports (protocol-06 §5.9): every report this provider's hub
//! accepted, with its franked messages already verified, kept in the accounts database
//! (SQLite or PostgreSQL) until an operator resolves it (`mimi admin reports`). Nothing is
//! deleted: a resolution is a time and a note.

use mimi_federation_api::decode_exact;
use mimi_federation_api::report_abuse::AbuseReport;
use mimi_types::{Domain, RoomUri};

use crate::accounts::{Accounts, on_pool};
use crate::error::ServerError;

/// A report in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedReport {
    /// Its number in the queue.
    pub id: u64,
    /// The room it is about.
    pub room: RoomUri,
    /// The provider that handed it in (the reporter's).
    pub peer: Domain,
    /// When the hub accepted it, milliseconds since the UNIX epoch.
    pub received_ms: u64,
    /// The report, its messages' franks verified when it was accepted.
    pub report: AbuseReport,
    /// When and how an operator resolved it.
    pub resolved: Option<(u64, String)>,
}

type Row = (
    i64,
    String,
    String,
    i64,
    Vec<u8>,
    Option<i64>,
    Option<String>,
);

fn stored(e: impl std::fmt::Display) -> ServerError {
    ServerError::Accounts(format!("abuse report queue: {e}"))
}

fn queued(row: Row) -> Result<QueuedReport, ServerError> {
    let (id, room, peer, received_ms, report, resolved_ms, resolution) = row;
    Ok(QueuedReport {
        id: u64::try_from(id).map_err(stored)?,
        room: RoomUri::parse(&room).map_err(stored)?,
        peer: Domain::parse(&peer).map_err(stored)?,
        received_ms: u64::try_from(received_ms).map_err(stored)?,
        report: decode_exact(&report).map_err(stored)?,
        resolved: match resolved_ms {
            Some(at) => Some((
                u64::try_from(at).map_err(stored)?,
                resolution.unwrap_or_default(),
            )),
            None => None,
        },
    })
}

fn ms(at: u64) -> i64 {
    i64::try_from(at).unwrap_or(i64::MAX)
}

impl Accounts {
    /// Queues an accepted report (`report` TLS-encoded); returns its number. Durable when
    /// this returns.
    pub async fn queue_abuse_report(
        &self,
        room: &RoomUri,
        peer: &Domain,
        received_ms: u64,
        report: &[u8],
    ) -> Result<u64, ServerError> {
        let insert = "INSERT INTO abuse_reports (room, peer, received_ms, report) \
                      VALUES ($1, $2, $3, $4) RETURNING id";
        let id: i64 = on_pool!(self, pool => sqlx::query_scalar(insert)
            .bind(room.to_string())
            .bind(peer.to_string())
            .bind(ms(received_ms))
            .bind(report)
            .fetch_one(pool)
            .await
            .map_err(stored)?);
        u64::try_from(id).map_err(stored)
    }

    /// Up to `limit` reports from number `after` on, oldest first; with `open_only`, only
    /// those not resolved.
    pub async fn abuse_reports(
        &self,
        open_only: bool,
        after: u64,
        limit: usize,
    ) -> Result<Vec<QueuedReport>, ServerError> {
        let select = "SELECT id, room, peer, received_ms, report, resolved_ms, resolution \
                      FROM abuse_reports WHERE id > $1 AND ($2 = 0 OR resolved_ms IS NULL) \
                      ORDER BY id LIMIT $3";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<Row> = on_pool!(self, pool => sqlx::query_as(select)
            .bind(ms(after))
            .bind(i64::from(open_only))
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(stored)?);
        rows.into_iter().map(queued).collect()
    }

    /// Report number `id`, if queued.
    pub async fn abuse_report(&self, id: u64) -> Result<Option<QueuedReport>, ServerError> {
        let after = id.saturating_sub(1);
        Ok(self
            .abuse_reports(false, after, 1)
            .await?
            .into_iter()
            .find(|r| r.id == id))
    }

    /// Marks report `id` resolved at `at_ms` with `note`; false if there is no such report or
    /// it was resolved already.
    pub async fn resolve_abuse_report(
        &self,
        id: u64,
        at_ms: u64,
        note: &str,
    ) -> Result<bool, ServerError> {
        let update = "UPDATE abuse_reports SET resolved_ms = $2, resolution = $3 \
                      WHERE id = $1 AND resolved_ms IS NULL";
        let done = on_pool!(self, pool => sqlx::query(update)
            .bind(ms(id))
            .bind(ms(at_ms))
            .bind(note)
            .execute(pool)
            .await
            .map_err(stored)?
            .rows_affected());
        Ok(done == 1)
    }
}
