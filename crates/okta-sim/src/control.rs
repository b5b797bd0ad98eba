//! The control API (`/control/...`, outside `/api/v1`, no auth): what tests and benchmarks use to
//! steer the org: faults, the clock, rate-limit tier, late System Log events, request counters, OAuth
//! apps, the DPoP nonce and Event Hook deliveries.
//!
//! Event Hooks (the README's Control API table lists the rest):
//!
//! | endpoint | what it does |
//! |---|---|
//! | `POST /control/event-hooks/duplicate` `{"count"}` | the next `count` deliveries (of any hook) are each sent twice: same body, same `eventId` |
//! | `POST /control/event-hooks/drop` `{"count"}` | the next `count` batches are dropped unsent, as a lost delivery (no System Log event) |
//! | `GET /control/event-hooks/deliveries` | `{"pending","duplicatesRequested","dropsRequested","hooks":{id:{"batchesSent","eventsSent","retries","failures","duplicatesSent","batchesDropped","eventsDropped","eventsDiscarded","pending","lastStatus","lastError"}}}` |
//! | `POST /control/event-hooks/flush` `{"timeoutMs"}` (optional, default 10000) | sends what is pending now (no lingering) and answers when nothing is pending: 200 `{"pending":0}`, or 504 with what is left |
//! | `GET /control/event-hooks/settings`, `PUT /control/event-hooks/settings` `{"timeoutMs","maxBatch","lingerMs"}` | delivery settings (from `SimConfig::event_hooks`: 3000 ms, 50 events, 50 ms); a PUT changes the fields given |

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::iso_ms;
use crate::faults::FaultConfig;
use crate::http::ApiError;
use crate::syslog::{NewEvent, RequestCtx};
use crate::{RateLimitTier, Sim};

/// Requests served, by method + route template and status. Status 0 counts injected resets.
#[derive(Debug, Default)]
pub struct Counters {
    total: AtomicU64,
    throttled: AtomicU64,
    by_route: Mutex<BTreeMap<String, BTreeMap<u16, u64>>>,
}

impl Counters {
    pub fn record(&self, method: &str, route: &str, status: u16) {
        self.total.fetch_add(1, Ordering::Relaxed);
        if status == 429 {
            self.throttled.fetch_add(1, Ordering::Relaxed);
        }
        *self
            .by_route
            .lock()
            .entry(format!("{method} {route}"))
            .or_default()
            .entry(status)
            .or_default() += 1;
    }

    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// 429 answers (rate, concurrency and storms).
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }

    /// Requests for `"GET /api/v1/users"`-style keys, any status.
    pub fn count(&self, key: &str) -> u64 {
        self.by_route
            .lock()
            .get(key)
            .map(|m| m.values().sum())
            .unwrap_or(0)
    }

    pub fn snapshot(&self) -> Value {
        let routes: BTreeMap<String, BTreeMap<String, u64>> = self
            .by_route
            .lock()
            .iter()
            .map(|(k, m)| {
                (
                    k.clone(),
                    m.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
                )
            })
            .collect();
        json!({"total": self.total(), "throttled": self.throttled(), "routes": routes})
    }

    pub fn reset(&self) {
        self.total.store(0, Ordering::Relaxed);
        self.throttled.store(0, Ordering::Relaxed);
        self.by_route.lock().clear();
    }
}

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route(
            "/counters",
            get(|State(sim): State<Arc<Sim>>| async move { Json(sim.counters.snapshot()) }).delete(
                |State(sim): State<Arc<Sim>>| async move {
                    sim.counters.reset();
                    Json(sim.counters.snapshot())
                },
            ),
        )
        .route(
            "/faults",
            get(|State(sim): State<Arc<Sim>>| async move { Json(json!(sim.faults.get())) })
                .put(set_faults)
                .delete(|State(sim): State<Arc<Sim>>| async move {
                    sim.faults.clear();
                    Json(json!(sim.faults.get()))
                }),
        )
        .route("/faults/storm", post(storm))
        .route("/clock", get(clock).post(set_clock))
        .route("/rate-limits", get(rate_limits).put(set_rate_limits))
        .route("/logs/late", post(late_events))
        .route("/api-tokens", post(add_api_token))
        .route("/oauth/apps", get(oauth_apps).post(add_oauth_app))
        .route("/oauth/dpop-nonce", get(dpop_nonce))
        .route("/oauth/dpop-nonce/rotate", post(rotate_dpop_nonce))
        .route("/event-hooks/duplicate", post(hook_duplicates))
        .route("/event-hooks/drop", post(hook_drops))
        .route(
            "/event-hooks/deliveries",
            get(|State(sim): State<Arc<Sim>>| async move {
                Json(sim.hooks.delivery.snapshot())
            }),
        )
        .route("/event-hooks/flush", post(hook_flush))
        .route(
            "/event-hooks/settings",
            get(hook_settings).put(set_hook_settings),
        )
        .fallback(|| async {
            (
                axum::http::StatusCode::NOT_FOUND,
                Json(json!({"error": "no such control endpoint; see the README's Control API table"})),
            )
        })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NewApiToken {
    token: String,
    #[serde(default = "yes")]
    admin_role: bool,
}

fn yes() -> bool {
    true
}

/// Registers another SSWS token, e.g. one whose user holds no admin role (every call: 403 E0000006).
/// The token is not echoed back.
async fn add_api_token(
    State(sim): State<Arc<Sim>>,
    Json(new): Json<NewApiToken>,
) -> Result<Json<Value>, ApiError> {
    if new.token.trim().is_empty()
        || new.token.len() > 512
        || new.token.contains(char::is_whitespace)
    {
        return Err(bad(
            "token",
            "must be 1 to 512 characters without spaces".into(),
        ));
    }
    let mut tokens = sim.api_tokens.write();
    tokens.retain(|t| t.value != new.token);
    tokens.push(crate::auth::ApiToken {
        value: new.token,
        admin_role: new.admin_role,
    });
    Ok(Json(
        json!({"tokens": tokens.len(), "adminRole": new.admin_role}),
    ))
}

/// The most late events one call inserts, and the farthest the clock moves in one call (100
/// years): bounds that keep a mistyped number from exhausting memory or overflowing time.
const MAX_LATE_EVENTS: usize = 100_000;
const MAX_CLOCK_STEP_MS: i64 = 100 * 366 * 86_400_000;

fn bad(field: &str, why: String) -> ApiError {
    ApiError::validation(field, format!("{field}: {why}"))
}

/// Replaces the whole fault configuration (a storm under way ends unless `stormUntilMs` is given).
async fn set_faults(
    State(sim): State<Arc<Sim>>,
    Json(config): Json<FaultConfig>,
) -> Result<Json<Value>, ApiError> {
    for (field, rate) in [
        ("errorRate", config.error_rate),
        ("resetRate", config.reset_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(bad(field, format!("must be between 0 and 1, got {rate}")));
        }
    }
    if let Some(s) = config.error_status
        && ![500, 502, 503, 504].contains(&s)
    {
        return Err(bad(
            "errorStatus",
            format!("must be 500, 502, 503 or 504, got {s}"),
        ));
    }
    sim.faults.set(config);
    Ok(Json(json!(sim.faults.get())))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Storm {
    seconds: f64,
}

/// Every Okta request gets 429 E0000047 for the next `seconds` (simulated time).
async fn storm(State(sim): State<Arc<Sim>>, Json(s): Json<Storm>) -> Result<Json<Value>, ApiError> {
    let ms = s.seconds * 1000.0;
    if !(0.0..=MAX_CLOCK_STEP_MS as f64).contains(&ms) {
        return Err(bad(
            "seconds",
            format!("must be between 0 and 100 years, got {}", s.seconds),
        ));
    }
    sim.faults.storm(sim.clock.now_ms(), ms as i64);
    Ok(Json(json!(sim.faults.get())))
}

fn clock_state(sim: &Sim) -> Value {
    let now = sim.clock.now_ms();
    json!({"now": iso_ms(now), "epochMs": now, "frozen": sim.clock.is_frozen()})
}

async fn clock(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(clock_state(&sim))
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ClockChange {
    /// `true` stops the clock, `false` lets it run.
    freeze: Option<bool>,
    /// Freeze at this epoch-ms instant.
    at_epoch_ms: Option<i64>,
    advance_ms: Option<i64>,
}

async fn set_clock(
    State(sim): State<Arc<Sim>>,
    Json(c): Json<ClockChange>,
) -> Result<Json<Value>, ApiError> {
    if let Some(ms) = c.advance_ms
        && !(0..=MAX_CLOCK_STEP_MS).contains(&ms)
    {
        return Err(bad(
            "advanceMs",
            format!("must be between 0 and 100 years, got {ms}"),
        ));
    }
    // Okta's timestamps are four-digit years: keep the clock between 1970 and 9999.
    if let Some(at) = c.at_epoch_ms
        && !(0..253_402_300_800_000).contains(&at)
    {
        return Err(bad(
            "atEpochMs",
            format!("must be within years 1970 to 9999, got {at}"),
        ));
    }
    match (c.freeze, c.at_epoch_ms) {
        (Some(true), at) | (None, at @ Some(_)) => sim.clock.freeze(at),
        (Some(false), _) => sim.clock.unfreeze(),
        (None, None) => {}
    }
    if let Some(ms) = c.advance_ms {
        sim.clock.advance_ms(ms);
    }
    Ok(Json(clock_state(&sim)))
}

fn tier_name(t: RateLimitTier) -> &'static str {
    match t {
        RateLimitTier::Workforce => "workforce",
        RateLimitTier::Enterprise => "enterprise",
        RateLimitTier::Off => "off",
    }
}

async fn rate_limits(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({"tier": tier_name(sim.limits.tier()), "inFlight": sim.limits.in_flight()}))
}

#[derive(Deserialize)]
struct TierChange {
    tier: String,
    #[serde(rename = "concurrencyLimit")]
    concurrency_limit: Option<usize>,
}

async fn set_rate_limits(
    State(sim): State<Arc<Sim>>,
    Json(t): Json<TierChange>,
) -> Result<Json<Value>, ApiError> {
    let tier = t
        .tier
        .parse::<RateLimitTier>()
        .map_err(|e| ApiError::validation("tier", e))?;
    sim.limits.set_tier(tier);
    if let Some(n) = t.concurrency_limit {
        sim.limits.set_concurrency_limit(n);
    }
    Ok(rate_limits(State(sim)).await)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LateEvents {
    /// How many events to insert.
    count: usize,
    /// How far before now their `published` time lies.
    published_ago_ms: i64,
    #[serde(default)]
    event_type: Option<String>,
}

/// Inserts events that are persisted now but `published` in the past, as Okta's delayed events are.
async fn late_events(
    State(sim): State<Arc<Sim>>,
    Json(l): Json<LateEvents>,
) -> Result<Json<Value>, ApiError> {
    let event_type: &'static str = match l.event_type.as_deref() {
        None => "user.session.start",
        Some(t) => crate::syslog::known_event_type(t)
            .ok_or_else(|| ApiError::validation("eventType", format!("unknown event type {t}")))?,
    };
    if l.count > MAX_LATE_EVENTS {
        return Err(bad(
            "count",
            format!("at most {MAX_LATE_EVENTS} per call, got {}", l.count),
        ));
    }
    let now = sim.clock.now_ms();
    let published = now
        .checked_sub(l.published_ago_ms)
        .filter(|_| l.published_ago_ms >= 0)
        .ok_or_else(|| {
            bad(
                "publishedAgoMs",
                format!("must be 0 or more, got {}", l.published_ago_ms),
            )
        })?;
    let ctx = RequestCtx {
        request_id: format!("late{}", now),
        request_uri: "/login/do-login".into(),
        actor: sim.admin.clone(),
        client: crate::syslog::default_client(),
    };
    let mut uuids = Vec::with_capacity(l.count);
    for _ in 0..l.count {
        let ev = NewEvent::success(event_type, "Late event", vec![]);
        uuids.push(sim.log_at(&ctx, ev, published));
    }
    Ok(Json(json!({"inserted": uuids})))
}

/// The registered OAuth apps, without their secrets.
async fn oauth_apps(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let apps: Vec<_> = sim.oauth.apps().iter().map(|a| json!(a.config)).collect();
    Json(json!(apps))
}

/// Registers (or replaces) an OAuth app integration; the body is one app in the
/// `--oauth-apps` file's shape.
async fn add_oauth_app(
    State(sim): State<Arc<Sim>>,
    Json(app): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    let app: crate::oauth::OAuthApp =
        serde_json::from_value(app).map_err(|e| ApiError::validation("app", e.to_string()))?;
    let app = sim
        .oauth
        .register(app)
        .map_err(|e| ApiError::validation("app", e))?;
    Ok(Json(json!(app.config)))
}

async fn dpop_nonce(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({"nonce": sim.oauth.dpop.nonce(sim.clock.now_ms())}))
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
struct NonceRotation {
    /// Refuse the previous nonces at once (Okta keeps them working for a while).
    expire_previous: bool,
}

/// Renews the authorization server's DPoP nonce now, as Okta does every 24 hours.
async fn rotate_dpop_nonce(
    State(sim): State<Arc<Sim>>,
    body: Option<Json<NonceRotation>>,
) -> Json<Value> {
    let r = body.map(|Json(r)| r).unwrap_or_default();
    let nonce = sim.oauth.dpop.rotate(sim.clock.now_ms(), r.expire_previous);
    Json(json!({"nonce": nonce, "previousExpired": r.expire_previous}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Count {
    count: u64,
}

/// The most duplicates or drops one call asks for: a bound against a mistyped number.
const MAX_HOOK_FAULTS: u64 = 1_000_000;

fn hook_count(c: &Count) -> Result<u64, ApiError> {
    if c.count > MAX_HOOK_FAULTS {
        return Err(bad(
            "count",
            format!("at most {MAX_HOOK_FAULTS}, got {}", c.count),
        ));
    }
    Ok(c.count)
}

/// The next `count` event hook deliveries are sent twice (Okta delivers at least once).
async fn hook_duplicates(
    State(sim): State<Arc<Sim>>,
    Json(c): Json<Count>,
) -> Result<Json<Value>, ApiError> {
    let total = sim.hooks.delivery.add_duplicates(hook_count(&c)?);
    Ok(Json(json!({"duplicatesRequested": total})))
}

/// The next `count` event hook batches are lost (Okta's delivery is best-effort).
async fn hook_drops(
    State(sim): State<Arc<Sim>>,
    Json(c): Json<Count>,
) -> Result<Json<Value>, ApiError> {
    let total = sim.hooks.delivery.add_drops(hook_count(&c)?);
    Ok(Json(json!({"dropsRequested": total})))
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
struct Flush {
    timeout_ms: Option<u64>,
}

/// Waits until every queued event hook delivery is done (sent, failed or dropped).
async fn hook_flush(
    State(sim): State<Arc<Sim>>,
    body: Option<Json<Flush>>,
) -> Result<Json<Value>, (axum::http::StatusCode, Json<Value>)> {
    let f = body.map(|Json(f)| f).unwrap_or_default();
    let timeout = std::time::Duration::from_millis(f.timeout_ms.unwrap_or(10_000).min(600_000));
    let left = sim.hooks.delivery.flush(timeout).await;
    if left == 0 {
        Ok(Json(json!({"pending": 0})))
    } else {
        Err((
            axum::http::StatusCode::GATEWAY_TIMEOUT,
            Json(json!({"pending": left})),
        ))
    }
}

fn settings_json(s: crate::config::HookDelivery) -> Value {
    json!({"timeoutMs": s.timeout_ms, "maxBatch": s.max_batch, "lingerMs": s.linger_ms})
}

async fn hook_settings(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(settings_json(sim.hooks.delivery.settings()))
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
struct HookSettings {
    timeout_ms: Option<u64>,
    max_batch: Option<usize>,
    linger_ms: Option<u64>,
}

async fn set_hook_settings(
    State(sim): State<Arc<Sim>>,
    Json(h): Json<HookSettings>,
) -> Result<Json<Value>, ApiError> {
    let mut s = sim.hooks.delivery.settings();
    if let Some(t) = h.timeout_ms {
        if !(1..=600_000).contains(&t) {
            return Err(bad("timeoutMs", format!("must be 1 to 600000, got {t}")));
        }
        s.timeout_ms = t;
    }
    if let Some(b) = h.max_batch {
        if !(1..=100_000).contains(&b) {
            return Err(bad("maxBatch", format!("must be 1 to 100000, got {b}")));
        }
        s.max_batch = b;
    }
    if let Some(l) = h.linger_ms {
        if l > 600_000 {
            return Err(bad("lingerMs", format!("must be 0 to 600000, got {l}")));
        }
        s.linger_ms = l;
    }
    sim.hooks.delivery.set_settings(s);
    Ok(Json(settings_json(s)))
}
