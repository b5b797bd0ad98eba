//! okta-sim: a simulated Okta org serving the Core Okta API v1 on loopback.
//!
//! It is an independent reading of Okta's protocol (it shares no code with the client), so a client
//! that works against it should work against Okta. Start one in-process with [`spawn`] on port 0 and
//! talk to [`SimServer::base_url`] with the API token from [`SimServer::api_token`].

pub mod auth;
pub mod clock;
pub mod config;
pub mod control;
pub mod event_hooks;
pub mod faults;
pub mod filter;
pub mod http;
pub mod oauth;
pub mod profile;
pub mod ratelimit;
pub mod rng;
pub mod routes;
mod seed;
mod server;
pub mod state;
pub mod syslog;

use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, RwLock};

pub use config::{RateLimitTier, SimConfig};
pub use server::{SimServer, spawn};

use crate::clock::Clock;
use crate::faults::Faults;
use crate::ratelimit::RateLimiter;
use crate::rng::Rng;
use crate::state::Org;
use crate::syslog::{Entity, LogEvent, LogStore, NewEvent, RequestCtx};

/// The whole simulated org, shared by every request.
pub struct Sim {
    pub config: SimConfig,
    pub clock: Clock,
    pub org: RwLock<Org>,
    pub logs: LogStore,
    pub limits: RateLimiter,
    pub faults: Faults,
    pub counters: control::Counters,
    /// The API tokens the org accepts (SSWS).
    pub api_tokens: RwLock<Vec<auth::ApiToken>>,
    /// The org authorization server: OAuth apps, codes, tokens, DPoP nonces.
    pub oauth: oauth::OAuth,
    /// Event hooks: the registry and the deliveries the System Log feeds.
    pub hooks: event_hooks::EventHooks,
    /// The admin the API token belongs to: the System Log actor of API calls.
    pub admin: Arc<Entity>,
    /// Random source for event uuids and transaction ids (seeded, so a run is reproducible).
    rng: Mutex<Rng>,
    base_url: OnceLock<String>,
}

/// Written by hand: the org's state is large, and its API tokens must never be printed.
impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("base_url", &self.base_url())
            .field("config", &self.config)
            .field("users", &self.org.read().users.len())
            .field("log_events", &self.logs.len())
            .finish_non_exhaustive()
    }
}

/// A fresh API token in Okta's shape (`00` and 40 characters), each character drawn from the
/// operating system's random source, so the token is as unguessable as its length allows.
fn generate_token() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
    let mut bytes = [0u8; 40];
    getrandom::fill(&mut bytes).expect("the operating system has no random source");
    let body: String = bytes
        .iter()
        .map(|b| ALPHABET[(b & 63) as usize] as char)
        .collect();
    format!("00{body}")
}

impl Sim {
    /// Builds and seeds an org. `api_token` comes from the config or is generated.
    pub fn new(config: SimConfig) -> Arc<Sim> {
        let clock = Clock::default();
        let token = config.api_token.clone().unwrap_or_else(generate_token);
        let limits = RateLimiter::new(config.rate_limits);
        let (org, admin) = seed::org(&config, clock.now_ms());
        let sim = Arc::new(Sim {
            clock,
            org: RwLock::new(org),
            logs: LogStore::default(),
            limits,
            faults: Faults::default(),
            counters: control::Counters::default(),
            api_tokens: RwLock::new(vec![auth::ApiToken {
                value: token,
                admin_role: true,
            }]),
            admin,
            oauth: oauth::OAuth::new(&config.oauth_apps),
            hooks: event_hooks::EventHooks::new(config.event_hooks),
            rng: Mutex::new(Rng::new(config.seed ^ 0x10_6E)),
            base_url: OnceLock::new(),
            config,
        });
        seed::history(&sim);
        sim
    }

    /// `http://127.0.0.1:PORT` once the server is bound (empty before).
    pub fn base_url(&self) -> &str {
        self.base_url.get().map(String::as_str).unwrap_or("")
    }

    pub(crate) fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    /// The first API token (the one printed on start).
    pub fn api_token(&self) -> String {
        self.api_tokens.read()[0].value.clone()
    }

    /// Writes an event to the System Log as Okta would for `ctx`'s request, published now.
    pub fn log(&self, ctx: &RequestCtx, event: NewEvent) {
        let now = self.clock.now_ms();
        self.log_at(ctx, event, now);
    }

    /// Writes an event whose `published` time is `published_ms` (earlier than now for late events).
    /// It is persisted now, after every stored event, so polling delivers it next. Returns its uuid.
    pub fn log_at(&self, ctx: &RequestCtx, event: NewEvent, published_ms: i64) -> String {
        let uuid = {
            let mut rng = self.rng.lock();
            syslog::uuid_v1(published_ms, rng.next_u64(), rng.next_u64())
        };
        let ev = LogEvent::from_request(ctx, event, published_ms, uuid);
        let text = ev.uuid_string();
        self.logs
            .append_then(ev, self.clock.now_ms(), |ev| self.hooks.delivery.offer(ev));
        text
    }
}
