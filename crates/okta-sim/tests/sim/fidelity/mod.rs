//! Fidelity of the simulator against Okta itself: every response body against Okta's official
//! OpenAPI spec (`spec`), the recorded real traffic replayed against fresh simulators (`replay`), and
//! the headers and error bodies every Okta response carries (`headers`).
//!
//! `openapi` and `cassettes` are the test-support modules that load the spec and the recordings (both
//! parsed once per test binary).

mod cassettes;
mod headers;
pub(crate) mod openapi;
mod replay;
mod spec;

use okta_sim::{RateLimitTier, SimConfig};
use reqwest::Method;
use serde_json::Value;

use crate::support::{Resp, TestOrg, read};

/// A tiny org: enough objects for every list to have content, small enough to start in a blink.
fn tiny_config() -> SimConfig {
    SimConfig {
        users: 5,
        groups: 3,
        apps: 2,
        log_events: 20,
        rate_limits: RateLimitTier::Off,
        ..SimConfig::default()
    }
}

/// The simulator's answer for a path or method it has no route for. Everything else (including 404
/// E0000007 for an unknown id) means the endpoint is served.
fn is_unserved(resp: &Resp) -> bool {
    matches!(
        (resp.status, resp.error_code()),
        (404, Some("E0000008")) | (405, Some("E0000022"))
    )
}

/// Sends a request as a client would: `path_and_query` already encoded, `body` as JSON, and the
/// org's own SSWS token unless `token` replaces it (`Some("")` sends no `Authorization` at all).
async fn send(
    org: &TestOrg,
    method: &str,
    path_and_query: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> Resp {
    let method = Method::from_bytes(method.as_bytes()).expect("a valid HTTP method");
    let mut req = org
        .client
        .request(method, org.url(path_and_query))
        .header("Accept", "application/json");
    let token = token.map_or_else(|| org.server.api_token(), str::to_string);
    if !token.is_empty() {
        req = req.header("Authorization", format!("SSWS {token}"));
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    read(req.send().await.expect("request reaches the simulator")).await
}

/// `path?k=v&...` with the values form-encoded as Okta's clients send them.
fn with_query(path: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in query {
        s.append_pair(k, v);
    }
    format!("{path}?{}", s.finish())
}
