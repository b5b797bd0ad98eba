//! The HTTP API for actions, generated from the action registry.

use std::sync::Arc;

use super::DaemonState;

pub fn routes() -> axum::Router<Arc<DaemonState>> {
    axum::Router::new()
}
