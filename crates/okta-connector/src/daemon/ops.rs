//! /healthz, /readyz and Prometheus /metrics, and the middleware that counts the daemon's own
//! answers.
//!
//! These routes need no token, on purpose: probes (systemd, Kubernetes, a load balancer) and
//! Prometheus scrapers rarely carry one, and nothing here is secret or changes anything — liveness,
//! readiness, and counters whose labels are connection, trigger instance and route names. The
//! daemon listens on loopback by default, so only local processes reach them. When the listener is
//! exposed beyond the host, put it behind a reverse proxy that restricts these paths (or firewall
//! the port to the scraper's address); /v1 keeps its own bearer token either way.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::DaemonState;

/// The Prometheus text format's content type.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn routes() -> axum::Router<Arc<DaemonState>> {
    axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Alive: the process answers HTTP.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready once every trigger instance has started (`DaemonState::ready`).
async fn readyz(State(state): State<Arc<DaemonState>>) -> Response {
    if state.ready.load(Ordering::Acquire) {
        "ready\n".into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the trigger instances are still starting\n",
        )
            .into_response()
    }
}

async fn metrics(State(state): State<Arc<DaemonState>>) -> Response {
    (
        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

/// Middleware counting every answer of the daemon in `http_requests_total{route,status}`, by route
/// template (`/v1/connections/{name}/actions/{action}`; `unmatched` for unknown paths) so names in
/// paths do not multiply the series. Install it once over the whole router:
/// `.layer(axum::middleware::from_fn_with_state(state.clone(), ops::track))`. Layered twice, a
/// request is still counted once.
pub async fn track(
    State(state): State<Arc<DaemonState>>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.extensions().get::<Tracked>().is_some() {
        return next.run(request).await;
    }
    request.extensions_mut().insert(Tracked);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(request).await;
    state
        .metrics
        .http_request(&route, response.status().as_u16());
    response
}

/// Marks a request already counted by [`track`].
#[derive(Clone, Copy)]
struct Tracked;
