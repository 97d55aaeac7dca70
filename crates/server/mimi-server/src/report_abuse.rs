//! `reportAbuse` (protocol-06 §5.9): at the hub, over mutual TLS from the reporter's provider
//! (or from our own client API when we host the room); at the reporter's provider, the client
//! API route that checks the report is the device user's own and relays it to the hub. The
//! hub engine decides (participant with `canReportAbuse`, peer acting for its own user, every
//! reported message carrying this hub's frank for exactly that content); an accepted report
//! is queued for the operators ([`crate::abuse_queue`]) before the answer.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use mimi_client_api::{AbuseReportSubmit, ErrorCode};
use mimi_ds::hub::AbuseReportOutcome;
use mimi_federation_api::http::REPORT_ABUSE;
use mimi_federation_api::report_abuse::AbuseReport;
use mimi_federation_api::{Encode as _, decode_exact};
use mimi_types::{Domain, RoomUri};

use crate::client_http::{authenticate, json, reply, room_param};
use crate::error::ServerError;
use crate::error::bad_request;
use crate::provider::Provider;

impl Provider {
    /// The hub's side: decides on the report and queues it if accepted (durable before this
    /// returns).
    pub(crate) async fn hub_report_abuse(
        &self,
        peer: &Domain,
        room: &RoomUri,
        body: &[u8],
    ) -> Result<(), ServerError> {
        // The room as stored, read through the cache of decoded rooms (deciding on a report
        // changes nothing in the room).
        let decided = self
            .peek_hub(room, |hub| -> Result<_, ServerError> {
                hub.admit_peer(peer)?;
                let report: AbuseReport =
                    decode_exact(body).map_err(|e| bad_request("AbuseReport", e))?;
                Ok(hub.handle_report_abuse(peer, report, Some(&self.hub.franker))?)
            })
            .await??;
        match decided {
            AbuseReportOutcome::Accepted { room, report } => {
                let bytes = report.encode().map_err(|e| bad_request("AbuseReport", e))?;
                let id = self
                    .accounts
                    .queue_abuse_report(&room, peer, Self::now_ms(), &bytes)
                    .await?;
                tracing::warn!(
                    %room,
                    %peer,
                    id,
                    reporter = report.reporting_user.as_str(),
                    reported = report.alleged_abuser_uri.as_str(),
                    messages = report.messages.len(),
                    "abuse report queued for the operators (mimi admin reports show {id})"
                );
            }
            AbuseReportOutcome::NotAllowed => {
                return Err(ServerError::api(
                    ErrorCode::Forbidden,
                    format!("the reporting user may not report abuse in {room} (canReportAbuse)"),
                ));
            }
            AbuseReportOutcome::BadFrank { index, refusal } => {
                return Err(ServerError::api(
                    ErrorCode::BadRequest,
                    format!("reported message {index} is not one this hub franked: {refusal}"),
                ));
            }
        }
        Ok(())
    }
}

/// `POST /v1/rooms/{room}/report-abuse`: a device reports messages of a room it is in; the
/// report must name the device's own user as reporter.
pub(crate) async fn client_route(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Path(room): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let device = authenticate(&provider.accounts, &headers).await?;
        let room = room_param(&room)?;
        let submit: AbuseReportSubmit = json(&body)?;
        let report: AbuseReport =
            decode_exact(&submit.report).map_err(|e| bad_request("AbuseReport", e))?;
        let reporter = report
            .reporting_user
            .to_user()
            .map_err(|e| bad_request("reportingUser", e))?;
        let own = device.user_hint().is_some_and(|u| u == reporter);
        if !own {
            return Err(ServerError::api(
                ErrorCode::Forbidden,
                "an abuse report must name your own user as the reporting user",
            ));
        }
        if room.hub_domain() == &provider.domain {
            let us = provider.domain.clone();
            provider
                .hub_report_abuse(&us, &room, &submit.report)
                .await?;
        } else {
            provider
                .post_to_peer(room.hub_domain(), &REPORT_ABUSE, &room, submit.report)
                .await?;
        }
        Ok(serde_json::json!({}))
    }
    .await;
    reply(StatusCode::ACCEPTED, result)
}

/// The federation route's handler body (see `federation.rs`).
pub(crate) async fn federation(
    provider: &Provider,
    peer: &Domain,
    room: &RoomUri,
    body: &[u8],
) -> Result<(), ServerError> {
    provider.hub_report_abuse(peer, room, body).await
}
