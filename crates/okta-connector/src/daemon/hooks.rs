//! Event Hook endpoints for real-time triggers.

use std::sync::Arc;

use super::DaemonState;

/// One real-time trigger instance's endpoint.
pub struct Endpoint {}

pub fn routes() -> axum::Router<Arc<DaemonState>> {
    axum::Router::new()
}
