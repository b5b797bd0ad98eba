//! The trigger runner against the in-process simulator, as a program using the library runs it:
//! every System Log trigger end to end, restarts, late events, the empty page's next link, 429 storms
//! and 5xx, an expiring OAuth token, a failing sink, a rejected filter, and the parallel backfill's
//! handover. Time is the simulator's (frozen, moved by every wait), so nothing here sleeps.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use okta_client::{Auth, Client, ClientConfig, Clock, ManualClock, Query, SecretString};
use okta_connector::sinks::{Line, Sink, SinkError, SinkFuture, SinkSpec};
use okta_connector::triggers::runtime::{self, Instance, Options, RunError, Stopped, Summary};
use okta_connector::triggers::{self, state};
use okta_sim::{RateLimitTier, SimConfig, SimServer};
use parking_lot::Mutex;
use reqwest::Method;
use serde_json::{Value, json};

/// Waits return at once and move both the runner's time and the (frozen) simulator's clock.
#[derive(Clone)]
struct SimClock {
    manual: ManualClock,
    sim: Arc<okta_sim::Sim>,
}

impl Clock for SimClock {
    fn now(&self) -> std::time::Instant {
        self.manual.now()
    }
    fn sleep(&self, duration: Duration) -> okta_client::clock::SleepFuture<'_> {
        self.sim.clock.advance_ms(duration.as_millis() as i64);
        self.manual.sleep(duration)
    }
}

/// Records what it is given; fails the first `fail` deliveries; claims to hold `held` after a crash.
#[derive(Clone, Default)]
struct MemorySink {
    lines: Arc<Mutex<Vec<Line>>>,
    fail: Arc<AtomicUsize>,
    held: Arc<Mutex<Vec<String>>>,
}

impl Sink for MemorySink {
    fn recover<'a>(&'a mut self, _committed: Option<&'a str>) -> SinkFuture<'a, Vec<String>> {
        let held = self.held.lock().clone();
        Box::pin(async move { Ok(held) })
    }
    fn deliver<'a>(&'a mut self, batch: &'a [Line]) -> SinkFuture<'a, Option<String>> {
        Box::pin(async move {
            if self
                .fail
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(SinkError {
                    message: "the receiver is down".into(),
                    retryable: true,
                });
            }
            self.lines.lock().extend_from_slice(batch);
            Ok(None)
        })
    }
    fn describe(&self) -> String {
        "memory".into()
    }
}

impl MemorySink {
    fn envelopes(&self) -> Vec<Value> {
        self.lines
            .lock()
            .iter()
            .map(|l| serde_json::from_str(&l.json).unwrap())
            .collect()
    }
    fn ids(&self) -> Vec<String> {
        self.lines.lock().iter().map(|l| l.id.clone()).collect()
    }
}

struct Org {
    server: SimServer,
    client: Client,
    clock: SimClock,
    dir: tempfile::TempDir,
}

impl Org {
    async fn start(config: SimConfig) -> Org {
        Org::start_with(config, |server| {
            Auth::ApiToken(SecretString::new(server.api_token()))
        })
        .await
    }

    async fn start_with(config: SimConfig, auth: impl FnOnce(&SimServer) -> Auth) -> Org {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let server = okta_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        server.sim().clock.freeze(None);
        let clock = SimClock {
            manual: ManualClock::new(),
            sim: server.sim().clone(),
        };
        let client = Client::new(ClientConfig::new(
            server.base_url().parse().unwrap(),
            auth(&server),
        ))
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
        Org {
            server,
            client,
            clock,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        let body = (!body.is_null()).then_some(&body);
        let response = self
            .client
            .send(method.clone(), path, &Query::new(), body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        serde_json::from_slice(&response.body).unwrap_or(Value::Null)
    }

    /// Writes `count` events published `ago_ms` before now (persisted now); their uuids.
    async fn events(&self, count: usize, ago_ms: i64, event_type: &str) -> Vec<String> {
        let mut uuids = Vec::new();
        let mut left = count;
        while left > 0 {
            let n = left.min(100_000);
            let answer = self
                .control(
                    Method::POST,
                    "/control/logs/late",
                    json!({"count": n, "publishedAgoMs": ago_ms, "eventType": event_type}),
                )
                .await;
            uuids.extend(
                answer["inserted"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|u| u.as_str().unwrap().to_string()),
            );
            left -= n;
        }
        uuids
    }

    fn now_iso(&self) -> String {
        self.server.sim().clock.now_ms();
        let ms = self.server.sim().clock.now_ms();
        let t =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
        okta_connector::triggers::time_spec::okta_time(t)
    }

    async fn run(
        &self,
        instance: &Instance,
        sink: &MemorySink,
        once: bool,
    ) -> Result<Summary, RunError> {
        let (_tx, shutdown) = tokio::sync::watch::channel(false);
        let options = Options {
            once,
            interval: Duration::from_secs(5),
            ..Options::default()
        };
        runtime::run_with_sink(
            instance,
            Box::new(sink.clone()),
            self.client.clone(),
            self.dir.path(),
            Arc::new(self.clock.clone()),
            &options,
            shutdown,
        )
        .await
    }
}

fn instance(name: &str, trigger: &str, config: Value) -> Instance {
    Instance {
        name: name.into(),
        connection: "acme".into(),
        trigger: triggers::find(trigger).unwrap(),
        config,
        sink: SinkSpec::Stdout,
    }
}

fn small() -> SimConfig {
    SimConfig {
        users: 20,
        groups: 3,
        log_events: 200,
        ..SimConfig::small()
    }
}

/// Compares two id lists, printing only the first difference (they hold thousands of uuids).
#[track_caller]
fn assert_ids(got: &[String], expected: &[String]) {
    if got != expected {
        let at = got
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(expected.len()));
        panic!(
            "got {} ids, expected {}; first difference at {at}: {:?} vs {:?}",
            got.len(),
            expected.len(),
            got.get(at),
            expected.get(at)
        );
    }
}

fn assert_distinct(ids: &[String]) {
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "a record was delivered twice");
}

#[tokio::test]
async fn new_events_delivers_every_event_once_across_restarts() {
    let org = Org::start(small()).await;
    let start = org.now_iso();
    let first = org.events(2_500, 0, "user.session.start").await;
    let events = instance("audit", "new_events", json!({"start": start}));
    let sink = MemorySink::default();
    let summary = org.run(&events, &sink, true).await.unwrap();
    assert_eq!(summary.stopped, Stopped::CaughtUp);
    assert_ids(&sink.ids(), &first);
    assert_eq!(summary.batches, 3, "1000 per page");

    // A restart (a new runner on the same state) reads only what came after.
    let second = org.events(1_000, 0, "user.lifecycle.create").await;
    let summary = org.run(&events, &sink, true).await.unwrap();
    assert_eq!(summary.delivered, 1_000);
    let all: Vec<String> = first.iter().chain(&second).cloned().collect();
    assert_ids(&sink.ids(), &all);

    let envelope = &sink.envelopes()[0];
    assert_eq!(envelope["trigger"], "new_events");
    assert_eq!(envelope["connection"], "acme");
    assert_eq!(envelope["id"], envelope["record"]["uuid"]);
    assert_eq!(envelope["record"]["eventType"], "user.session.start");
    assert!(
        envelope["cursor"]["poll"]
            .as_str()
            .unwrap()
            .contains("/api/v1/logs?")
    );
    assert!(envelope["emitted"].as_str().unwrap().ends_with('Z'));
    assert!(envelope.get("details").is_none());

    let jobs = state::jobs(org.dir.path(), Some("audit"), 100).unwrap();
    assert_eq!(jobs.len(), 4);
    assert!(
        jobs.iter()
            .all(|j| j.status == "delivered" && j.error.is_none())
    );
    assert_eq!(jobs.iter().map(|j| j.records).sum::<u64>(), 3_500);
    org.server.shutdown().await;
}

#[tokio::test]
async fn the_category_filter_reaches_okta() {
    let org = Org::start(small()).await;
    let start = org.now_iso();
    org.events(30, 0, "user.session.start").await;
    let creates = org.events(20, 0, "user.lifecycle.create").await;
    let sink = MemorySink::default();
    let only = instance(
        "lifecycle",
        "new_events",
        json!({"start": start, "categories": ["user_lifecycle"], "results": ["SUCCESS"]}),
    );
    org.run(&only, &sink, true).await.unwrap();
    assert_ids(&sink.ids(), &creates);
    org.server.shutdown().await;
}

#[tokio::test]
async fn late_events_come_through_the_empty_pages_next_link() {
    let org = Org::start(small()).await;
    let start = org.now_iso();
    let sink = MemorySink::default();
    let events = instance("late", "new_events", json!({"start": start}));
    let before = org.events(10, 0, "user.session.start").await;
    org.run(&events, &sink, true).await.unwrap();
    assert_ids(&sink.ids(), &before);
    // The poll ended on an empty page; the cursor is that page's next link.
    let cursor = state::instances(org.dir.path()).unwrap()[0]
        .cursor
        .clone()
        .unwrap();
    let next = cursor["poll"].as_str().unwrap().to_string();

    // Published ten minutes ago, before everything delivered so far, but written now.
    let late = org.events(5, 600_000, "user.session.start").await;
    let page: Vec<Value> = org.client.get(&next, &Query::new()).await.unwrap();
    let uuids: Vec<&str> = page.iter().map(|e| e["uuid"].as_str().unwrap()).collect();
    assert_eq!(
        uuids, late,
        "the empty page's next link leads to what was written after it"
    );

    org.run(&events, &sink, true).await.unwrap();
    let all: Vec<String> = before.iter().chain(&late).cloned().collect();
    assert_ids(&sink.ids(), &all);
    org.server.shutdown().await;
}

#[tokio::test]
async fn storms_and_server_errors_lose_and_repeat_nothing() {
    let org = Org::start(SimConfig {
        rate_limits: RateLimitTier::Workforce,
        ..small()
    })
    .await;
    let start = org.now_iso();
    let written = org.events(3_000, 0, "user.session.start").await;
    org.control(
        Method::PUT,
        "/control/faults",
        json!({"errorRate": 0.3, "errorStatus": 503, "pathPrefix": "/api/v1/logs"}),
    )
    .await;
    org.control(
        Method::POST,
        "/control/faults/storm",
        json!({"seconds": 30}),
    )
    .await;
    let sink = MemorySink::default();
    let events = instance(
        "stormy",
        "new_events",
        json!({"start": start, "limit": 100}),
    );
    let summary = org.run(&events, &sink, true).await.unwrap();
    assert_ids(&sink.ids(), &written);
    let counters = org.server.sim().counters.snapshot();
    assert!(
        org.server.sim().counters.throttled() > 0,
        "the storm answered 429: {counters}"
    );
    assert!(summary.batches == 30, "{summary:?}");
    org.server.shutdown().await;
}

#[tokio::test]
async fn a_failing_sink_is_retried_and_the_cursor_waits_for_it() {
    let org = Org::start(small()).await;
    let start = org.now_iso();
    let written = org.events(1_500, 0, "user.session.start").await;
    let sink = MemorySink::default();
    sink.fail.store(3, Ordering::SeqCst);
    let events = instance("flaky", "new_events", json!({"start": start}));
    let summary = org.run(&events, &sink, true).await.unwrap();
    assert_ids(&sink.ids(), &written);
    assert_eq!(summary.retries, 3);
    let jobs = state::jobs(org.dir.path(), Some("flaky"), 100).unwrap();
    let failed: Vec<_> = jobs.iter().filter(|j| j.status == "failed").collect();
    assert_eq!(failed.len(), 3);
    assert!(
        failed[0]
            .error
            .as_deref()
            .unwrap()
            .contains("the receiver is down")
    );
    org.server.shutdown().await;
}

#[tokio::test]
async fn records_a_sink_already_holds_are_skipped_and_counted_once() {
    let org = Org::start(small()).await;
    let start = org.now_iso();
    let written = org.events(10, 0, "user.session.start").await;
    let events = instance("held", "new_events", json!({"start": start}));
    // The sink says a crashed process got the first three to it before dying: twice in a row (a
    // second crash before any commit), as the file sink would.
    let sink = MemorySink::default();
    *sink.held.lock() = written[..3].to_vec();
    let crashed = MemorySink {
        held: sink.held.clone(),
        ..MemorySink::default()
    };
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    stop.send(true).unwrap();
    // Started and stopped before reading: only the recovery happens.
    runtime::run_with_sink(
        &events,
        Box::new(crashed),
        org.client.clone(),
        org.dir.path(),
        Arc::new(org.clock.clone()),
        &Options::default(),
        shutdown,
    )
    .await
    .unwrap();
    org.run(&events, &sink, true).await.unwrap();
    assert_ids(&sink.ids(), &written[3..]);
    let jobs = state::jobs(org.dir.path(), Some("held"), 10).unwrap();
    let records: Vec<u64> = jobs.iter().rev().map(|j| j.records).collect();
    assert_eq!(
        records,
        vec![3, 7],
        "the held three counted once, then the other seven"
    );
    assert_eq!(
        jobs[0].duplicates, 3,
        "the held three read again and dropped"
    );
    org.server.shutdown().await;
}

#[tokio::test]
async fn a_filter_okta_rejects_stops_the_trigger_and_keeps_its_state() {
    let org = Org::start(small()).await;
    let sink = MemorySink::default();
    let bad = instance("bad", "new_events", json!({"filter": "eventType zz \"x\""}));
    let err = org.run(&bad, &sink, true).await.unwrap_err();
    let RunError::Source(e) = &err else {
        panic!("{err}")
    };
    assert!(!e.retryable());
    assert!(
        err.to_string().contains("400") || err.to_string().contains("E00000"),
        "{err}"
    );
    assert!(sink.ids().is_empty());
    assert_eq!(state::instances(org.dir.path()).unwrap()[0].cursor, None);
    let jobs = state::jobs(org.dir.path(), Some("bad"), 10).unwrap();
    assert_eq!(jobs[0].status, "failed");

    // Bad configurations are refused before anything is read.
    let err = org
        .run(
            &instance("bad2", "new_events", json!({"limit": 0})),
            &sink,
            true,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Setup(_)), "{err}");
    assert!(err.to_string().contains("limit must be 1 to 1000"), "{err}");
    org.server.shutdown().await;
}

#[tokio::test]
async fn a_changed_configuration_under_the_same_name_is_refused() {
    let org = Org::start(small()).await;
    let sink = MemorySink::default();
    org.run(&instance("same", "new_events", json!({})), &sink, true)
        .await
        .unwrap();
    let err = org
        .run(
            &instance(
                "same",
                "new_events",
                json!({"event_types": ["user.session.start"]}),
            ),
            &sink,
            true,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("triggers reset same"), "{err}");
    assert!(state::reset(org.dir.path(), "same").unwrap());
    org.run(
        &instance(
            "same",
            "new_events",
            json!({"event_types": ["user.session.start"]}),
        ),
        &sink,
        true,
    )
    .await
    .unwrap();
    org.server.shutdown().await;
}

#[tokio::test]
async fn an_expiring_token_is_renewed_mid_stream() {
    let key = okta_client::PrivateKey::generate_es256();
    let app = json!({
        "clientId": "0oaTRIGGERS",
        "type": "service",
        "jwks": {"keys": [key.public_jwk()]},
        "grantedScopes": ["okta.logs.read"],
        "adminRole": true,
        "dpopRequired": true,
    });
    let config = SimConfig {
        oauth_apps: vec![serde_json::from_value(app).unwrap()],
        ..small()
    };
    let org = Org::start_with(config, |_| {
        Auth::ClientCredentials(okta_client::ClientCredentials {
            client_id: "0oaTRIGGERS".into(),
            key,
            key_id: None,
            scopes: vec!["okta.logs.read".into()],
            dpop: okta_client::DpopMode::Auto,
            dpop_key: None,
        })
    })
    .await;
    let start = org.now_iso();
    let first = org.events(2_000, 0, "user.session.start").await;
    let sink = MemorySink::default();
    // Token grants are System Log events too: read only the sessions written here.
    let events = instance(
        "oauth",
        "new_events",
        json!({"start": start, "limit": 500, "event_types": ["user.session.start"]}),
    );
    org.run(&events, &sink, true).await.unwrap();
    // The access token lasts an hour on the simulator's clock.
    org.server.sim().clock.advance_ms(2 * 3_600_000);
    let second = org.events(2_000, 0, "user.session.start").await;
    org.run(&events, &sink, true).await.unwrap();
    let all: Vec<String> = first.iter().chain(&second).cloned().collect();
    assert_ids(&sink.ids(), &all);
    let counters = org.server.sim().counters.snapshot();
    // The expired token was refused once (401), a second one granted, and the poll went on.
    assert_eq!(
        counters["routes"]["POST /oauth2/v1/token"]["200"], 2,
        "{counters}"
    );
    assert_eq!(
        counters["routes"]["GET /api/v1/logs"]["401"], 1,
        "{counters}"
    );
    org.server.shutdown().await;
}

#[tokio::test]
async fn a_long_start_is_backfilled_in_parallel_windows_then_polled() {
    let org = Org::start(SimConfig {
        log_events: 20_000,
        ..small()
    })
    .await;
    let now = org.server.sim().clock.now_ms();
    let start_ms = now - 7 * 86_400_000;
    let sink = MemorySink::default();
    let events = instance(
        "backfill",
        "new_events",
        json!({"start": "7d", "backfill": {"window": "1d", "parallel": 4}}),
    );
    org.run(&events, &sink, true).await.unwrap();
    let ids = sink.ids();
    assert_distinct(&ids);
    let expected: BTreeSet<String> = org.server.sim().logs.with_events(|all| {
        all.iter()
            .filter(|e| e.published_ms >= start_ms - 5_000)
            .map(|e| e.uuid_string())
            .collect()
    });
    let got: BTreeSet<String> = ids.iter().cloned().collect();
    // The start is taken on the runner's clock; allow the few seconds between the two readings.
    let missing: Vec<_> = expected.difference(&got).collect();
    assert!(missing.len() <= 20, "{} events missing", missing.len());
    assert!(
        got.len() > 3_000,
        "a week of 30 days of 20k events: {}",
        got.len()
    );
    // Delivered in order of publication across the windows.
    let published: Vec<String> = sink
        .envelopes()
        .iter()
        .map(|e| e["record"]["published"].as_str().unwrap().to_string())
        .collect();
    assert!(
        published.windows(2).all(|w| w[0] <= w[1]),
        "windows delivered in order"
    );

    // Handed over to polling: new events (and one published during the backfill's range) follow.
    let after = org.events(50, 0, "user.session.start").await;
    let late = org.events(3, 2 * 86_400_000, "user.session.start").await;
    org.run(&events, &sink, true).await.unwrap();
    let ids = sink.ids();
    assert_distinct(&ids);
    assert_ids(&ids[ids.len() - 53..ids.len() - 3], &after);
    assert_ids(&ids[ids.len() - 3..], &late);
    let cursor = state::instances(org.dir.path()).unwrap()[0]
        .cursor
        .clone()
        .unwrap();
    assert!(cursor.get("poll").is_some(), "{cursor}");
    org.server.shutdown().await;
}

#[tokio::test]
async fn membership_changes_and_deletions_carry_details() {
    let org = Org::start(small()).await;
    let start = org.now_iso();
    let users: Vec<Value> = org
        .client
        .get("/api/v1/users", &Query::new().push("limit", 3))
        .await
        .unwrap();
    let group: Value = org
        .client
        .json(
            Method::POST,
            "/api/v1/groups",
            &Query::new(),
            Some(&json!({"profile": {"name": "Triggers", "description": "t"}})),
        )
        .await
        .unwrap();
    let gid = group["id"].as_str().unwrap();
    for u in &users {
        let path = format!("/api/v1/groups/{gid}/users/{}", u["id"].as_str().unwrap());
        org.client
            .send(Method::PUT, &path, &Query::new(), None)
            .await
            .unwrap();
    }
    let removed = users[0]["id"].as_str().unwrap();
    org.client
        .send(
            Method::DELETE,
            &format!("/api/v1/groups/{gid}/users/{removed}"),
            &Query::new(),
            None,
        )
        .await
        .unwrap();

    let sink = MemorySink::default();
    let membership = instance(
        "members",
        "group_membership_changed",
        json!({"start": start, "group_ids": [gid]}),
    );
    org.run(&membership, &sink, true).await.unwrap();
    let details: Vec<Value> = sink
        .envelopes()
        .iter()
        .map(|e| e["details"].clone())
        .collect();
    assert_eq!(details.len(), 4, "{details:?}");
    assert!(
        details[..3]
            .iter()
            .all(|d| d["change"] == "added" && d["group"]["id"] == gid)
    );
    assert_eq!(details[3]["change"], "removed");
    assert_eq!(details[3]["user"]["id"], removed);

    // Deletions: a user (deactivate, then delete) and the group.
    let uid = users[1]["id"].as_str().unwrap();
    for _ in 0..2 {
        org.client
            .send(
                Method::DELETE,
                &format!("/api/v1/users/{uid}"),
                &Query::new(),
                None,
            )
            .await
            .unwrap();
    }
    org.client
        .send(
            Method::DELETE,
            &format!("/api/v1/groups/{gid}"),
            &Query::new(),
            None,
        )
        .await
        .unwrap();
    let sink = MemorySink::default();
    let deleted = instance("deleted", "deleted_objects", json!({"start": start}));
    org.run(&deleted, &sink, true).await.unwrap();
    let details: Vec<Value> = sink
        .envelopes()
        .iter()
        .map(|e| e["details"].clone())
        .collect();
    assert_eq!(details.len(), 2, "{details:?}");
    assert_eq!(details[0]["objectType"], "user");
    assert_eq!(details[0]["id"], uid);
    assert_eq!(details[1]["objectType"], "group");
    assert_eq!(details[1]["id"], gid);
    org.server.shutdown().await;
}
