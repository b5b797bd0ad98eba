//! /healthz, /readyz and Prometheus /metrics.

use std::sync::Arc;

use super::DaemonState;

pub fn routes() -> axum::Router<Arc<DaemonState>> {
    axum::Router::new()
}
