//! The client against the simulated org over loopback.

use std::collections::HashSet;

use futures_util::{StreamExt, TryStreamExt};
use okta_client::{ErrorKind, Query};
use okta_sim::SimConfig;
use okta_sim::state::UserStatus;
use serde_json::{Value, json};

use crate::common::{client_for, control, sim};

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
    let expected = server
        .sim()
        .org
        .read()
        .users
        .values()
        .filter(|u| u.status != UserStatus::Deprovisioned)
        .count();
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
