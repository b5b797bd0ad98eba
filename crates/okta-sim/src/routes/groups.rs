//! `/api/v1/groups`: list/search, CRUD, members and the group's apps.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use serde_json::{Value, json};

use crate::Sim;
use crate::clock::iso_ms;
use crate::http::{ApiResult, Params, paginate};
use crate::state::Group;

pub fn routes() -> Router<Arc<Sim>> {
    Router::new().route("/api/v1/groups", get(list_groups))
}

async fn list_groups(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let limit = params.limit(10_000, 10_000)?;
    let base = sim.base_url().to_string();
    let org = sim.org.read();
    let page = paginate(
        org.groups.iter().map(|(k, g)| (k.as_str(), g)),
        params.get("after"),
        limit,
        |g| render(&base, g),
    );
    Ok(page.respond(&base, "/api/v1/groups", &params))
}

/// Okta's Group JSON.
pub fn render(base: &str, g: &Group) -> Value {
    json!({
        "id": g.id,
        "created": iso_ms(g.created),
        "lastUpdated": iso_ms(g.last_updated),
        "lastMembershipUpdated": iso_ms(g.last_membership_updated),
        "objectClass": ["okta:user_group"],
        "type": g.kind.as_str(),
        "profile": g.profile,
        "_links": {"self": {"href": format!("{base}/api/v1/groups/{}", g.id)}},
    })
}
