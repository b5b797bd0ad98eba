//! Shared setup: a simulator and a client pointed at it.

use std::sync::Arc;

use okta_client::{Auth, Client, ClientConfig, Clock, ManualClock, Query, SecretString};
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

/// A clock for tests against a frozen simulator: every sleep returns at once and moves both the
/// client's virtual time and the simulator's clock on by the same amount, so rate-limit windows
/// pass in no wall time and the test is deterministic.
#[derive(Clone)]
pub struct SimClock {
    pub manual: ManualClock,
    sim: Arc<okta_sim::Sim>,
}

impl SimClock {
    pub fn new(server: &SimServer) -> Self {
        server.sim().clock.freeze(None);
        SimClock {
            manual: ManualClock::new(),
            sim: server.sim().clone(),
        }
    }
}

impl Clock for SimClock {
    fn now(&self) -> std::time::Instant {
        self.manual.now()
    }
    fn sleep(&self, duration: std::time::Duration) -> okta_client::clock::SleepFuture<'_> {
        self.sim.clock.advance_ms(duration.as_millis() as i64);
        self.manual.sleep(duration)
    }
}

/// A client whose waits advance the (frozen) simulator's clock.
pub fn client_on_sim_clock(server: &SimServer) -> (Client, SimClock) {
    let clock = SimClock::new(server);
    let client = Client::new(config_for(server.base_url(), &server.api_token()))
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    (client, clock)
}
