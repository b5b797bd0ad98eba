//! Okta's `/api/v1` endpoints, one module per resource family. Each module declares its routes and
//! renders its objects in Okta's JSON shape.

use std::sync::Arc;

use axum::Router;

use crate::Sim;

pub mod apps;
pub mod event_hooks;
pub mod groups;
pub mod logs;
pub mod meta;
pub mod users;

/// Every `/api/v1` route.
pub fn api() -> Router<Arc<Sim>> {
    Router::new()
        .merge(users::routes())
        .merge(groups::routes())
        .merge(apps::routes())
        .merge(meta::routes())
        .merge(logs::routes())
        .merge(event_hooks::routes())
}
