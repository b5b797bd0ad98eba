//! Rate limits, concurrency, faults, authentication and the control API, seen from a client.

use std::time::Duration;

use okta_sim::{RateLimitTier, SimConfig};
use serde_json::json;

use crate::support::{TestOrg, read};

fn enterprise() -> SimConfig {
    SimConfig {
        rate_limits: RateLimitTier::Enterprise,
        ..SimConfig::small()
    }
}

#[tokio::test]
async fn logs_bucket_counts_down_then_answers_429_like_okta() {
    let org = TestOrg::with(enterprise()).await;
    org.sim().clock.freeze(None);
    let mut last_remaining = 50;
    for _ in 0..50 {
        let r = org.get("/api/v1/logs?limit=1").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-rate-limit-limit"), Some("50"));
        let remaining: u32 = r.header("x-rate-limit-remaining").unwrap().parse().unwrap();
        assert_eq!(remaining, last_remaining - 1);
        last_remaining = remaining;
    }
    let r = org.get("/api/v1/logs?limit=1").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.error_code(), Some("E0000047"));
    assert_eq!(
        r.body["errorSummary"],
        "API call exceeded rate limit due to too many requests."
    );
    assert_eq!(r.header("x-rate-limit-remaining"), Some("0"));
    assert_eq!(r.header("x-rate-limit-limit"), Some("50"));
    let reset: i64 = r.header("x-rate-limit-reset").unwrap().parse().unwrap();
    let now_s = org.sim().clock.now_ms() / 1000;
    assert!(
        reset > now_s && reset <= now_s + 61,
        "reset {reset} now {now_s}"
    );

    // Okta logs one violation per window, however many requests it refuses.
    org.get("/api/v1/logs?limit=1").await;
    let violations = org.sim().logs.with_events(|events| {
        events[org.history..]
            .iter()
            .filter(|e| e.event_type == "system.org.rate_limit.violation")
            .count()
    });
    assert_eq!(violations, 1);

    // Other buckets are unaffected.
    assert_eq!(org.get("/api/v1/users?limit=1").await.status, 200);

    // A minute later (on the simulated clock) the window has reset.
    org.sim().clock.advance_ms(60_000);
    let r = org.get("/api/v1/logs?limit=1").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-rate-limit-remaining"), Some("49"));
}

#[tokio::test]
async fn workforce_and_off_tiers_report_their_limits() {
    let org = TestOrg::with(SimConfig {
        rate_limits: RateLimitTier::Workforce,
        ..SimConfig::small()
    })
    .await;
    assert_eq!(
        org.get("/api/v1/logs").await.header("x-rate-limit-limit"),
        Some("120")
    );
    assert_eq!(
        org.get("/api/v1/users").await.header("x-rate-limit-limit"),
        Some("600")
    );
    let r = reqwest::Client::new()
        .put(org.url("/control/rate-limits"))
        .json(&json!({"tier": "off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        org.get("/api/v1/logs").await.header("x-rate-limit-limit"),
        Some("1000000")
    );
    let bad = reqwest::Client::new()
        .put(org.url("/control/rate-limits"))
        .json(&json!({"tier": "platinum"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn concurrency_limit_answers_429_with_zero_limit_and_remaining() {
    let org = TestOrg::with(SimConfig {
        rate_limits: RateLimitTier::Workforce,
        latency_ms: 300,
        ..SimConfig::small()
    })
    .await;
    org.sim().limits.set_concurrency_limit(2);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let request = org
            .client
            .get(org.url("/api/v1/users?limit=1"))
            .header("Authorization", format!("SSWS {}", org.server.api_token()));
        calls.spawn(async move { read(request.send().await.unwrap()).await });
    }
    let results = calls.join_all().await;
    let throttled: Vec<_> = results.iter().filter(|r| r.status == 429).collect();
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert!(ok >= 2, "two requests fit in the limit");
    assert!(!throttled.is_empty(), "the rest are refused");
    for r in throttled {
        assert_eq!(r.header("x-rate-limit-limit"), Some("0"));
        assert_eq!(r.header("x-rate-limit-remaining"), Some("0"));
        assert_eq!(r.error_code(), Some("E0000047"));
    }
}

#[tokio::test]
async fn bad_and_missing_tokens_are_refused_as_okta_does() {
    let org = TestOrg::start().await;
    let client = reqwest::Client::new();
    let r = read(
        client
            .get(org.url("/api/v1/users"))
            .header("Authorization", "SSWS not-the-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), Some("E0000011"));
    assert_eq!(r.body["errorSummary"], "Invalid token provided");
    assert!(r.header("x-okta-request-id").is_some());

    let r = read(client.get(org.url("/api/v1/users")).send().await.unwrap()).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.error_code(), Some("E0000005"));

    for malformed in ["garbage", "SSWS", "Basic dXNlcjpwYXNz"] {
        let r = read(
            client
                .get(org.url("/api/v1/users"))
                .header("Authorization", malformed)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 403, "{malformed}");
        assert_eq!(r.error_code(), Some("E0000005"), "{malformed}");
    }

    let r = read(
        client
            .get(org.url("/api/v1/users"))
            .header(
                "Authorization",
                format!("Bearer {}", org.server.api_token()),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401, "an API token is not a bearer token");
}

#[tokio::test]
async fn a_token_without_an_admin_role_authenticates_but_may_do_nothing() {
    let org = TestOrg::start().await;
    let client = reqwest::Client::new();
    let added = client
        .post(org.url("/control/api-tokens"))
        .json(&json!({"token": "00NoRoleToken", "adminRole": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    assert!(
        !added.text().await.unwrap().contains("00NoRoleToken"),
        "not echoed"
    );
    for path in [
        "/api/v1/logs?limit=1",
        "/api/v1/meta/schemas/user/default",
        "/api/v1/users",
    ] {
        let r = read(
            client
                .get(org.url(path))
                .header("Authorization", "SSWS 00NoRoleToken")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(r.error_code(), Some("E0000006"), "{path}");
    }
    // The org's own token still works, and a bad registration is refused.
    assert_eq!(org.get("/api/v1/users?limit=1").await.status, 200);
    let refused = client
        .post(org.url("/control/api-tokens"))
        .json(&json!({"token": "has space"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn unknown_paths_and_methods_get_okta_errors() {
    let org = TestOrg::start().await;
    let r = org.get("/api/v1/nothing-here").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), Some("E0000008"));
    let r = org
        .send(reqwest::Method::PATCH, "/api/v1/users", None)
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.error_code(), Some("E0000022"));
}

#[tokio::test]
async fn injected_errors_resets_and_storms() {
    let org = TestOrg::start().await;
    let control = reqwest::Client::new();
    control
        .put(org.url("/control/faults"))
        .json(&json!({"errorRate": 1.0, "errorStatus": 503}))
        .send()
        .await
        .unwrap();
    let r = org.get("/api/v1/users").await;
    assert_eq!(r.status, 503);
    assert!(r.header("x-okta-request-id").is_some());

    control
        .put(org.url("/control/faults"))
        .json(&json!({"resetRate": 1.0}))
        .send()
        .await
        .unwrap();
    let outcome = async {
        let resp = org
            .client
            .get(org.url("/api/v1/users"))
            .header("Authorization", format!("SSWS {}", org.server.api_token()))
            .send()
            .await?;
        resp.bytes().await
    }
    .await;
    assert!(
        outcome.is_err(),
        "the connection drops before a full answer"
    );

    control
        .delete(org.url("/control/faults"))
        .send()
        .await
        .unwrap();
    control
        .post(org.url("/control/faults/storm"))
        .json(&json!({"seconds": 30}))
        .send()
        .await
        .unwrap();
    let r = org.get("/api/v1/groups").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.error_code(), Some("E0000047"));
    assert_eq!(r.header("x-rate-limit-remaining"), Some("0"));
    // The storm is on the simulated clock: advancing past it ends it.
    control
        .post(org.url("/control/clock"))
        .json(&json!({"advanceMs": 31_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(org.get("/api/v1/groups").await.status, 200);
}

#[tokio::test]
async fn counters_and_clock_are_readable_through_the_control_api() {
    let org = TestOrg::start().await;
    for _ in 0..3 {
        org.get("/api/v1/users?limit=1").await;
    }
    org.get("/api/v1/users/nobody").await;
    let c: serde_json::Value = reqwest::get(org.url("/control/counters"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["routes"]["GET /api/v1/users"]["200"], 3);
    assert_eq!(c["routes"]["GET /api/v1/users/{id}"]["404"], 1);
    assert_eq!(org.sim().counters.count("GET /api/v1/users"), 3);

    let clock: serde_json::Value = reqwest::Client::new()
        .post(org.url("/control/clock"))
        .json(&json!({"freeze": true, "atEpochMs": 1_700_000_000_000i64}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clock["now"], "2023-11-14T22:13:20.000Z");
    let r = org.get("/api/v1/users?limit=1").await;
    assert_eq!(r.header("date"), Some("Tue, 14 Nov 2023 22:13:20 GMT"));
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(org.sim().clock.now_ms(), 1_700_000_000_000);
}

#[tokio::test]
async fn control_api_refuses_out_of_range_input_and_unknown_paths() {
    let org = TestOrg::start().await;
    let control = reqwest::Client::new();
    for (method, path, body) in [
        (
            "POST",
            "/control/logs/late",
            json!({"count": 1_000_000_000_000u64, "publishedAgoMs": 1}),
        ),
        (
            "POST",
            "/control/logs/late",
            json!({"count": 1, "publishedAgoMs": -5}),
        ),
        ("POST", "/control/faults/storm", json!({"seconds": 1e300})),
        ("POST", "/control/clock", json!({"advanceMs": i64::MAX})),
        ("POST", "/control/clock", json!({"atEpochMs": -1})),
        ("PUT", "/control/faults", json!({"errorRate": 2.0})),
        (
            "PUT",
            "/control/faults",
            json!({"errorRate": 0.5, "errorStatus": 418}),
        ),
    ] {
        let r = control
            .request(method.parse().unwrap(), org.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{method} {path} {body}");
    }
    // Nothing was changed by the refused calls.
    assert_eq!(org.get("/api/v1/users?limit=1").await.status, 200);
    let r = control.get(org.url("/control/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn concurrency_violations_are_logged_once_a_minute() {
    let org = TestOrg::with(SimConfig {
        latency_ms: 200,
        rate_limits: RateLimitTier::Workforce,
        ..SimConfig::small()
    })
    .await;
    org.sim().clock.freeze(None);
    org.sim().limits.set_concurrency_limit(1);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let request = org
            .client
            .get(org.url("/api/v1/groups"))
            .header("Authorization", format!("SSWS {}", org.server.api_token()));
        calls.spawn(async move { read(request.send().await.unwrap()).await });
    }
    let refused = calls
        .join_all()
        .await
        .iter()
        .filter(|r| r.status == 429)
        .count();
    assert!(refused >= 2, "{refused}");
    let logged = org.sim().logs.with_events(|events| {
        events[org.history..]
            .iter()
            .filter(|e| e.event_type == "core.concurrency.org.limit.violation")
            .count()
    });
    assert_eq!(logged, 1);
}
