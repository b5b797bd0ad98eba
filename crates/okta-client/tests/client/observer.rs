//! The observer hook against the simulator: what it is told agrees with what the simulator counted,
//! and rate-limit waits and retries are reported as they happen.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::TryStreamExt;
use okta_client::observer::{Attempt, AttemptOutcome, Observer, Retry, RetryReason, WaitReason};
use okta_client::{Client, Query};
use okta_sim::{RateLimitTier, SimConfig, SimServer};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{SimClock, client_for, config_for, control, sim};

#[derive(Debug, Clone)]
struct Seen {
    bucket: String,
    outcome: AttemptOutcome,
    limit: Option<u64>,
    remaining: Option<u64>,
    reset: Option<i64>,
    request_id: Option<String>,
}

#[derive(Debug, Clone)]
struct Retried {
    reason: RetryReason,
    after: Duration,
    request_id: Option<String>,
}

/// Records everything it is told.
#[derive(Default)]
struct Recorder {
    attempts: Mutex<Vec<Seen>>,
    waits: Mutex<Vec<(String, WaitReason, Duration)>>,
    retries: Mutex<Vec<Retried>>,
}

impl Observer for Recorder {
    fn attempt(&self, a: &Attempt<'_>) {
        self.attempts.lock().unwrap().push(Seen {
            bucket: a.bucket.to_string(),
            outcome: a.outcome,
            limit: a.limit,
            remaining: a.remaining,
            reset: a.reset,
            request_id: a.request_id.map(str::to_string),
        });
    }
    fn waited(&self, bucket: &str, reason: WaitReason, duration: Duration) {
        self.waits
            .lock()
            .unwrap()
            .push((bucket.to_string(), reason, duration));
    }
    fn retry(&self, r: &Retry<'_>) {
        self.retries.lock().unwrap().push(Retried {
            reason: r.reason,
            after: r.after,
            request_id: r.request_id.map(str::to_string),
        });
    }
}

impl Recorder {
    fn attempts(&self) -> Vec<Seen> {
        self.attempts.lock().unwrap().clone()
    }
    fn retries(&self) -> Vec<Retried> {
        self.retries.lock().unwrap().clone()
    }
    fn waited(&self, reason: WaitReason) -> Duration {
        self.waits
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, r, _)| *r == reason)
            .map(|(_, _, d)| *d)
            .sum()
    }
    /// Attempts by status label.
    fn by_status(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for a in self.attempts() {
            *m.entry(a.outcome.label()).or_default() += 1;
        }
        m
    }
}

/// The simulator's counts by status over every route (0: an injected reset).
fn sim_by_status(server: &SimServer) -> BTreeMap<String, u64> {
    let snapshot = server.sim().counters.snapshot();
    let mut m = BTreeMap::new();
    for by_status in snapshot["routes"].as_object().unwrap().values() {
        for (status, n) in by_status.as_object().unwrap() {
            let label = if status == "0" { "connect" } else { status };
            *m.entry(label.to_string()).or_default() += n.as_u64().unwrap();
        }
    }
    m
}

/// A client with `recorder` as its observer, on `clock`; control calls go through another client
/// so they are not observed.
fn observed(
    server: &SimServer,
    recorder: &Arc<Recorder>,
    clock: Arc<dyn okta_client::Clock>,
) -> Client {
    let mut config = config_for(server.base_url(), &server.api_token());
    config.observer = Some(recorder.clone());
    Client::new(config).unwrap().with_clock(clock)
}

#[tokio::test]
async fn every_attempt_is_reported_as_the_simulator_counted_it() {
    let server = sim(SimConfig {
        users: 40,
        rate_limits: RateLimitTier::Workforce,
        ..SimConfig::small()
    })
    .await;
    let recorder = Arc::new(Recorder::default());
    let client = observed(
        &server,
        &recorder,
        Arc::new(okta_client::ManualClock::new()),
    );
    let users: Vec<Value> = client
        .paginate("/api/v1/users", Query::new().push("limit", 9))
        .try_collect()
        .await
        .unwrap();
    let id = users[0]["id"].as_str().unwrap();
    let _: Value = client
        .get(&format!("/api/v1/users/{id}"), &Query::new())
        .await
        .unwrap();
    let missing = client
        .get::<Value>("/api/v1/users/nobody@nowhere.example.com", &Query::new())
        .await
        .unwrap_err();

    let attempts = recorder.attempts();
    assert_eq!(attempts.len() as u64, server.sim().counters.total());
    assert_eq!(recorder.by_status(), sim_by_status(&server));
    assert_eq!(
        attempts
            .iter()
            .filter(|a| a.bucket == "GET /api/v1/users")
            .count() as u64,
        server.sim().counters.count("GET /api/v1/users")
    );
    assert_eq!(
        attempts
            .iter()
            .filter(|a| a.bucket == "GET /api/v1/users/{id}")
            .count(),
        2
    );
    // Every answer carried its request id and the bucket's headers.
    assert!(attempts.iter().all(|a| a.request_id.is_some()));
    let last = attempts.last().unwrap();
    assert_eq!(last.outcome, AttemptOutcome::Status(404));
    assert_eq!(last.request_id.as_deref(), missing.request_id());
    assert!(attempts.iter().all(|a| a.limit.is_some_and(|l| l > 0)));
    assert!(attempts.iter().all(|a| a.reset.is_some()));
    let listing: Vec<u64> = attempts
        .iter()
        .filter(|a| a.bucket == "GET /api/v1/users")
        .map(|a| a.remaining.unwrap())
        .collect();
    assert!(listing.windows(2).all(|w| w[1] < w[0]), "{listing:?}");
    assert!(recorder.retries().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn a_429_storm_is_reported_as_throttled_time_and_rate_limit_retries() {
    let server = sim(SimConfig {
        rate_limits: RateLimitTier::Workforce,
        ..SimConfig::small()
    })
    .await;
    let (controller, _) = client_for(&server);
    let clock = SimClock::new(&server);
    let recorder = Arc::new(Recorder::default());
    let client = observed(&server, &recorder, Arc::new(clock.clone()));
    control(
        &controller,
        Method::POST,
        "/control/faults/storm",
        json!({"seconds": 20}),
    )
    .await;
    let users: Vec<Value> = client.get("/api/v1/users", &Query::new()).await.unwrap();
    assert!(!users.is_empty());

    let throttled = server.sim().counters.throttled();
    assert!(throttled >= 1);
    let answered_429 = recorder
        .attempts()
        .iter()
        .filter(|a| a.outcome == AttemptOutcome::Status(429))
        .count() as u64;
    assert_eq!(answered_429, throttled);
    let retries = recorder.retries();
    assert_eq!(retries.len() as u64, throttled);
    assert!(
        retries
            .iter()
            .all(|r| r.reason == RetryReason::RateLimited && r.request_id.is_some())
    );
    // The time waited for resets is what the client slept, and it covers the storm.
    let rate_limited = recorder.waited(WaitReason::RateLimited);
    assert!(rate_limited >= Duration::from_secs(20), "{rate_limited:?}");
    assert_eq!(
        rate_limited,
        retries.iter().map(|r| r.after).sum::<Duration>()
    );
    let slept: Duration = clock.manual.sleeps().iter().sum();
    let reported =
        rate_limited + recorder.waited(WaitReason::Pacing) + recorder.waited(WaitReason::ShareUsed);
    assert_eq!(slept, reported, "every wait is reported");
    server.shutdown().await;
}

#[tokio::test]
async fn pacing_and_a_used_up_share_are_reported_per_bucket() {
    let server = sim(SimConfig {
        users: 5,
        rate_limits: RateLimitTier::Workforce,
        ..SimConfig::small()
    })
    .await;
    let clock = SimClock::new(&server);
    let recorder = Arc::new(Recorder::default());
    let client = observed(&server, &recorder, Arc::new(clock.clone()));
    // More app list calls than the client's share of one window (100 a minute): it paces, then
    // waits for a reset.
    let limit = {
        let _: Value = client.get("/api/v1/apps", &Query::new()).await.unwrap();
        recorder.attempts()[0].limit.unwrap()
    };
    assert_eq!(limit, 100);
    for _ in 0..limit {
        let _: Value = client.get("/api/v1/apps", &Query::new()).await.unwrap();
    }
    assert_eq!(server.sim().counters.throttled(), 0);
    assert!(recorder.waited(WaitReason::Pacing) > Duration::ZERO);
    assert!(recorder.waited(WaitReason::ShareUsed) > Duration::ZERO);
    assert!(
        recorder
            .waits
            .lock()
            .unwrap()
            .iter()
            .all(|(bucket, _, _)| bucket == "GET /api/v1/apps")
    );
    let slept: Duration = clock.manual.sleeps().iter().sum();
    assert_eq!(
        slept,
        recorder.waited(WaitReason::Pacing) + recorder.waited(WaitReason::ShareUsed)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn server_errors_and_resets_are_reported_as_retries() {
    let server = sim(SimConfig {
        users: 60,
        ..SimConfig::small()
    })
    .await;
    let (controller, _) = client_for(&server);
    let recorder = Arc::new(Recorder::default());
    let client = observed(
        &server,
        &recorder,
        Arc::new(okta_client::ManualClock::new()),
    );
    control(
        &controller,
        Method::PUT,
        "/control/faults",
        json!({"errorRate": 0.3, "errorStatus": 503, "resetRate": 0.1}),
    )
    .await;
    let users: Vec<Value> = client
        .paginate("/api/v1/users", Query::new().push("limit", 5))
        .try_collect()
        .await
        .unwrap();
    assert!(!users.is_empty());

    let by_status = recorder.by_status();
    assert_eq!(by_status, sim_by_status(&server));
    let failed = by_status.get("503").copied().unwrap_or(0);
    let reset = by_status.get("connect").copied().unwrap_or(0);
    assert!(failed > 0 && reset > 0, "{by_status:?}");
    let retries = recorder.retries();
    let count = |reason: RetryReason| retries.iter().filter(|r| r.reason == reason).count() as u64;
    assert_eq!(count(RetryReason::ServerError(503)), failed);
    assert_eq!(count(RetryReason::Connection), reset);
    // A retried 503 names the answer it repeats; a reset had no answer.
    assert!(
        retries
            .iter()
            .all(|r| r.request_id.is_some() == (r.reason == RetryReason::ServerError(503)))
    );
    // Backoff is not throttling.
    assert_eq!(recorder.waited(WaitReason::RateLimited), Duration::ZERO);
    server.shutdown().await;
}

#[test]
fn the_config_debug_says_only_whether_an_observer_is_set() {
    let mut config = config_for("http://127.0.0.1:1", "secret-token-value");
    let shown = format!("{config:?}");
    assert!(shown.contains("observer: None"), "{shown}");
    config.observer = Some(Arc::new(Recorder::default()));
    let shown = format!("{config:?}");
    assert!(shown.contains("observer: Some(\"set\")"), "{shown}");
    assert!(!shown.contains("secret-token-value"), "{shown}");
}
