//! Replays real Okta traffic recorded by the Okta Python SDK (vcrpy cassettes) from a loopback
//! server: the client must request exactly the recorded URLs, wait on a 429 as Okta's headers say,
//! and map each recorded error body.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use okta_client::{Client, ErrorKind, ManualClock, Query};
use parking_lot::Mutex;
use reqwest::Method;
use serde_json::Value;
use serde_yaml::Value as Yaml;

use crate::common::config_for;

const RECORDED_ORIGIN: &str = "https://test.okta.com";

/// The shared fixtures: `$OKTA_SHARED_DIR`, the repository's sibling `shared/`, or `/work/shared`.
pub(crate) fn cassette_dir() -> PathBuf {
    let candidates = [
        std::env::var_os("OKTA_SHARED_DIR").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")),
        Some(PathBuf::from("/work/shared")),
    ];
    let shared = candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("fixtures/recorded").is_dir())
        .expect("the shared fixtures (set OKTA_SHARED_DIR)");
    shared.join("fixtures/recorded/okta-sdk-python/tests/integration/cassettes")
}

/// One recorded request and its answer.
#[derive(Clone, Debug)]
pub(crate) struct Interaction {
    method: String,
    /// Path and query as recorded.
    pub path_query: String,
    request_body: Option<String>,
    pub status: u16,
    headers: Vec<(String, String)>,
    pub body: String,
}

impl Interaction {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The interactions of a cassette (`test_x/Class.test.yaml`), in order.
pub(crate) fn cassette(name: &str) -> Vec<Interaction> {
    let path = cassette_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Yaml = serde_yaml::from_str(&text).unwrap();
    doc["interactions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|i| {
            let (req, resp) = (&i["request"], &i["response"]);
            let uri = req["uri"].as_str().unwrap();
            Interaction {
                method: req["method"].as_str().unwrap().to_string(),
                path_query: uri.strip_prefix(RECORDED_ORIGIN).unwrap().to_string(),
                request_body: req["body"].as_str().map(str::to_string),
                status: resp["status"]["code"].as_u64().unwrap() as u16,
                headers: headers(&resp["headers"]),
                body: resp["body"]["string"].as_str().unwrap_or("").to_string(),
            }
        })
        .collect()
}

/// Headers come as `Name: value` (2020 cassettes) or `Name: [values]`.
fn headers(map: &Yaml) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in map.as_mapping().into_iter().flatten() {
        let name = k.as_str().unwrap().to_string();
        match v {
            Yaml::Sequence(values) => out.extend(
                values
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(|v| (name.clone(), v.to_string())),
            ),
            Yaml::String(v) => out.push((name, v.clone())),
            _ => {}
        }
    }
    out
}

/// A request the replay server received.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub method: String,
    pub path_query: String,
    pub headers: HeaderMap,
    pub body: String,
}

/// A loopback server answering each request with the next recorded interaction of the same method
/// and path+query (the recorded host rewritten to its own), and 404 `REPLAY` for anything
/// unrecorded.
pub(crate) struct Replay {
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Replay {
    pub async fn start(interactions: Vec<Interaction>) -> Replay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let queue = Arc::new(Mutex::new(VecDeque::from(interactions)));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = {
            let (base, seen) = (base.clone(), seen.clone());
            axum::Router::new().fallback(move |req: Request<Body>| {
                let (base, queue, seen) = (base.clone(), queue.clone(), seen.clone());
                async move {
                    let (parts, body) = req.into_parts();
                    let body = axum::body::to_bytes(body, 1 << 20)
                        .await
                        .unwrap_or_default();
                    let req =
                        Request::from_parts(parts, String::from_utf8_lossy(&body).into_owned());
                    answer(req, &base, &queue, &seen)
                }
            })
        };
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Replay {
            base,
            seen,
            shutdown: Some(tx),
        }
    }

    fn client(&self) -> (Client, ManualClock) {
        let clock = ManualClock::new();
        let client = Client::new(config_for(&self.base, "myAPIToken"))
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        (client, clock)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().clone()
    }

    fn paths(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.path_query).collect()
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn answer(
    req: Request<String>,
    base: &str,
    queue: &Mutex<VecDeque<Interaction>>,
    seen: &Mutex<Vec<Seen>>,
) -> Response {
    let method = req.method().to_string();
    let path_query = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    seen.lock().push(Seen {
        method: method.clone(),
        path_query: path_query.clone(),
        headers: req.headers().clone(),
        body: req.body().clone(),
    });
    let mut queue = queue.lock();
    let Some(pos) = queue
        .iter()
        .position(|i| i.method == method && i.path_query == path_query)
    else {
        let body = format!(
            r#"{{"errorCode":"REPLAY","errorSummary":"unrecorded: {method} {path_query}"}}"#
        );
        return Response::builder()
            .status(404)
            .body(Body::from(body))
            .unwrap();
    };
    let i = queue.remove(pos).unwrap();
    let mut resp = Response::builder().status(StatusCode::from_u16(i.status).unwrap());
    for (k, v) in &i.headers {
        // The recorded body is already decoded and re-framed here.
        if [
            "content-encoding",
            "transfer-encoding",
            "content-length",
            "connection",
        ]
        .contains(&k.to_ascii_lowercase().as_str())
        {
            continue;
        }
        let v = v.replace(RECORDED_ORIGIN, base);
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            resp = resp.header(k, v);
        }
    }
    resp.body(Body::from(i.body)).unwrap()
}

pub(crate) fn interactions(cassette_name: &str, indexes: &[usize]) -> Vec<Interaction> {
    let all = cassette(cassette_name);
    indexes.iter().map(|&i| all[i].clone()).collect()
}

#[tokio::test]
async fn follows_the_recorded_next_links_exactly_one_page_at_a_time() {
    let recorded = interactions(
        "test_users_it/TestUsersResource.test_user_pagination.yaml",
        &[2, 3],
    );
    let replay = Replay::start(recorded.clone()).await;
    let (client, _) = replay.client();
    let mut users = client.paginate::<Value>("/api/v1/users", Query::new().push("limit", 1));

    let first = users.next().await.unwrap().unwrap();
    assert_eq!(first["id"], "00usfdsyqnIjEmHNm4x6");
    assert_eq!(replay.paths(), [recorded[0].path_query.as_str()]);

    let second = users.next().await.unwrap().unwrap();
    assert_eq!(second["id"], "00usfgmn9xhwtA6f74x6");
    assert_eq!(
        replay.paths(),
        [
            "/api/v1/users?limit=1",
            "/api/v1/users?after=000usfdsyqnIjEmHNm4x6&limit=1"
        ]
    );

    // The recording stops here; the client asks for exactly the last page's next link.
    let err = users.next().await.unwrap().unwrap_err();
    assert_eq!(err.error_code(), Some("REPLAY"));
    assert_eq!(
        replay.paths().last().unwrap(),
        "/api/v1/users?after=000usfgmn9xhwtA6f74x6&limit=1"
    );
    assert!(
        users.next().await.is_none(),
        "the stream ends after an error"
    );
    for seen in replay.seen() {
        assert_eq!(seen.method, "GET");
        assert_eq!(seen.headers["authorization"], "SSWS myAPIToken");
        assert_eq!(seen.headers["accept"], "application/json");
        assert!(
            seen.headers["user-agent"]
                .to_str()
                .unwrap()
                .starts_with("okta-connector/")
        );
    }
}

#[tokio::test]
async fn stops_at_a_page_without_a_next_link() {
    let recorded = interactions(
        "test_applications_it/TestApplicationsResource.test_list_applications_pagination_with_after.yaml",
        &[5],
    );
    let expected: Vec<Value> = serde_json::from_str(&recorded[0].body).unwrap();
    let replay = Replay::start(recorded).await;
    let (client, _) = replay.client();
    let apps: Vec<Value> = client
        .paginate(
            "/api/v1/apps",
            Query::new()
                .push("q", "PaginationTestAppOnly")
                .push("limit", 1),
        )
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(apps, expected);
    assert_eq!(replay.paths().len(), 1);
}

/// The recorded realm pages carry `Link`s to the org the SDK really talked to (the recording scrubbed
/// the request host, not the links): a next link on another origin is refused, never requested.
#[tokio::test]
async fn refuses_a_recorded_next_link_on_another_origin() {
    let recorded = interactions(
        "test_realms_it/TestRealmsResource.test_list_realms_pagination_edge_cases.yaml",
        &[0, 1],
    );
    let replay = Replay::start(recorded.clone()).await;
    let (client, clock) = replay.client();
    let mut pages = client.pages::<Value>("/api/v1/realms", Query::new().push("limit", 1));
    let first = pages.next().await.unwrap().unwrap();
    let next = first.next.unwrap();
    assert_eq!(
        next.host_str(),
        Some("dcp-testing-oig-2025-06-26.oktapreview.com")
    );
    let err = pages.next().await.unwrap().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.message.contains("refusing"), "{err}");
    assert!(pages.next().await.is_none());
    assert_eq!(replay.paths(), [recorded[0].path_query.clone()]);
    assert!(clock.sleeps().is_empty());
}

/// Epoch seconds of an HTTP date, computed here independently of the client.
fn epoch(date: &str) -> i64 {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(date, format)
        .unwrap()
        .assume_utc()
        .unix_timestamp()
}

#[tokio::test]
async fn each_recorded_429_waits_reset_minus_date_plus_one_and_marks_the_retry() {
    let cases = [
        (
            "test_agent_pools_it/TestAgentPoolsResource.test_list_agent_pools_with_multiple_pool_types.yaml",
            1,
        ),
        (
            "test_application_features_it/TestApplicationFeaturesResource.test_comprehensive_coverage_push.yaml",
            18,
        ),
        (
            "test_application_features_it/TestApplicationFeaturesResource.test_comprehensive_coverage_push.yaml",
            69,
        ),
    ];
    for (name, index) in cases {
        let recorded = interactions(name, &[index, index + 1]);
        let (limited, retry) = (&recorded[0], &recorded[1]);
        assert_eq!(limited.status, 429);
        assert_eq!(retry.path_query, limited.path_query, "{name}");
        let wait = limited
            .header("x-rate-limit-reset")
            .unwrap()
            .parse::<i64>()
            .unwrap()
            - epoch(limited.header("date").unwrap())
            + 1;

        let replay = Replay::start(recorded.clone()).await;
        let (client, clock) = replay.client();
        // The retry's recorded answer: 200, or 404 for the deliberately invalid app id.
        let status = match client
            .send(Method::GET, &limited.path_query, &Query::new(), None)
            .await
        {
            Ok(answer) => answer.status.as_u16(),
            Err(e) => e.status().unwrap(),
        };
        assert_eq!(status, retry.status, "{name}");
        assert_eq!(clock.sleeps(), [Duration::from_secs(wait as u64)], "{name}");

        let seen = replay.seen();
        assert_eq!(seen.len(), 2);
        assert!(seen[0].headers.get("x-okta-retry-for").is_none());
        assert_eq!(
            seen[1].headers["x-okta-retry-for"],
            limited.header("x-okta-request-id").unwrap()
        );
        assert_eq!(seen[1].headers["x-okta-retry-count"], "1");
    }
}

#[tokio::test]
async fn a_429_with_no_retries_left_is_a_rate_limited_error() {
    let recorded = interactions(
        "test_agent_pools_it/TestAgentPoolsResource.test_list_agent_pools_with_multiple_pool_types.yaml",
        &[1],
    );
    let replay = Replay::start(recorded.clone()).await;
    let mut config = config_for(&replay.base, "myAPIToken");
    config.retry.max_attempts = 1;
    let client = Client::new(config).unwrap();
    let err = client
        .send(Method::GET, &recorded[0].path_query, &Query::new(), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.status(), Some(429));
    assert_eq!(err.error_code(), Some("E0000047"));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn maps_each_recorded_error_code() {
    // One interaction per E-code in the recordings (429s are above).
    let cases = [
        (
            "test_agent_pools_it/TestAgentPoolsResource.test_agent_pools_error_handling.yaml",
            8,
        ),
        (
            "test_application_features_it/TestApplicationFeaturesResource.test_application_features_lifecycle.yaml",
            3,
        ),
        (
            "test_sessions_it/TestSessionsResource.test_create_session_invalid_token.yaml",
            4,
        ),
        (
            "test_agent_pools_it/TestAgentPoolsResource.test_agent_pools_error_handling.yaml",
            5,
        ),
        (
            "test_application_sso_federated_claims_it/TestApplicationSSOFederatedClaimsResource.test_federated_claim_lifecycle.yaml",
            1,
        ),
        (
            "test_application_sso_it/TestApplicationSSOResource.test_preview_saml_metadata.yaml",
            3,
        ),
        (
            "test_realms_it/TestRealmsResource.test_update_realm_basic.yaml",
            1,
        ),
        (
            "test_applications_it/TestApplicationsResource.test_list_applications_pagination_with_after.yaml",
            6,
        ),
        (
            "test_device_it/TestDeviceResource.test_list_devices_with_search_and_pagination.yaml",
            3,
        ),
        ("test_users_it/TestUsersResource.test_unlock_user.yaml", 1),
        (
            "test_users_it/TestUsersResource.test_reactivate_user.yaml",
            1,
        ),
        (
            "test_application_features_it/TestApplicationFeaturesResource.test_error_handling_app_without_provisioning.yaml",
            2,
        ),
        (
            "test_captcha_it/TestCaptchaResource.test_captcha_lifecycle.yaml",
            4,
        ),
        (
            "test_authenticator_it/TestAuthenticatorResource.test_authenticator_lifecycle.yaml",
            13,
        ),
    ];
    let mut codes = Vec::new();
    for (name, index) in cases {
        let recorded = interactions(name, &[index]);
        let i = &recorded[0];
        let body: Value = serde_json::from_str(&i.body).unwrap();
        let replay = Replay::start(recorded.clone()).await;
        let (client, clock) = replay.client();
        let request_body: Option<Value> = i
            .request_body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok());
        let method = Method::from_bytes(i.method.as_bytes()).unwrap();
        let err = client
            .send(method, &i.path_query, &Query::new(), request_body.as_ref())
            .await
            .unwrap_err();
        assert_eq!(replay.paths(), [i.path_query.as_str()], "{name}");
        assert_eq!(err.kind, ErrorKind::Api, "{name}");
        assert_eq!(err.status(), Some(i.status), "{name}");
        assert_eq!(err.error_code(), body["errorCode"].as_str(), "{name}");
        assert_eq!(err.error_summary(), body["errorSummary"].as_str(), "{name}");
        let causes: Vec<&str> = body["errorCauses"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["errorSummary"].as_str())
            .collect();
        assert_eq!(err.error_causes(), causes, "{name}");
        assert_eq!(err.request_id(), i.header("x-okta-request-id"), "{name}");
        assert!(!err.is_retryable(), "{name}");
        assert!(clock.sleeps().is_empty(), "{name}: a 4xx is not retried");
        let shown = err.to_string();
        assert!(
            shown.contains(body["errorCode"].as_str().unwrap()),
            "{shown}"
        );
        assert!(!shown.contains("myAPIToken") && !format!("{err:?}").contains("myAPIToken"));
        codes.push(err.error_code().unwrap().to_string());
    }
    codes.dedup();
    assert_eq!(codes.len(), cases.len());
}
