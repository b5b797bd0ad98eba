//! The daemon's HTTP side (`okta-connector serve`): on one listener, the HTTP API for actions
//! (`api`, bearer token), Event Hook endpoints for real-time triggers (`hooks`, each with its own
//! shared secret), and operations (`ops`: /healthz, /readyz, Prometheus /metrics). Loopback unless
//! the configuration says otherwise.

pub mod api;
pub mod hooks;
pub mod metrics;
pub mod ops;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use okta_client::{Client, SecretString};

/// What every HTTP handler of the daemon shares.
pub struct DaemonState {
    /// One client per connection name: the same clients the triggers use, so actions called over
    /// HTTP share each connection's rate-limit governor with them.
    pub clients: BTreeMap<String, Client>,
    /// The bearer token `/v1` requires; `None` turns the HTTP API off (404 on /v1).
    pub api_token: Option<SecretString>,
    pub metrics: Arc<metrics::Metrics>,
    /// Event Hook endpoints by trigger instance name (`/hooks/{name}`).
    pub hooks: BTreeMap<String, hooks::Endpoint>,
    /// Turned on once every trigger instance has started (for /readyz).
    pub ready: AtomicBool,
}

/// The daemon's routes over `state`.
pub fn router(state: Arc<DaemonState>) -> axum::Router {
    axum::Router::new()
        .merge(api::routes())
        .merge(ops::routes())
        .merge(hooks::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::track,
        ))
        .with_state(state)
}
