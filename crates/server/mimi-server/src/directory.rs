//! The provider's room directory (`GET /v1/directory`): the discoverable rooms this provider
//! hosts. Which rooms and what of them is the hub engine's decision
//! ([`mimi_ds::hub::DirectoryEntry`]); this keeps the entries in the accounts database, written
//! after every change of a hosted room's state (a commit), so that a search reads one table
//! instead of every room. The table is an index: a crash between the room's write and its
//! entry's leaves the entry as it was until the room's next commit.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use mimi_client_api::{DirectoryQuery, DirectoryRoom, RoomDirectory};
use mimi_ds::hub::DirectoryEntry;
use mimi_types::RoomUri;

use crate::accounts::{Accounts, on_pool};
use crate::client_http::{authenticate, reply};
use crate::error::ServerError;
use crate::provider::Provider;

/// Rooms one answer lists at most.
pub(crate) const DIRECTORY_PAGE: usize = 100;

fn stored(e: impl std::fmt::Display) -> ServerError {
    ServerError::Accounts(format!("room directory: {e}"))
}

type Row = (String, String, String, i64, bool);

impl Accounts {
    /// Lists `room` with `entry`, or takes it off the directory (`None`).
    pub(crate) async fn set_directory_entry(
        &self,
        room: &RoomUri,
        entry: Option<&DirectoryEntry>,
    ) -> Result<(), ServerError> {
        let Some(e) = entry else {
            let delete = "DELETE FROM room_directory WHERE room = $1";
            return on_pool!(self, p => sqlx::query(delete)
                .bind(room.to_string())
                .execute(p)
                .await
                .map(drop))
            .map_err(stored);
        };
        let upsert = "INSERT INTO room_directory (room, name, topic, participants, open_join) \
                      VALUES ($1, $2, $3, $4, $5) ON CONFLICT (room) DO UPDATE SET \
                      name = excluded.name, topic = excluded.topic, \
                      participants = excluded.participants, open_join = excluded.open_join";
        let participants = i64::try_from(e.participants).unwrap_or(i64::MAX);
        on_pool!(self, p => sqlx::query(upsert)
            .bind(room.to_string())
            .bind(&e.name)
            .bind(&e.topic)
            .bind(participants)
            .bind(e.open)
            .execute(p)
            .await
            .map(drop))
        .map_err(stored)
    }

    /// The listed rooms whose name, topic or URI contains `text` (case-insensitive), sorted
    /// by URI, at most `limit`.
    pub(crate) async fn directory(
        &self,
        text: &str,
        limit: usize,
    ) -> Result<Vec<DirectoryRoom>, ServerError> {
        let select = "SELECT room, name, topic, participants, open_join FROM room_directory \
                      WHERE LOWER(room) LIKE $1 ESCAPE '\\' OR LOWER(name) LIKE $1 ESCAPE '\\' \
                      OR LOWER(topic) LIKE $1 ESCAPE '\\' ORDER BY room LIMIT $2";
        let escaped: String = text
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = format!("%{escaped}%");
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<Row> = on_pool!(self, p => {
            sqlx::query_as(select)
                .bind(&pattern)
                .bind(limit)
                .fetch_all(p)
                .await
        })
        .map_err(stored)?;
        Ok(rows
            .into_iter()
            .map(|(room, name, topic, participants, open)| DirectoryRoom {
                room,
                name,
                topic,
                participants: u64::try_from(participants).unwrap_or(0),
                open,
            })
            .collect())
    }
}

/// `GET /v1/directory?q=TEXT`, for this provider's users.
pub(crate) async fn list(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Query(query): Query<DirectoryQuery>,
) -> Response {
    let result = async {
        authenticate(&provider.accounts, &headers).await?;
        let text = query.q.unwrap_or_default();
        if text.chars().count() > 256 {
            return Err(ServerError::api(
                mimi_client_api::ErrorCode::BadRequest,
                "the search text is longer than 256 characters".to_owned(),
            ));
        }
        let rooms = provider.accounts.directory(&text, DIRECTORY_PAGE).await?;
        Ok(RoomDirectory { rooms })
    }
    .await;
    reply(StatusCode::OK, result)
}
