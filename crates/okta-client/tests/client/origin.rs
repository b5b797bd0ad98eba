//! The credentials stay with the org: a `next` link or URL on another origin is refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::HeaderMap;
use futures_util::StreamExt;
use okta_client::{Client, ErrorKind, Query};
use reqwest::Method;
use serde_json::Value;

use crate::common::config_for;

/// Serves `router` on a loopback port; returns its base URL.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

#[tokio::test]
async fn a_next_link_to_another_port_is_refused_and_never_requested() {
    // The other origin counts whatever reaches it (it must stay 0).
    let hits = Arc::new(AtomicUsize::new(0));
    let other = {
        let hits = hits.clone();
        serve(axum::Router::new().fallback(move |h: HeaderMap| {
            let hits = hits.clone();
            async move {
                hits.fetch_add(1, Ordering::SeqCst);
                assert!(h.get("authorization").is_none());
                "[]"
            }
        }))
        .await
    };
    let link = format!("<{other}/api/v1/users?after=x>; rel=\"next\"");
    let org = serve(axum::Router::new().fallback(move || {
        let link = link.clone();
        async move { ([("link", link)], r#"[{"id":"00u1"}]"#) }
    }))
    .await;

    let client = Client::new(config_for(&org, "00SECRET")).unwrap();
    let mut users = client.paginate::<Value>("/api/v1/users", Query::new());
    assert_eq!(users.next().await.unwrap().unwrap()["id"], "00u1");
    let err = users.next().await.unwrap().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.message.contains(&other), "{err}");
    assert!(!err.to_string().contains("00SECRET"));
    assert!(users.next().await.is_none());

    // Absolute URLs and scheme-relative paths elsewhere are refused too; on the org they are fine.
    for url in [
        format!("{other}/api/v1/users"),
        format!("//{}/api/v1/users", other.trim_start_matches("http://")),
        org.replace("http://", "https://") + "/api/v1/users",
    ] {
        let err = client
            .send(Method::GET, &url, &Query::new(), None)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid, "{url}");
    }
    client
        .send(
            Method::GET,
            &format!("{org}/api/v1/users"),
            &Query::new(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn redirects_are_reported_not_followed() {
    let org = serve(axum::Router::new().fallback(|| async {
        (
            axum::http::StatusCode::FOUND,
            [("location", "https://acme.okta.com/api/v1/users")],
            "",
        )
    }))
    .await;
    let client = Client::new(config_for(&org, "00SECRET")).unwrap();
    let err = client
        .get::<Value>("/api/v1/users", &Query::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Redirect);
    assert_eq!(err.status(), Some(302));
    assert_eq!(
        err.location.as_deref(),
        Some("https://acme.okta.com/api/v1/users")
    );
}

#[tokio::test]
async fn error_bodies_that_are_not_okta_json_are_tolerated() {
    let org = serve(
        axum::Router::new()
            .fallback(|| async { (axum::http::StatusCode::FORBIDDEN, "<html>nope</html>") }),
    )
    .await;
    let client = Client::new(config_for(&org, "00SECRET")).unwrap();
    let err = client
        .get::<Value>("/api/v1/users", &Query::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Api);
    assert_eq!(err.status(), Some(403));
    assert!(err.body.is_none());
    assert!(err.message.contains("permission denied"), "{err}");
}

#[tokio::test]
async fn connection_refused_says_so() {
    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut config = config_for(&base, "00SECRET");
    config.retry.max_attempts = 2;
    let clock = okta_client::ManualClock::new();
    let client = Client::new(config)
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    let err = client
        .get::<Value>("/api/v1/users", &Query::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connect);
    assert!(err.message.contains("refused"), "{err}");
    assert!(err.is_retryable());
    assert_eq!(clock.sleeps().len(), 1, "retried once, then gave up");
    assert!(err.message.contains("gave up after 2 attempts"), "{err}");
}

#[tokio::test]
async fn https_to_a_plain_http_server_is_a_tls_failure_and_not_retried() {
    let base = serve(axum::Router::new())
        .await
        .replace("http://", "https://");
    let clock = okta_client::ManualClock::new();
    let client = Client::new(config_for(&base, "00SECRET"))
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    let err = client
        .get::<Value>("/api/v1/users", &Query::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Tls, "{err}");
    assert!(err.message.contains("TLS"), "{err}");
    assert!(!err.is_retryable());
    assert!(clock.sleeps().is_empty(), "a TLS failure is not retried");
}
