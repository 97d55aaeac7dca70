//! Ephemeral messages (typing indicators): relayed to live event streams only, never stored.
//!
//! Our reading of what the drafts leave open (`mimi_federation_api::defects`, D27):
//!
//! * A device posts the encrypted indicator (a `SubmitMessageRequest`, see
//!   `mimi_client_core::TYPING_PREFIX`) to `POST /v1/rooms/{room}/typing`.
//! * For a room hosted here, the hub checks it exactly like a message (the sender's domain, a
//!   participant allowed to send, the current epoch: `HubRoom::check_ephemeral`) on the room
//!   as stored, read through the hub's cache of decoded rooms (`Provider::peek_hub`), which it
//!   leaves unchanged: nothing is stored, ordered or queued. It then hands it to the live
//!   WebSocket streams of its own member devices and posts it best-effort to every other
//!   member domain that gets application messages on the extension route
//!   `POST /ephemeral/{room}` (mutual TLS).
//! * `canReceiveMessage` holds for indicators as for messages: they go only to the providers
//!   that get application messages (`HubRoom::reader_domains`), and the devices the hub would
//!   withhold a message from (`HubRoom::withheld_at`) are named in the same extension header
//!   as on `notify` (`mimi_federation_api::withheld`); the hub's own streams and the
//!   follower's skip them.
//! * For a room hosted elsewhere, the provider forwards the request to the hub on that route
//!   and returns the hub's verdict; the hub's relay brings it back to this provider's devices.
//! * A follower accepts the route only from the room's hub and hands the message to the live
//!   streams of its devices in the room. A device that is not streaming never sees it: the
//!   long-poll feed and the stored device feed never contain it.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mimi_client_api::{ErrorCode, Event, SubmitMessage};
use mimi_ds::RequestError;
use mimi_federation_api::decode_exact;
use mimi_federation_api::defects::{ACCEPTED_STATUS, EPHEMERAL_PATH};
use mimi_federation_api::path::encode_param;
use mimi_federation_api::submit_message::{SubmitMessageRequest, SubmitOutcome};
use mimi_transport::PeerDomain;
use mimi_types::{ClientUri, Domain, MimiUri, RoomUri};

use crate::client_http::{authenticate, reply};
use crate::error::ServerError;
use crate::error::bad_request;
use crate::provider::Provider;

fn forbidden(message: impl Into<String>) -> ServerError {
    ServerError::api(ErrorCode::Forbidden, message)
}

fn ephemeral_path(room: &RoomUri) -> String {
    EPHEMERAL_PATH.replace("{roomId}", &encode_param(room))
}

impl Provider {
    /// At the hub: checks the ephemeral message like a `submitMessage` from `peer` on the room
    /// as stored (read-only, through the cache), then relays it. Nothing is stored.
    async fn ephemeral_at_hub(
        self: &Arc<Self>,
        peer: &Domain,
        room: &RoomUri,
        body: &[u8],
    ) -> Result<(), ServerError> {
        let request: SubmitMessageRequest =
            decode_exact(body).map_err(|e| bad_request("SubmitMessageRequest", e))?;
        let app_message = request.app_message.as_bytes().to_vec();
        // Typing indicators are not stored, so they are not franked (nothing to report later).
        let (refusal, readers) = self
            .peek_hub(room, |hub| {
                hub.admit_peer(peer)?;
                let refusal = hub.check_ephemeral(peer, &request)?;
                let readers: Vec<(Domain, Vec<ClientUri>)> = hub
                    .reader_domains()
                    .iter()
                    .map(|d| (d.clone(), hub.withheld_at(d).to_vec()))
                    .collect();
                Ok::<_, RequestError>((refusal, readers))
            })
            .await??;
        match refusal {
            None => {}
            Some(SubmitOutcome::EpochTooOld { current_epoch }) => {
                return Err(forbidden(format!(
                    "the typing indicator is of an older epoch than the room's ({current_epoch}); \
                     catch up and send it again"
                )));
            }
            Some(_) => {
                return Err(forbidden(format!(
                    "the sender is not a participant of {room} allowed to send messages"
                )));
            }
        }
        for (domain, withheld) in readers {
            if domain == self.domain {
                let withheld = withheld.into_iter().collect();
                self.ephemeral_to_streams(room, &app_message, &withheld)
                    .await?;
            } else {
                let provider = Arc::clone(self);
                let room = room.clone();
                let body = body.to_vec();
                tokio::spawn(async move {
                    let path = ephemeral_path(&room);
                    let header = mimi_federation_api::withheld::format_withheld(&withheld);
                    let headers: Vec<(&str, &str)> = header
                        .as_deref()
                        .map(|v| (mimi_federation_api::withheld::WITHHELD_HEADER, v))
                        .into_iter()
                        .collect();
                    match provider
                        .federation
                        .post_with(&domain, &path, body, &headers)
                        .await
                    {
                        Ok(r) if r.is_success() => {}
                        Ok(r) => {
                            tracing::debug!(%domain, %room, status = r.status, "ephemeral relay refused");
                        }
                        Err(e) => {
                            tracing::debug!(%domain, %room, error = %e, "ephemeral relay failed");
                        }
                    }
                });
            }
        }
        Ok(())
    }

    /// Hands an ephemeral MLS message to the live streams of our devices in `room`, except
    /// those the hub withholds application messages from.
    async fn ephemeral_to_streams(
        &self,
        room: &RoomUri,
        message: &[u8],
        withheld: &BTreeSet<ClientUri>,
    ) -> Result<(), ServerError> {
        crate::withheld::check_own_devices(withheld, &self.domain)?;
        for device in self.accounts.members(room).await? {
            if withheld.contains(&device) {
                continue;
            }
            let event = Event {
                seq: 0,
                room: room.to_string(),
                payload: message.to_vec(),
                ephemeral: true,
            };
            self.client.live.send(&device, event);
        }
        Ok(())
    }
}

/// `POST /v1/rooms/{room}/typing` (client API).
pub(crate) async fn client_route(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Path(room): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let device = authenticate(&provider.accounts, &headers).await?;
        let room = crate::client_http::room_param(&room)?;
        let request: SubmitMessage = crate::client_http::json(&body)?;
        let submit: SubmitMessageRequest =
            decode_exact(&request.request).map_err(|e| bad_request("SubmitMessageRequest", e))?;
        let sender = match submit.sending_uri.parse() {
            Ok(MimiUri::User(user)) => Some(user),
            Ok(MimiUri::Client(client)) => client.user_hint(),
            _ => None,
        };
        if sender.as_ref() != device.user_hint().as_ref() {
            return Err(forbidden("sendingUri must be your own user URI"));
        }
        if room.hub_domain() == &provider.domain {
            let us = provider.domain.clone();
            provider
                .ephemeral_at_hub(&us, &room, &request.request)
                .await?;
        } else {
            let hub = room.hub_domain();
            let response = provider
                .federation
                .post(hub, &ephemeral_path(&room), request.request)
                .await
                .map_err(|e| ServerError::Peer {
                    peer: hub.clone(),
                    status: 0,
                    message: e.to_string(),
                })?;
            if response.status == 403 {
                return Err(forbidden(format!(
                    "the hub refused: {}",
                    String::from_utf8_lossy(&response.body).trim()
                )));
            }
            if !response.is_success() {
                return Err(ServerError::Peer {
                    peer: hub.clone(),
                    status: response.status,
                    message: String::from_utf8_lossy(&response.body).trim().to_owned(),
                });
            }
        }
        Ok(serde_json::json!({}))
    }
    .await;
    reply(StatusCode::ACCEPTED, result)
}

/// `POST /ephemeral/{room}` (federation, mutual TLS): from a follower to the hub (its device's
/// indicator), or from the hub to a follower (to its devices' live streams).
pub(crate) async fn federation_route(
    State(provider): State<Arc<Provider>>,
    Extension(peer): Extension<PeerDomain>,
    Path(room): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let room = mimi_federation_api::path::room_from_path(&room)
            .map_err(|e| bad_request("the room in the path", e))?;
        if room.hub_domain() == &provider.domain {
            provider.ephemeral_at_hub(&peer.0, &room, &body).await
        } else if room.hub_domain() == &peer.0 {
            let withheld = crate::withheld::withheld_devices(&headers)?;
            let request: SubmitMessageRequest =
                decode_exact(&body).map_err(|e| bad_request("SubmitMessageRequest", e))?;
            provider
                .ephemeral_to_streams(&room, request.app_message.as_bytes(), &withheld)
                .await
        } else {
            Err(forbidden(format!(
                "only the hub of {room} relays its ephemeral messages"
            )))
        }
    }
    .await;
    match result {
        Ok(()) => StatusCode::from_u16(ACCEPTED_STATUS)
            .unwrap_or(StatusCode::ACCEPTED)
            .into_response(),
        Err(e) => {
            let status =
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, format!("{e}\n")).into_response()
        }
    }
}
