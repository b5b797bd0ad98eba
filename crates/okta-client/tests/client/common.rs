//! Shared setup: a simulator and a client pointed at it.

use std::sync::Arc;

use okta_client::{Auth, Client, ClientConfig, ManualClock, Query, SecretString};
use okta_sim::{SimConfig, SimServer};
use reqwest::Method;
use serde_json::Value;

pub async fn sim(config: SimConfig) -> SimServer {
    okta_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

pub fn config_for(base_url: &str, token: &str) -> ClientConfig {
    ClientConfig::new(
        base_url.parse().unwrap(),
        Auth::ApiToken(SecretString::new(token)),
    )
}

/// A real-HTTP client for the simulator, with a virtual clock (retry waits and pacing recorded).
pub fn client_for(server: &SimServer) -> (Client, ManualClock) {
    let clock = ManualClock::new();
    let client = Client::new(config_for(server.base_url(), &server.api_token()))
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    (client, clock)
}

/// Calls the simulator's control API (plain HTTP on the same server; it ignores the token).
pub async fn control(client: &Client, method: Method, path: &str, body: Value) -> Value {
    let body = (!body.is_null()).then_some(&body);
    let response = client
        .send(method.clone(), path, &Query::new(), body)
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    serde_json::from_slice(&response.body).unwrap_or(Value::Null)
}
