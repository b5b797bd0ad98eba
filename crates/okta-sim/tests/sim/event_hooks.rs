//! Event Hooks (FACTS.md §6): the `/api/v1/eventHooks` API with Okta's shapes, limits and errors;
//! the one-time verification and deliveries against a small receiver on loopback; retries,
//! timeouts, duplicates and drops; OAuth scopes.
//!
//! Nothing here waits on a clock: `/control/event-hooks/flush` answers once every queued delivery
//! is done, and the receiver "times out" by never answering (the simulator's timeout is lowered).

use std::collections::VecDeque;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use okta_sim::SimConfig;
use okta_sim::config::HookDelivery;
use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::fidelity::openapi;
use crate::jose::{Key, random};
use crate::support::{Resp, TestOrg, read};

const SECRET: &str = "Bearer hook-shared-secret-123";

// ------------------------------------------------------------------------------------------
// A hook endpoint on loopback
// ------------------------------------------------------------------------------------------

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
enum Reply {
    Status(u16),
    /// Never answers: the simulator's timeout ends the call.
    Hang,
    /// 200 with a `verification` that is not the challenge.
    WrongEcho,
}

/// A request the receiver got.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    headers: HeaderMap,
    body: Value,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn events(&self) -> &Vec<Value> {
        self.body["data"]["events"].as_array().expect("data.events")
    }
}

#[derive(Default)]
struct Script {
    seen: Mutex<Vec<Seen>>,
    replies: Mutex<VecDeque<Reply>>,
}

/// Answers as a correct hook does unless told otherwise: a GET with the challenge echoed, a POST
/// with 200 and no body. Every answer closes its connection.
struct Receiver {
    url: String,
    script: Arc<Script>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let script = Arc::new(Script::default());
        let app = axum::Router::new()
            .route("/hook", any(receive))
            .with_state(script.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://{addr}/hook"),
            script,
            task,
        }
    }

    /// The next requests get these answers, in order.
    fn reply(&self, replies: &[Reply]) {
        self.script.replies.lock().extend(replies.iter().copied());
    }

    fn seen(&self) -> Vec<Seen> {
        self.script.seen.lock().clone()
    }

    fn posts(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == Method::POST)
            .collect()
    }

    async fn stop(&mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(script): State<Arc<Script>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let challenge = headers
        .get("x-okta-verification-challenge")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    script.seen.lock().push(Seen {
        method: method.clone(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let reply = script.replies.lock().pop_front();
    let mut resp = match reply {
        Some(Reply::Hang) => std::future::pending::<Response>().await,
        Some(Reply::Status(s)) => StatusCode::from_u16(s).unwrap().into_response(),
        Some(Reply::WrongEcho) => axum::Json(json!({"verification": "not-it"})).into_response(),
        None if method == Method::GET => {
            axum::Json(json!({"verification": challenge})).into_response()
        }
        None => StatusCode::OK.into_response(),
    };
    // No keep-alive: once the receiver stops, nothing of it is left to answer.
    resp.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    resp
}

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

fn config(delivery: HookDelivery) -> SimConfig {
    SimConfig {
        users: 5,
        groups: 2,
        apps: 1,
        log_events: 20,
        event_hooks: delivery,
        ..SimConfig::small()
    }
}

/// Batches wait (practically) forever for more events, so only a full batch or a flush sends
/// one: batch boundaries do not depend on timing.
fn patient() -> HookDelivery {
    HookDelivery {
        linger_ms: 600_000,
        ..HookDelivery::default()
    }
}

fn hook_body(name: &str, uri: &str, types: &[&str]) -> Value {
    json!({
        "name": name,
        "events": {"type": "EVENT_TYPE", "items": types},
        "channel": {"type": "HTTP", "version": "1.0.0", "config": {
            "uri": uri,
            "headers": [{"key": "X-Other-Header", "value": "my-header-value"}],
            "authScheme": {"type": "HEADER", "key": "Authorization", "value": SECRET},
        }},
    })
}

fn check_spec(method: &str, path: &str, r: &Resp) {
    if let Err(errors) = openapi::management().validate_response(method, path, r.status, &r.body) {
        panic!("{method} {path} -> {}: {errors:#?}\n{}", r.status, r.text);
    }
}

async fn create(org: &TestOrg, body: Value) -> Resp {
    let r = org.post("/api/v1/eventHooks", body).await;
    if r.status == 200 {
        check_spec("POST", "/api/v1/eventHooks", &r);
    }
    r
}

fn id_of(r: &Resp) -> String {
    r.body["id"].as_str().expect("an id").to_string()
}

async fn lifecycle(org: &TestOrg, id: &str, op: &str) -> Resp {
    let path = format!("/api/v1/eventHooks/{id}/lifecycle/{op}");
    let r = org.post(&path, Value::Null).await;
    if r.status == 200 {
        check_spec("POST", &path, &r);
    }
    r
}

/// A hook on `types`, created and verified against `rx`.
async fn verified_hook(org: &TestOrg, rx: &Receiver, types: &[&str]) -> String {
    let r = create(org, hook_body("Hook", &rx.url, types)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = id_of(&r);
    let v = lifecycle(org, &id, "verify").await;
    assert_eq!(v.status, 200, "{}", v.text);
    assert_eq!(v.body["verificationStatus"], "VERIFIED");
    id
}

async fn flush(org: &TestOrg) {
    let r = org.post("/control/event-hooks/flush", json!({})).await;
    assert_eq!(r.status, 200, "deliveries still pending: {}", r.text);
}

async fn stats(org: &TestOrg, id: &str) -> Value {
    let r = org.get("/control/event-hooks/deliveries").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["hooks"][id].clone()
}

/// Writes `count` System Log events of `event_type` now; returns their uuids in order.
async fn write_events(org: &TestOrg, count: usize, event_type: &str) -> Vec<String> {
    let r = org
        .post(
            "/control/logs/late",
            json!({"count": count, "publishedAgoMs": 0, "eventType": event_type}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["inserted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_string())
        .collect()
}

fn uuids(posts: &[Seen]) -> Vec<String> {
    posts
        .iter()
        .flat_map(|p| p.events().iter())
        .map(|e| e["uuid"].as_str().unwrap().to_string())
        .collect()
}

/// The System Log events of `event_type` the test's requests wrote, as Okta's JSON.
fn logged(org: &TestOrg, event_type: &str) -> Vec<Value> {
    let written = org.sim().logs.len() - org.history;
    org.sim()
        .logs
        .recent(written)
        .into_iter()
        .filter(|e| e["eventType"] == event_type)
        .collect()
}

// ------------------------------------------------------------------------------------------
// The management API
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_read_list_replace_and_delete_have_okta_s_shapes() {
    let org = TestOrg::with(config(HookDelivery::default())).await;
    let types = ["user.lifecycle.create", "user.lifecycle.activate"];
    let r = create(
        &org,
        hook_body("Event Hook Test", "https://example.com/hook", &types),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = id_of(&r);
    assert!(id.starts_with("who") && id.len() == 20, "{id}");
    let h = &r.body;
    assert_eq!(h["status"], "ACTIVE");
    assert_eq!(h["verificationStatus"], "UNVERIFIED");
    assert_eq!(h["name"], "Event Hook Test");
    assert_eq!(h["createdBy"], org.sim().org.read().admin_id.as_str());
    assert_eq!(h["created"], h["lastUpdated"]);
    assert_eq!(
        h["events"],
        json!({"type": "EVENT_TYPE", "items": types, "filter": null})
    );
    let config = &h["channel"]["config"];
    assert_eq!(config["method"], "POST");
    assert_eq!(config["uri"], "https://example.com/hook");
    assert_eq!(
        config["headers"],
        json!([{"key": "X-Other-Header", "value": "my-header-value"}])
    );
    // The secret is write-only.
    assert_eq!(
        config["authScheme"],
        json!({"type": "HEADER", "key": "Authorization"})
    );
    assert!(!r.text.contains(SECRET));
    let links: Vec<&String> = h["_links"].as_object().unwrap().keys().collect();
    assert_eq!(links, ["self", "verify", "deactivate"]);
    let href = format!("{}/api/v1/eventHooks/{id}", org.server.base_url());
    assert_eq!(h["_links"]["self"]["href"], href.as_str());
    assert_eq!(h["_links"]["verify"]["hints"]["allow"], json!(["POST"]));

    let path = format!("/api/v1/eventHooks/{id}");
    let got = org.get(&path).await;
    assert_eq!(got.status, 200);
    check_spec("GET", &path, &got);
    assert_eq!(got.body, r.body);

    let second = create(&org, hook_body("Second", "https://example.com/2", &types)).await;
    let list = org.get("/api/v1/eventHooks").await;
    assert_eq!(list.status, 200);
    check_spec("GET", "/api/v1/eventHooks", &list);
    assert!(list.header("link").is_none());
    let ids: Vec<&str> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str(), second.body["id"].as_str().unwrap()]);
    assert!(!list.text.contains(SECRET));

    // PUT replaces what may change.
    let mut body = hook_body(
        "Renamed",
        "https://example.com/hook",
        &["group.user_membership.add"],
    );
    body["description"] = json!("members");
    org.sim()
        .clock
        .freeze(Some(org.sim().clock.now_ms() + 5_000));
    let put = org.put(&path, body).await;
    assert_eq!(put.status, 200, "{}", put.text);
    check_spec("PUT", &path, &put);
    assert_eq!(put.body["name"], "Renamed");
    assert_eq!(put.body["description"], "members");
    assert_eq!(
        put.body["events"]["items"],
        json!(["group.user_membership.add"])
    );
    assert_eq!(put.body["created"], h["created"]);
    assert_ne!(put.body["lastUpdated"], h["lastUpdated"]);

    // Only an INACTIVE hook may be deleted.
    let refused = org.delete(&path).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (403, Some("E0000006"))
    );
    let off = lifecycle(&org, &id, "deactivate").await;
    assert_eq!(off.status, 200);
    assert_eq!(off.body["status"], "INACTIVE");
    let links: Vec<&String> = off.body["_links"].as_object().unwrap().keys().collect();
    assert_eq!(links, ["activate", "self", "delete"]);
    assert_eq!(
        off.body["_links"]["delete"]["hints"]["allow"],
        json!(["DELETE"])
    );
    let on = lifecycle(&org, &id, "activate").await;
    assert_eq!(on.body["status"], "ACTIVE");
    lifecycle(&org, &id, "deactivate").await;
    let deleted = org.delete(&path).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert!(deleted.text.is_empty());

    // Gone: Okta's 404, with the recorded kind word.
    let gone = org.get(&path).await;
    assert_eq!((gone.status, gone.error_code()), (404, Some("E0000007")));
    assert_eq!(
        gone.body["errorSummary"],
        format!("Not found: Resource not found: {id} (Webhook)")
    );
    for op in ["activate", "deactivate", "verify"] {
        assert_eq!(lifecycle(&org, &id, op).await.status, 404, "{op}");
    }
    assert_eq!(org.delete(&path).await.status, 404);
    let put = org
        .put(&path, hook_body("x", "https://example.com", &types))
        .await;
    assert_eq!(put.status, 404);

    // Every change is in the System Log, with the hook as its target.
    for t in [
        "event_hook.created",
        "event_hook.updated",
        "event_hook.deactivated",
        "event_hook.activated",
        "event_hook.deleted",
    ] {
        let events = logged(&org, t);
        assert!(!events.is_empty(), "no {t}");
        assert!(
            events
                .iter()
                .any(|e| e["target"][0]["id"] == id.as_str()
                    && e["target"][0]["type"] == "EventHook"),
            "{t}: {events:?}"
        );
    }
    assert_eq!(logged(&org, "event_hook.deactivated").len(), 2);
    // No event, System Log included, carries the secret.
    let all = org.sim().logs.recent(org.sim().logs.len() - org.history);
    assert!(!json!(all).to_string().contains(SECRET));
}

#[tokio::test]
async fn validation_refuses_what_okta_refuses() {
    let org = TestOrg::with(config(HookDelivery::default())).await;
    let ok_types = ["user.lifecycle.create"];
    let base = hook_body("Hook", "https://example.com/hook", &ok_types);
    let refused = |r: &Resp, field: &str| {
        assert_eq!(
            (r.status, r.error_code()),
            (400, Some("E0000001")),
            "{}",
            r.text
        );
        assert_eq!(
            r.body["errorSummary"],
            format!("Api validation failed: {field}"),
            "{}",
            r.text
        );
        assert_eq!(r.body["errorCauses"].as_array().unwrap().len(), 1);
    };

    // Only event-hook-eligible types.
    for t in ["event_hook.created", "user.lifecycle", "nope"] {
        let mut b = base.clone();
        b["events"]["items"] = json!([t]);
        refused(&create(&org, b).await, "events");
    }
    // At most 300 types.
    let eligible: Vec<&str> = include_str!("../../src/event_hooks/eligible-event-types.txt")
        .lines()
        .collect();
    assert_eq!(eligible.len(), 314);
    let mut b = base.clone();
    b["events"]["items"] = json!(eligible[..301]);
    refused(&create(&org, b.clone()).await, "events");
    b["events"]["items"] = json!(eligible[..300]);
    assert_eq!(create(&org, b).await.status, 200);

    let cases: Vec<(&str, Value, &str)> = vec![
        ("/name", json!(""), "name"),
        ("/events/items", json!([]), "events"),
        ("/events/type", json!("FILTER"), "events"),
        (
            "/events/filter",
            json!({"type": "EXPRESSION_LANGUAGE", "eventFilterMap": []}),
            "events",
        ),
        ("/channel/type", json!("GRPC"), "channel"),
        ("/channel/version", json!("2.0.0"), "channel"),
        (
            "/channel/config/uri",
            json!("http://example.com/hook"),
            "channel",
        ),
        ("/channel/config/uri", json!("not a uri"), "channel"),
        ("/channel/config/authScheme/type", json!("BASIC"), "channel"),
        ("/channel/config/authScheme/key", json!(""), "channel"),
        (
            "/channel/config/headers",
            json!([{"key": "bad header", "value": "x"}]),
            "channel",
        ),
    ];
    for (pointer, value, field) in cases {
        let mut b = base.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        b.pointer_mut(parent).unwrap()[key] = value;
        let r = create(&org, b).await;
        refused(&r, field);
        assert!(!r.text.contains(SECRET));
    }
    let mut b = base.clone();
    b.as_object_mut().unwrap().remove("channel");
    refused(&create(&org, b).await, "channel");

    // Not JSON at all.
    let r = org
        .client
        .post(org.url("/api/v1/eventHooks"))
        .header("Authorization", format!("SSWS {}", org.server.api_token()))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(read(r).await.error_code(), Some("E0000003"));

    // A PUT is validated the same way; nothing changes.
    let id = id_of(&create(&org, base.clone()).await);
    let mut b = base.clone();
    b["events"]["items"] = json!(["event_hook.deleted"]);
    refused(
        &org.put(&format!("/api/v1/eventHooks/{id}"), b).await,
        "events",
    );
    let h = org.get(&format!("/api/v1/eventHooks/{id}")).await;
    assert_eq!(h.body["events"]["items"], json!(ok_types));
    // The plain-HTTP allowance is for loopback only.
    let mut b = base.clone();
    b["channel"]["config"]["uri"] = json!("http://localhost:9/hook");
    assert_eq!(create(&org, b).await.status, 200);
}

#[tokio::test]
async fn oauth_tokens_need_the_event_hooks_scopes() {
    let org = TestOrg::with(config(HookDelivery::default())).await;
    let key = Key::ec();
    let app = json!({"clientId": "svc-hooks", "type": "service",
                     "jwks": {"keys": [key.public_jwk()]},
                     "grantedScopes": ["okta.eventHooks.read", "okta.eventHooks.manage"]});
    assert_eq!(org.post("/control/oauth/apps", app).await.status, 200);
    let token = |scope: &'static str| {
        let org = &org;
        let key = &key;
        async move {
            let now = org.sim().clock.now_ms() / 1000;
            let claims = json!({"iss": "svc-hooks", "sub": "svc-hooks",
                                "aud": org.url("/oauth2/v1/token"),
                                "iat": now, "exp": now + 300, "jti": random()});
            let assertion = key.sign(json!({"alg": key.alg(), "typ": "JWT"}), claims);
            let form = form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("grant_type", "client_credentials"),
                    ("scope", scope),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", assertion.as_str()),
                ])
                .finish();
            let r = org
                .client
                .post(org.url("/oauth2/v1/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await
                .unwrap();
            let r = read(r).await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.body["access_token"].as_str().unwrap().to_string()
        }
    };
    let call = |method: Method, token: String, body: Option<Value>| {
        let org = &org;
        async move {
            let mut req = org
                .client
                .request(method, org.url("/api/v1/eventHooks"))
                .header("Authorization", format!("Bearer {token}"));
            if let Some(b) = body {
                req = req.json(&b);
            }
            read(req.send().await.unwrap()).await
        }
    };
    let body = hook_body(
        "Hook",
        "https://example.com/hook",
        &["user.lifecycle.create"],
    );

    let read_only = token("okta.eventHooks.read").await;
    assert_eq!(call(Method::GET, read_only.clone(), None).await.status, 200);
    let refused = call(Method::POST, read_only, Some(body.clone())).await;
    assert_eq!(refused.status, 403);
    assert!(refused.text.is_empty());
    let challenge = refused.header("www-authenticate").unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains("scope=\"okta.eventHooks.manage\""),
        "{challenge}"
    );

    let manage = token("okta.eventHooks.manage").await;
    let created = call(Method::POST, manage.clone(), Some(body)).await;
    assert_eq!(created.status, 200, "{}", created.text);
    // manage implies read.
    assert_eq!(call(Method::GET, manage, None).await.status, 200);
    // The app is the actor: `createdBy` is its id.
    assert_eq!(created.body["createdBy"], "svc-hooks");
}

// ------------------------------------------------------------------------------------------
// Verification
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn verification_calls_the_hook_and_needs_the_challenge_back() {
    let org = TestOrg::with(config(HookDelivery::default())).await;
    let rx = Receiver::start().await;
    let r = create(&org, hook_body("Hook", &rx.url, &["user.lifecycle.create"])).await;
    let id = id_of(&r);
    let v = lifecycle(&org, &id, "verify").await;
    assert_eq!(v.status, 200, "{}", v.text);
    assert_eq!(v.body["verificationStatus"], "VERIFIED");
    assert_eq!(v.body["status"], "ACTIVE");

    let seen = rx.seen();
    assert_eq!(seen.len(), 1);
    let get = &seen[0];
    assert_eq!(get.method, Method::GET);
    let challenge = get.header("x-okta-verification-challenge").unwrap();
    assert!(challenge.len() >= 32, "{challenge}");
    assert_eq!(get.header("authorization"), Some(SECRET));
    assert_eq!(get.header("x-other-header"), Some("my-header-value"));
    assert_eq!(get.header("accept"), Some("application/json"));
    let ok = logged(&org, "event_hook.verified");
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0]["outcome"]["result"], "SUCCESS");

    // Echoing the hook back (it has no secret) keeps the channel, so it stays verified...
    let path = format!("/api/v1/eventHooks/{id}");
    let mut same = v.body.clone();
    same["name"] = json!("Renamed");
    let put = org.put(&path, same).await;
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(put.body["verificationStatus"], "VERIFIED");
    // ...and the stored secret is still sent.
    assert_eq!(lifecycle(&org, &id, "verify").await.status, 200);
    assert_eq!(rx.seen()[1].header("authorization"), Some(SECRET));

    // A changed channel needs verifying again.
    let mut moved = put.body.clone();
    moved["channel"]["config"]["uri"] = json!(format!("{}?v=2", rx.url));
    let put = org.put(&path, moved).await;
    assert_eq!(put.body["verificationStatus"], "UNVERIFIED");
}

#[tokio::test]
async fn failed_verification_is_okta_s_400_and_the_hook_stays_unverified() {
    let org = TestOrg::with(config(HookDelivery {
        timeout_ms: 300,
        ..HookDelivery::default()
    }))
    .await;
    let rx = Receiver::start().await;
    let id = id_of(
        &create(
            &org,
            hook_body("My Hook", &rx.url, &["user.lifecycle.create"]),
        )
        .await,
    );
    let path = format!("/api/v1/eventHooks/{id}");

    // A wrong echo, a 4xx twice, a 5xx twice, a timeout twice: each refused after one retry
    // (a wrong echo is an answer, not an error: no retry).
    let cases: [(&[Reply], usize); 4] = [
        (&[Reply::WrongEcho], 1),
        (&[Reply::Status(401), Reply::Status(401)], 2),
        (&[Reply::Status(500), Reply::Status(503)], 2),
        (&[Reply::Hang, Reply::Hang], 2),
    ];
    for (replies, calls) in cases {
        let before = rx.seen().len();
        rx.reply(replies);
        let r = lifecycle(&org, &id, "verify").await;
        assert_eq!(
            (r.status, r.error_code()),
            (400, Some("E0000001")),
            "{}",
            r.text
        );
        assert_eq!(r.body["errorSummary"], "Api validation failed: eventHook");
        assert_eq!(
            r.body["errorCauses"][0]["errorSummary"],
            "Unable to verify event hook. Hook My Hook execution failed"
        );
        assert_eq!(rx.seen().len() - before, calls, "{replies:?}");
        assert_eq!(
            org.get(&path).await.body["verificationStatus"],
            "UNVERIFIED"
        );
    }
    let failures = logged(&org, "event_hook.verified");
    assert_eq!(failures.len(), 4);
    assert!(failures.iter().all(|e| e["outcome"]["result"] == "FAILURE"));
    assert_eq!(failures[3]["outcome"]["reason"], "timeout");

    // One error, then the right answer: the retry verifies it.
    rx.reply(&[Reply::Status(502)]);
    let r = lifecycle(&org, &id, "verify").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["verificationStatus"], "VERIFIED");
}

#[tokio::test]
async fn at_most_25_hooks_are_active_and_verified() {
    let org = TestOrg::with(config(HookDelivery::default())).await;
    let rx = Receiver::start().await;
    let mut ids = Vec::new();
    for _ in 0..25 {
        ids.push(verified_hook(&org, &rx, &["user.lifecycle.create"]).await);
    }
    let extra = id_of(&create(&org, hook_body("26th", &rx.url, &["user.lifecycle.create"])).await);
    let r = lifecycle(&org, &extra, "verify").await;
    assert_eq!(
        (r.status, r.error_code()),
        (400, Some("E0000001")),
        "{}",
        r.text
    );
    assert!(
        r.body["errorCauses"][0]["errorSummary"]
            .as_str()
            .unwrap()
            .contains("25"),
        "{}",
        r.text
    );
    // Room again once one is deactivated; and reactivating that one is then refused.
    lifecycle(&org, &ids[0], "deactivate").await;
    assert_eq!(lifecycle(&org, &extra, "verify").await.status, 200);
    let r = lifecycle(&org, &ids[0], "activate").await;
    assert_eq!(
        (r.status, r.error_code()),
        (400, Some("E0000001")),
        "{}",
        r.text
    );
    // An unverified hook may still be activated: it receives nothing.
    let unverified =
        id_of(&create(&org, hook_body("x", &rx.url, &["user.lifecycle.create"])).await);
    lifecycle(&org, &unverified, "deactivate").await;
    assert_eq!(lifecycle(&org, &unverified, "activate").await.status, 200);
}

// ------------------------------------------------------------------------------------------
// Delivery
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn deliveries_carry_okta_s_envelope_headers_and_the_logged_events() {
    let org = TestOrg::with(config(HookDelivery::default())).await;
    let rx = Receiver::start().await;
    let id = verified_hook(&org, &rx, &["group.user_membership.add"]).await;

    // A real change: a user joins a group (subscribed); creating a group is not subscribed.
    let user = org.sim().org.read().users.keys().last().unwrap().clone();
    let group = org
        .post("/api/v1/groups", json!({"profile": {"name": "Hooked"}}))
        .await;
    let group = id_of(&group);
    let r = org
        .put(&format!("/api/v1/groups/{group}/users/{user}"), Value::Null)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    flush(&org).await;

    let posts = rx.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let p = &posts[0];
    assert_eq!(p.header("content-type"), Some("application/json"));
    assert_eq!(p.header("accept"), Some("application/json"));
    assert_eq!(p.header("authorization"), Some(SECRET));
    assert_eq!(p.header("x-other-header"), Some("my-header-value"));
    let b = &p.body;
    assert_eq!(b["eventType"], "com.okta.event_hook");
    assert_eq!(b["eventTypeVersion"], "1.0");
    assert_eq!(b["cloudEventsVersion"], "0.1");
    assert_eq!(b["contentType"], "application/json");
    assert_eq!(
        b["source"],
        format!("{}/api/v1/eventHooks/{id}", org.server.base_url())
    );
    let event_id = b["eventId"].as_str().unwrap();
    assert_eq!(event_id.len(), 36);
    assert_eq!(&event_id[14..15], "4");
    assert!(b["eventTime"].as_str().unwrap().ends_with('Z'));
    let keys: Vec<&String> = b.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "eventType",
            "eventTypeVersion",
            "cloudEventsVersion",
            "source",
            "eventId",
            "eventTime",
            "contentType",
            "data"
        ]
    );

    // The event is exactly what /api/v1/logs serves.
    let events = p.events();
    assert_eq!(events.len(), 1);
    let uuid = events[0]["uuid"].as_str().unwrap();
    let q = format!("/api/v1/logs?filter=uuid%20eq%20%22{uuid}%22");
    let logs = org.get(&q).await;
    assert_eq!(logs.status, 200, "{}", logs.text);
    assert_eq!(logs.body, json!([events[0].clone()]));
    assert_eq!(events[0]["eventType"], "group.user_membership.add");

    let s = stats(&org, &id).await;
    assert_eq!(
        (s["batchesSent"].as_u64(), s["eventsSent"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(s["lastStatus"], 200);
    assert_eq!(s["pending"], 0);
}

#[tokio::test]
async fn events_go_in_order_in_batches_of_at_most_max_batch() {
    let org = TestOrg::with(config(patient())).await;
    let rx = Receiver::start().await;
    let id = verified_hook(&org, &rx, &["user.session.start"]).await;
    let written = write_events(&org, 120, "user.session.start").await;
    flush(&org).await;
    let posts = rx.posts();
    let sizes: Vec<usize> = posts.iter().map(|p| p.events().len()).collect();
    assert_eq!(sizes, [50, 50, 20]);
    assert_eq!(uuids(&posts), written);
    // Each batch is its own delivery.
    let ids: std::collections::HashSet<&str> = posts
        .iter()
        .map(|p| p.body["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    let s = stats(&org, &id).await;
    assert_eq!(
        (s["batchesSent"].as_u64(), s["eventsSent"].as_u64()),
        (Some(3), Some(120))
    );

    // The batch size can be changed at run time.
    let r = org
        .put("/control/event-hooks/settings", json!({"maxBatch": 7}))
        .await;
    assert_eq!(
        r.body,
        json!({"timeoutMs": 3000, "maxBatch": 7, "lingerMs": 600_000})
    );
    let more = write_events(&org, 15, "user.session.start").await;
    flush(&org).await;
    let posts = rx.posts();
    let sizes: Vec<usize> = posts[3..].iter().map(|p| p.events().len()).collect();
    assert_eq!(sizes, [7, 7, 1]);
    assert_eq!(uuids(&posts[3..]), more);
}

#[tokio::test]
async fn a_5xx_is_retried_once_and_a_lost_delivery_is_logged() {
    let org = TestOrg::with(config(patient())).await;
    let rx = Receiver::start().await;
    let id = verified_hook(&org, &rx, &["user.session.start"]).await;

    rx.reply(&[Reply::Status(500)]);
    let first = write_events(&org, 3, "user.session.start").await;
    flush(&org).await;
    let posts = rx.posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(
        posts[0].body, posts[1].body,
        "the retry resends the same delivery"
    );
    assert_eq!(uuids(&posts[1..]), first);
    let s = stats(&org, &id).await;
    assert_eq!(
        (s["retries"].as_u64(), s["failures"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(logged(&org, "event_hook.delivery").is_empty());

    rx.reply(&[Reply::Status(503), Reply::Status(500)]);
    write_events(&org, 2, "user.session.start").await;
    flush(&org).await;
    assert_eq!(rx.posts().len(), 4, "one retry, no more");
    let s = stats(&org, &id).await;
    assert_eq!(
        (s["retries"].as_u64(), s["failures"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(s["lastStatus"], 500);
    let lost = logged(&org, "event_hook.delivery");
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0]["outcome"]["result"], "FAILURE");
    assert_eq!(lost[0]["outcome"]["reason"], "HTTP 500");
    assert_eq!(lost[0]["target"][0]["id"], id.as_str());
    assert_eq!(lost[0]["actor"]["type"], "SystemPrincipal");
}

#[tokio::test]
async fn a_4xx_is_not_retried() {
    let org = TestOrg::with(config(patient())).await;
    let rx = Receiver::start().await;
    let id = verified_hook(&org, &rx, &["user.session.start"]).await;
    rx.reply(&[Reply::Status(400)]);
    write_events(&org, 1, "user.session.start").await;
    flush(&org).await;
    assert_eq!(rx.posts().len(), 1);
    let s = stats(&org, &id).await;
    assert_eq!(
        (s["retries"].as_u64(), s["failures"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(
        logged(&org, "event_hook.delivery")[0]["outcome"]["reason"],
        "HTTP 400"
    );
}

#[tokio::test]
async fn a_timeout_is_retried_once() {
    let org = TestOrg::with(config(HookDelivery {
        timeout_ms: 300,
        ..patient()
    }))
    .await;
    let rx = Receiver::start().await;
    let id = verified_hook(&org, &rx, &["user.session.start"]).await;

    rx.reply(&[Reply::Hang]);
    let written = write_events(&org, 2, "user.session.start").await;
    flush(&org).await;
    let posts = rx.posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].body["eventId"], posts[1].body["eventId"]);
    assert_eq!(uuids(&posts[1..]), written);
    let s = stats(&org, &id).await;
    assert_eq!(
        (s["retries"].as_u64(), s["batchesSent"].as_u64()),
        (Some(1), Some(1))
    );

    rx.reply(&[Reply::Hang, Reply::Hang]);
    write_events(&org, 1, "user.session.start").await;
    flush(&org).await;
    assert_eq!(rx.posts().len(), 4);
    assert_eq!(
        logged(&org, "event_hook.delivery")[0]["outcome"]["reason"],
        "timeout"
    );
    assert_eq!(stats(&org, &id).await["lastError"], "timeout");
}

#[tokio::test]
async fn an_unreachable_hook_is_retried_once_then_logged() {
    let org = TestOrg::with(config(patient())).await;
    let mut rx = Receiver::start().await;
    let id = verified_hook(&org, &rx, &["user.session.start"]).await;
    // Its listener closes (it answers `Connection: close`, so no pooled connection survives).
    rx.stop().await;
    write_events(&org, 1, "user.session.start").await;
    flush(&org).await;
    let s = stats(&org, &id).await;
    assert_eq!(
        (s["retries"].as_u64(), s["failures"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );
    let reason = logged(&org, "event_hook.delivery")[0]["outcome"]["reason"].clone();
    assert!(
        reason.as_str().unwrap().starts_with("connection failed"),
        "{reason}"
    );
}

#[tokio::test]
async fn duplicates_and_drops_on_request_of_the_control_api() {
    let org = TestOrg::with(config(patient())).await;
    let rx = Receiver::start().await;
    let id = verified_hook(&org, &rx, &["user.session.start"]).await;

    let r = org
        .post("/control/event-hooks/duplicate", json!({"count": 1}))
        .await;
    assert_eq!(r.body["duplicatesRequested"], 1);
    let written = write_events(&org, 4, "user.session.start").await;
    flush(&org).await;
    let posts = rx.posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].body, posts[1].body, "same body, same eventId");
    assert_eq!(uuids(&posts[..1]), written);
    let s = stats(&org, &id).await;
    assert_eq!(s["duplicatesSent"], 1);
    assert_eq!(s["batchesSent"], 2);

    let r = org
        .post("/control/event-hooks/drop", json!({"count": 1}))
        .await;
    assert_eq!(r.body["dropsRequested"], 1);
    write_events(&org, 3, "user.session.start").await;
    flush(&org).await;
    assert_eq!(rx.posts().len(), 2, "the dropped batch never arrives");
    let after = write_events(&org, 2, "user.session.start").await;
    flush(&org).await;
    let posts = rx.posts();
    assert_eq!(posts.len(), 3);
    assert_eq!(uuids(&posts[2..]), after);
    let s = stats(&org, &id).await;
    assert_eq!(
        (s["batchesDropped"].as_u64(), s["eventsDropped"].as_u64()),
        (Some(1), Some(3))
    );
    // A drop is silent, as a lost delivery is.
    assert!(logged(&org, "event_hook.delivery").is_empty());

    let bad = org
        .post("/control/event-hooks/duplicate", json!({"count": -1}))
        .await;
    assert!(bad.status >= 400);
}

#[tokio::test]
async fn inactive_unverified_and_unsubscribed_hooks_receive_nothing() {
    let org = TestOrg::with(config(patient())).await;
    let rx = Receiver::start().await;
    // Active but never verified.
    let unverified = id_of(
        &create(
            &org,
            hook_body("unverified", &rx.url, &["user.session.start"]),
        )
        .await,
    );
    // Verified, then deactivated.
    let inactive = verified_hook(&org, &rx, &["user.session.start"]).await;
    lifecycle(&org, &inactive, "deactivate").await;
    // Verified and active, on another type.
    let other = verified_hook(&org, &rx, &["user.lifecycle.create"]).await;
    let gets = rx.seen().len();

    write_events(&org, 5, "user.session.start").await;
    flush(&org).await;
    assert_eq!(rx.seen().len(), gets, "{:?}", rx.posts());

    // Deleting or deactivating stops deliveries; reactivating resumes them.
    lifecycle(&org, &inactive, "activate").await;
    let after = write_events(&org, 2, "user.session.start").await;
    flush(&org).await;
    assert_eq!(uuids(&rx.posts()), after);
    let r = org.get("/control/event-hooks/deliveries").await;
    assert_eq!(r.body["pending"], 0);
    assert!(r.body["hooks"].get(&unverified).is_none());
    assert_eq!(r.body["hooks"][&other]["eventsSent"], 0);
}

#[tokio::test]
async fn ten_thousand_events_are_all_delivered_in_order() {
    let org = TestOrg::with(config(HookDelivery::default())).await;
    let rx = Receiver::start().await;
    let id = verified_hook(&org, &rx, &["user.session.start"]).await;
    let started = std::time::Instant::now();
    let mut written = Vec::new();
    for _ in 0..5 {
        written.extend(write_events(&org, 2_000, "user.session.start").await);
    }
    flush(&org).await;
    let elapsed = started.elapsed();
    let posts = rx.posts();
    assert_eq!(uuids(&posts), written);
    assert!(posts.iter().all(|p| p.events().len() <= 50));
    let s = stats(&org, &id).await;
    assert_eq!(s["eventsSent"], 10_000);
    println!(
        "10000 events in {} batches, written and delivered in {:?} ({:.0} events/s, debug build)",
        posts.len(),
        elapsed,
        10_000.0 / elapsed.as_secs_f64()
    );
}
