//! `GET /health` on the client API listener: whether this process can reach its database.
//! 200 `{"database":"ok"}`, or 503 `{"database":"unreachable","error":"..."}` (load balancers
//! take the process out of rotation; the error says what failed).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::provider::Provider;

/// The route.
pub(crate) const PATH: &str = "/health";

/// How long the check waits for the database.
const LIMIT: Duration = Duration::from_secs(5);

#[derive(Debug, Serialize)]
struct Health {
    database: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Pings the store and the accounts database (the same database with PostgreSQL).
pub(crate) async fn check(State(provider): State<Arc<Provider>>) -> Response {
    let result = match provider.store.ping(LIMIT).await {
        Ok(()) => match tokio::time::timeout(LIMIT, provider.accounts.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("accounts: {e}")),
            Err(_) => Err("accounts: no answer in time".to_owned()),
        },
        Err(e) => Err(e),
    };
    let (status, body) = match result {
        Ok(()) => (
            StatusCode::OK,
            Health {
                database: "ok",
                error: None,
            },
        ),
        Err(error) => {
            tracing::warn!(%error, "health check: the database is unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Health {
                    database: "unreachable",
                    error: Some(error),
                },
            )
        }
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], json).into_response()
}
