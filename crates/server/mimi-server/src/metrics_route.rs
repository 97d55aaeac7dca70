//! `GET /metrics` and the middleware that counts client API requests (the counters and their
//! rendering are in `metrics`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mimi_ds::DsStore as _;

use crate::metrics::DEPTH_CAP;
use crate::provider::Provider;

/// The path of the metrics endpoint.
pub(crate) const PATH: &str = "/metrics";

/// Middleware counting every client API request by its route template and status.
pub(crate) async fn count_requests(
    State(provider): State<Arc<Provider>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    provider.metrics.request(&route, response.status().as_u16());
    response
}

/// `GET /metrics`.
pub(crate) async fn scrape(State(provider): State<Arc<Provider>>) -> Response {
    let mut depths = BTreeMap::new();
    let mut dead = BTreeMap::new();
    for to in provider.outbound_wakeups.keys() {
        match provider.store.pending_outbound(to, DEPTH_CAP).await {
            Ok(items) => {
                depths.insert(to.clone(), items.len());
            }
            Err(e) => tracing::warn!(%to, error = %e, "queue depth for metrics"),
        }
        match provider.store.dead_letters(to, u64::MAX, DEPTH_CAP).await {
            Ok(items) => {
                dead.insert(to.clone(), items.len());
            }
            Err(e) => tracing::warn!(%to, error = %e, "dead letters for metrics"),
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        provider.metrics.render(&depths, &dead),
    )
        .into_response()
}
