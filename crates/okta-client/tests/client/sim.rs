//! The client against the simulated org over loopback.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use okta_client::{ErrorKind, LogStart, Query};
use okta_sim::state::UserStatus;
use okta_sim::{RateLimitTier, SimConfig};
use serde_json::{Value, json};

use crate::common::{client_for, client_on_sim_clock, control, sim};

/// The users `GET /api/v1/users` lists: all but the deprovisioned.
fn listed_users(server: &okta_sim::SimServer) -> usize {
    let org = server.sim().org.read();
    org.users
        .values()
        .filter(|u| u.status != UserStatus::Deprovisioned)
        .count()
}

#[tokio::test]
async fn paginates_every_user_once() {
    let server = sim(SimConfig {
        users: 60,
        ..SimConfig::small()
    })
    .await;
    let (client, _) = client_for(&server);
    let users: Vec<Value> = client
        .paginate("/api/v1/users", Query::new().push("limit", 7))
        .try_collect()
        .await
        .unwrap();
    let expected = listed_users(&server);
    let ids: HashSet<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(users.len(), expected);
    assert_eq!(ids.len(), users.len(), "duplicates");
    server.shutdown().await;
}

#[tokio::test]
async fn pages_are_fetched_one_at_a_time() {
    let server = sim(SimConfig {
        users: 60,
        ..SimConfig::small()
    })
    .await;
    let (client, _) = client_for(&server);
    let mut pages = client.pages::<Value>("/api/v1/users", Query::new().push("limit", 7));
    let first = pages.next().await.unwrap().unwrap();
    assert_eq!(first.items.len(), 7);
    let next = first.next.unwrap();
    assert!(next.query().unwrap().contains("after="), "{next}");
    let counters = control(
        &client,
        reqwest::Method::GET,
        "/control/counters",
        Value::Null,
    )
    .await;
    let text = counters.to_string();
    // Only the first page was requested.
    assert!(!text.contains("\"GET /api/v1/users\":2"), "{text}");
    server.shutdown().await;
}

#[tokio::test]
async fn bad_token_is_401_e0000011() {
    let server = sim(SimConfig::small()).await;
    let client =
        okta_client::Client::new(crate::common::config_for(server.base_url(), "00wrong")).unwrap();
    let err = client
        .get::<Value>("/api/v1/users", &Query::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Api);
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.error_code(), Some("E0000011"));
    assert_eq!(err.error_summary(), Some("Invalid token provided"));
    assert!(err.request_id().is_some());
    assert!(!err.is_retryable());
    assert!(!format!("{err} {err:?}").contains("00wrong"));
    server.shutdown().await;
}

#[tokio::test]
async fn creates_and_reads_back_json() {
    let server = sim(SimConfig {
        require_custom_attributes: false,
        ..SimConfig::small()
    })
    .await;
    let (client, _) = client_for(&server);
    let body = json!({"profile": {"firstName": "Ada", "lastName": "Lovelace",
        "email": "ada@example.com", "login": "ada@example.com"}});
    let created: Value = client
        .json(
            reqwest::Method::POST,
            "/api/v1/users",
            &Query::new().push("activate", false),
            Some(&body),
        )
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let got: Value = client
        .get(&format!("/api/v1/users/{id}"), &Query::new())
        .await
        .unwrap();
    assert_eq!(got["profile"]["login"], "ada@example.com");
    server.shutdown().await;
}

#[tokio::test]
async fn poll_logs_ends_on_an_empty_page_and_resumes_from_the_cursor() {
    let server = sim(SimConfig {
        log_events: 45,
        require_custom_attributes: false,
        ..SimConfig::small()
    })
    .await;
    let (client, _) = client_for(&server);
    let since = time::OffsetDateTime::now_utc() - time::Duration::days(40);
    let since = since
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut poll = client.poll_logs(LogStart::Since {
        since,
        filter: None,
        q: None,
        limit: 10,
    });
    let first_url = poll.cursor().unwrap().clone();
    let mut seen = HashSet::new();
    while let Some(event) = poll.next().await {
        let event = event.unwrap();
        assert!(seen.insert(event.uuid().unwrap().to_string()));
    }
    assert_eq!(seen.len(), server.sim().logs.len());
    let cursor = poll.cursor().unwrap().clone();
    assert_ne!(cursor, first_url);
    assert!(cursor.query().unwrap().contains("after="), "{cursor}");

    // Nothing new: the next poll ends at once on the same cursor.
    let mut again = client.poll_logs(LogStart::Cursor(cursor.clone()));
    assert!(again.next().await.is_none());
    assert_eq!(again.cursor(), Some(&cursor));

    // A change makes an event; the poll from the cursor picks it up, and only it.
    let body = json!({"profile": {"firstName": "Grace", "lastName": "Hopper",
        "email": "grace@example.com", "login": "grace@example.com"}});
    let _: Value = client
        .json(
            reqwest::Method::POST,
            "/api/v1/users",
            &Query::new().push("activate", false),
            Some(&body),
        )
        .await
        .unwrap();
    let mut resumed = client.poll_logs(LogStart::Cursor(cursor));
    let mut new = Vec::new();
    while let Some(event) = resumed.next().await {
        new.push(event.unwrap());
    }
    assert!(!new.is_empty());
    assert!(new.iter().all(|e| !seen.contains(e.uuid().unwrap())));
    assert!(
        new.iter().any(|e| e.event_type == "user.lifecycle.create"),
        "{new:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn injected_server_errors_and_resets_are_retried_to_success() {
    let server = sim(SimConfig {
        users: 60,
        ..SimConfig::small()
    })
    .await;
    let (client, clock) = client_for(&server);
    control(
        &client,
        reqwest::Method::PUT,
        "/control/faults",
        json!({"errorRate": 0.3, "errorStatus": 503, "resetRate": 0.1}),
    )
    .await;
    let users: Vec<Value> = client
        .paginate("/api/v1/users", Query::new().push("limit", 7))
        .try_collect()
        .await
        .unwrap();
    let ids: HashSet<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), users.len());
    assert_eq!(users.len(), listed_users(&server));
    assert!(
        !clock.sleeps().is_empty(),
        "some attempts failed and were retried"
    );
    assert!(clock.sleeps().iter().all(|s| *s <= Duration::from_secs(30)));

    // A POST answered 503 may have taken effect: reported, not repeated.
    control(
        &client,
        reqwest::Method::PUT,
        "/control/faults",
        json!({"errorRate": 1.0, "errorStatus": 503}),
    )
    .await;
    let before = clock.sleeps().len();
    let err = client
        .send(
            reqwest::Method::POST,
            "/api/v1/users",
            &Query::new(),
            Some(&json!({})),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(clock.sleeps().len(), before);
    server.shutdown().await;
}

#[tokio::test]
async fn a_429_storm_is_waited_out_by_the_reset() {
    let server = sim(SimConfig {
        rate_limits: RateLimitTier::Workforce,
        ..SimConfig::small()
    })
    .await;
    let (client, clock) = client_on_sim_clock(&server);
    control(
        &client,
        reqwest::Method::POST,
        "/control/faults/storm",
        json!({"seconds": 20}),
    )
    .await;
    let users: Vec<Value> = client.get("/api/v1/users", &Query::new()).await.unwrap();
    assert!(!users.is_empty());
    let throttled = server.sim().counters.throttled();
    assert!(throttled >= 1, "the storm answered 429");
    let waited: Duration = clock.manual.sleeps().iter().sum();
    assert!(waited >= Duration::from_secs(20), "{waited:?}");
    assert!(
        waited <= Duration::from_secs(62),
        "{waited:?}: one window at most"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_truncated_body_is_a_decode_error() {
    let server = sim(SimConfig::small()).await;
    let (client, _) = client_for(&server);
    // A 2xx whose body is not the requested shape.
    let err = client
        .get::<Vec<u32>>("/api/v1/users", &Query::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Decode);
    assert!(err.request_id().is_some());
    assert!(err.message.contains("invalid type"), "{err}");
    server.shutdown().await;
}
