//! `/api/v1/logs`: the System Log, in polling mode and bounded mode.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::Value;

use crate::Sim;
use crate::http::{ApiResult, Params, link_headers};

pub fn routes() -> Router<Arc<Sim>> {
    Router::new().route("/api/v1/logs", get(list_logs))
}

/// Polling mode only, for now: events in persistence order after the cursor (`after` is the
/// sequence number), a `next` link on every page.
async fn list_logs(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let limit = params.limit(100, 1000)?;
    let after: usize = params
        .get("after")
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let (items, next): (Vec<Value>, usize) = sim.logs.with_events(|events| {
        let page: Vec<Value> = events
            .iter()
            .skip(after)
            .take(limit)
            .map(|e| e.render())
            .collect();
        let next = after + page.len();
        (page, next)
    });
    let headers = link_headers(
        sim.base_url(),
        "/api/v1/logs",
        &params,
        Some(&next.to_string()),
    );
    Ok((headers, axum::Json(Value::Array(items))).into_response())
}
