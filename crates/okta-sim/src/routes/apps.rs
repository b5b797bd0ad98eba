//! `/api/v1/apps`: list/get, app users and app groups.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use serde_json::{Value, json};

use crate::Sim;
use crate::clock::iso_ms;
use crate::http::{ApiResult, Params, paginate};
use crate::state::App;

pub fn routes() -> Router<Arc<Sim>> {
    Router::new().route("/api/v1/apps", get(list_apps))
}

async fn list_apps(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let limit = params.limit(200, 200)?;
    let base = sim.base_url().to_string();
    let org = sim.org.read();
    let page = paginate(
        org.apps.iter().map(|(k, a)| (k.as_str(), a)),
        params.get("after"),
        limit,
        |a| render(&base, a),
    );
    Ok(page.respond(&base, "/api/v1/apps", &params))
}

/// Okta's Application JSON.
pub fn render(base: &str, a: &App) -> Value {
    let mut v = json!({
        "id": a.id,
        "status": a.status,
        "created": iso_ms(a.created),
        "lastUpdated": iso_ms(a.last_updated),
        "_links": {"self": {"href": format!("{base}/api/v1/apps/{}", a.id)}},
    });
    if let Some(obj) = v.as_object_mut() {
        obj.extend(a.body.clone());
    }
    v
}
