//! The device mailbox of the client API (see `mimi_client_api::mailbox`): opaque items one
//! device of a user leaves for another device of the same user (history for a new device).
//! Kept in the accounts database until the recipient deletes them; bounded per item and per
//! recipient. The provider never reads an item: the devices check who made it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use mimi_client_api::mailbox::{MAILBOX_PAGE, MAX_MAILBOX_ITEM_BYTES, MAX_MAILBOX_ITEMS};
use mimi_client_api::{
    ErrorCode, MailboxDeleted, MailboxItem, MailboxItems, MailboxPost, MailboxPosted,
};
use mimi_types::{ClientUri, Ident};

use crate::accounts::{Accounts, on_pool};
use crate::client_http::{authenticate, json, reply, user_of};
use crate::error::ServerError;
use crate::provider::Provider;

fn stored(e: impl std::fmt::Display) -> ServerError {
    ServerError::Accounts(format!("device mailbox: {e}"))
}

impl Accounts {
    /// Leaves `item` from `sender` for `recipient`, unless its mailbox holds `cap` items
    /// already (`None`). Durable when this returns.
    async fn mailbox_put(
        &self,
        recipient: &ClientUri,
        sender: &ClientUri,
        item: &[u8],
        cap: usize,
    ) -> Result<Option<u64>, ServerError> {
        let insert = "INSERT INTO mailbox (recipient, sender, item) SELECT $1, $2, $3 \
                      WHERE (SELECT COUNT(*) FROM mailbox WHERE recipient = $1) < $4 \
                      RETURNING id";
        let cap = i64::try_from(cap).unwrap_or(i64::MAX);
        let id: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(insert)
            .bind(recipient.to_string())
            .bind(sender.to_string())
            .bind(item)
            .bind(cap)
            .fetch_optional(pool)
            .await
            .map_err(stored)?);
        id.map(|id| u64::try_from(id).map_err(stored)).transpose()
    }

    /// The oldest `limit` items of `recipient`'s mailbox.
    async fn mailbox_items(
        &self,
        recipient: &ClientUri,
        limit: usize,
    ) -> Result<Vec<MailboxItem>, ServerError> {
        let select = "SELECT id, sender, item FROM mailbox WHERE recipient = $1 \
                      ORDER BY id LIMIT $2";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<(i64, String, Vec<u8>)> = on_pool!(self, pool => sqlx::query_as(select)
            .bind(recipient.to_string())
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(stored)?);
        rows.into_iter()
            .map(|(id, from, item)| {
                Ok(MailboxItem {
                    id: u64::try_from(id).map_err(stored)?,
                    from,
                    item,
                })
            })
            .collect()
    }

    /// Removes item `id` of `recipient`'s mailbox; false if it has no such item.
    async fn mailbox_delete(&self, recipient: &ClientUri, id: u64) -> Result<bool, ServerError> {
        let delete = "DELETE FROM mailbox WHERE id = $1 AND recipient = $2";
        let id = i64::try_from(id).unwrap_or(i64::MAX);
        let done = on_pool!(self, pool => sqlx::query(delete)
            .bind(id)
            .bind(recipient.to_string())
            .execute(pool)
            .await
            .map_err(stored)?
            .rows_affected());
        Ok(done == 1)
    }

    /// Removes everything left for `recipient` (its device was removed).
    pub(crate) async fn mailbox_clear(&self, recipient: &ClientUri) -> Result<(), ServerError> {
        let delete = "DELETE FROM mailbox WHERE recipient = $1";
        on_pool!(self, pool => sqlx::query(delete)
            .bind(recipient.to_string())
            .execute(pool)
            .await
            .map(drop))
        .map_err(stored)?;
        Ok(())
    }
}

/// `POST /v1/devices/{device}/mailbox`.
pub(crate) async fn send(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Path(device): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let me = authenticate(&provider.accounts, &headers).await?;
        let user = user_of(&me)?;
        let id = Ident::parse(&device).map_err(|e| {
            ServerError::api(
                ErrorCode::BadRequest,
                format!("{device:?} is not a device id: {e}"),
            )
        })?;
        // Only the caller's own user's devices can be named: another user's device id names
        // a device of this user, which is then unknown.
        let target = ClientUri::of_user(&user, id);
        if target == me {
            return Err(ServerError::api(
                ErrorCode::BadRequest,
                "a device cannot leave items for itself: name another device of your user",
            ));
        }
        if !provider.accounts.devices_of(&user).await?.contains(&target) {
            return Err(ServerError::api(
                ErrorCode::NotFound,
                format!("{user} has no device {device}: list them with GET /v1/devices"),
            ));
        }
        let post: MailboxPost = json(&body)?;
        if post.item.len() > MAX_MAILBOX_ITEM_BYTES {
            return Err(ServerError::api(
                ErrorCode::TooLarge,
                format!(
                    "a mailbox item of {} bytes is over the limit of {MAX_MAILBOX_ITEM_BYTES}",
                    post.item.len()
                ),
            ));
        }
        let id = provider
            .accounts
            .mailbox_put(&target, &me, &post.item, MAX_MAILBOX_ITEMS)
            .await?
            .ok_or_else(|| {
                ServerError::api(
                    ErrorCode::QuotaExceeded,
                    format!(
                        "the mailbox of {target} holds {MAX_MAILBOX_ITEMS} items already: \
                         that device must sync (and take them) first"
                    ),
                )
            })?;
        Ok(MailboxPosted { id })
    }
    .await;
    reply(StatusCode::CREATED, result)
}

/// `GET /v1/mailbox`.
pub(crate) async fn list(State(provider): State<Arc<Provider>>, headers: HeaderMap) -> Response {
    let result = async {
        let me = authenticate(&provider.accounts, &headers).await?;
        let items = provider.accounts.mailbox_items(&me, MAILBOX_PAGE).await?;
        Ok(MailboxItems { items })
    }
    .await;
    reply(StatusCode::OK, result)
}

/// `DELETE /v1/mailbox/{item}`.
pub(crate) async fn delete(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Path(item): Path<String>,
    _body: Bytes,
) -> Response {
    let result = async {
        let me = authenticate(&provider.accounts, &headers).await?;
        let id: u64 = item.parse().map_err(|_| {
            ServerError::api(
                ErrorCode::BadRequest,
                format!("{item:?} is not a mailbox item id (a number from GET /v1/mailbox)"),
            )
        })?;
        if !provider.accounts.mailbox_delete(&me, id).await? {
            return Err(ServerError::api(
                ErrorCode::NotFound,
                format!("this device's mailbox has no item {id}"),
            ));
        }
        Ok(MailboxDeleted { id })
    }
    .await;
    reply(StatusCode::OK, result)
}
