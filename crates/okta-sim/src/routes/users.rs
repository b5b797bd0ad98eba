//! `/api/v1/users`: list/search, CRUD, lifecycle and the user's groups.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use serde_json::{Value, json};

use crate::Sim;
use crate::clock::iso_ms;
use crate::http::{ApiError, ApiResult, Params, ok, paginate};
use crate::state::{User, UserStatus};

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/v1/users", get(list_users))
        .route("/api/v1/users/{id}", get(get_user))
}

async fn list_users(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let limit = params.limit(200, 200)?;
    let base = sim.base_url().to_string();
    let org = sim.org.read();
    let page = paginate(
        org.users
            .iter()
            .filter(|(_, u)| u.status != UserStatus::Deprovisioned)
            .map(|(k, u)| (k.as_str(), u)),
        params.get("after"),
        limit,
        |u| render(&base, u),
    );
    Ok(page.respond(&base, "/api/v1/users", &params))
}

async fn get_user(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    let base = sim.base_url().to_string();
    let org = sim.org.read();
    let uid = org
        .find_user_id(&id)
        .ok_or_else(|| ApiError::not_found(&id, "User"))?;
    ok(render(&base, &org.users[&uid]))
}

/// Okta's User JSON.
pub fn render(base: &str, u: &User) -> Value {
    let opt = |t: Option<i64>| t.map(iso_ms);
    let href = format!("{base}/api/v1/users/{}", u.id);
    json!({
        "id": u.id,
        "status": u.status.as_str(),
        "created": iso_ms(u.created),
        "activated": opt(u.activated),
        "statusChanged": opt(u.status_changed),
        "lastLogin": opt(u.last_login),
        "lastUpdated": iso_ms(u.last_updated),
        "passwordChanged": opt(u.password_changed),
        "type": {"id": u.type_id},
        "profile": u.profile,
        "credentials": {
            "provider": {"type": u.credentials.provider_type, "name": u.credentials.provider_name},
        },
        "_links": {"self": {"href": href}},
    })
}
