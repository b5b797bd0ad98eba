//! The daemon's HTTP side in process: `daemon::router` served on loopback with a client per
//! connection to an in-process simulator, called with reqwest as any HTTP client would. Every
//! action of the registry over HTTP (answers checked against the simulator's state), input
//! refused before any request, the bearer token, the body limit, the OpenAPI document, the
//! operations routes, and metrics that agree with the simulator's counters.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use okta_client::{Auth, Client, ClientConfig, SecretString};
use okta_connector::actions::registry;
use okta_connector::daemon::{self, DaemonState, metrics::Metrics, ops};
use okta_sim::state::{GroupType, UserStatus};
use okta_sim::{SimConfig, SimServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

const TOKEN: &str = "daemon-api-token-7f3a9c1e5b";

/// A simulator, the daemon's router over it on a loopback port, and an HTTP client.
struct Daemon {
    sim: SimServer,
    base: String,
    http: reqwest::Client,
    state: Arc<DaemonState>,
    /// Actions called over HTTP, to check that every action was.
    called: Mutex<BTreeSet<String>>,
}

fn sim_config() -> SimConfig {
    SimConfig {
        users: 120,
        groups: 6,
        apps: 3,
        log_events: 300,
        ..SimConfig::small()
    }
}

/// The client of connection `name` to `sim`, reporting to `metrics`; `attempts` bounds retries.
fn client(sim: &SimServer, metrics: &Metrics, name: &str, attempts: u32) -> Client {
    let mut config = ClientConfig::new(
        sim.base_url().parse().unwrap(),
        Auth::ApiToken(SecretString::new(sim.api_token())),
    );
    config.retry.max_attempts = attempts;
    config.observer = Some(metrics.client_observer(name));
    Client::new(config).unwrap()
}

impl Daemon {
    async fn start(token: Option<&str>) -> Daemon {
        Daemon::start_with(token, 5).await
    }

    async fn start_with(token: Option<&str>, attempts: u32) -> Daemon {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sim = okta_sim::spawn(sim_config(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let metrics = Arc::new(Metrics::new());
        let clients =
            BTreeMap::from([("sim".to_string(), client(&sim, &metrics, "sim", attempts))]);
        let state = Arc::new(DaemonState {
            clients,
            api_token: token.map(SecretString::new),
            metrics,
            hooks: BTreeMap::new(),
            ready: AtomicBool::new(false),
        });
        // `track` counts http_requests_total; layered again by the router itself it still counts
        // each request once.
        let app = daemon::router(state.clone()).layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::track,
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Daemon {
            sim,
            base,
            http: reqwest::Client::new(),
            state,
            called: Mutex::new(BTreeSet::new()),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET with the token.
    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
    }

    /// POSTs an action's input with the token; the status, content type and body.
    async fn post(
        &self,
        action: &str,
        input: &Value,
        accept: Option<&str>,
    ) -> (StatusCode, String, String) {
        self.called.lock().unwrap().insert(action.to_string());
        let mut request = self
            .http
            .post(self.url(&format!("/v1/connections/sim/actions/{action}")))
            .bearer_auth(TOKEN)
            .json(input);
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, content_type, response.text().await.unwrap())
    }

    /// Runs an action that answers one object; expects 200.
    async fn act(&self, action: &str, input: Value) -> Value {
        let (status, content_type, body) = self.post(action, &input, None).await;
        assert_eq!(status, StatusCode::OK, "{action} {input}: {body}");
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        serde_json::from_str(&body).unwrap()
    }

    /// Runs a list action; expects 200 and NDJSON.
    async fn list(&self, action: &str, input: Value) -> Vec<Value> {
        let (status, content_type, body) = self.post(action, &input, None).await;
        assert_eq!(status, StatusCode::OK, "{action} {input}: {body}");
        assert_eq!(content_type, "application/x-ndjson");
        body.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// Runs an action expected to fail; the status and the error body.
    async fn refused(&self, action: &str, input: Value) -> (StatusCode, Value) {
        let (status, _, body) = self.post(action, &input, None).await;
        assert!(!status.is_success(), "{action} {input}: {body}");
        (status, serde_json::from_str(&body).unwrap())
    }

    fn org(&self) -> parking_lot::RwLockReadGuard<'_, okta_sim::state::Org> {
        self.sim.sim().org.read()
    }

    fn status(&self, id: &str) -> UserStatus {
        self.org().users[id].status
    }

    fn set_status(&self, id: &str, status: UserStatus) {
        self.sim.sim().org.write().users.get_mut(id).unwrap().status = status;
    }

    fn requests(&self) -> u64 {
        self.sim.sim().counters.total()
    }

    async fn create(&self, n: u32, extra: Value) -> (String, String) {
        let login = format!("http{n}@example.com");
        let mut input = json!({"profile": {
            "login": login, "email": login, "firstName": "Http", "lastName": format!("User{n}"),
            "employeeId": format!("E8{n:05}"),
        }});
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let out = self.act("create_user", input).await;
        assert_eq!(out["changed"], true, "{out}");
        (out["id"].as_str().unwrap().to_string(), login)
    }
}

fn ids(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_over_http() {
    let d = Daemon::start(Some(TOKEN)).await;
    discovery(&d).await;
    lifecycle(&d).await;
    membership_and_assignment(&d).await;
    let called = d.called.lock().unwrap().clone();
    let all: BTreeSet<String> = registry().iter().map(|a| a.name.to_string()).collect();
    assert_eq!(
        called, all,
        "every action of the registry is called over HTTP"
    );
}

async fn discovery(d: &Daemon) {
    let (login, id, active, first_group, group, members, app, app_users, counts) = {
        let o = d.org();
        let user = o.users.values().find(|u| u.id != o.admin_id).unwrap();
        let active = o
            .users
            .values()
            .filter(|u| u.status == UserStatus::Active)
            .count();
        let (gid, members) = o
            .members
            .iter()
            .filter(|(g, _)| **g != o.everyone_group_id)
            .max_by_key(|(_, m)| m.len())
            .unwrap();
        let (aid, users) = o.app_users.iter().max_by_key(|(_, u)| u.len()).unwrap();
        (
            user.login().to_string(),
            user.id.clone(),
            active,
            o.user_groups[&user.id][0].clone(),
            gid.clone(),
            members.clone(),
            aid.clone(),
            users.len(),
            (o.groups.len(), o.apps.len(), o.user_types.len()),
        )
    };

    let user = d.act("get_user", json!({"user": login})).await;
    assert_eq!(user["id"], id.as_str());
    assert!(user["profile"]["employeeId"].is_string(), "{user}");

    let found = d
        .list(
            "search_users",
            json!({"filter": "status eq \"ACTIVE\"", "limit": 7}),
        )
        .await;
    assert_eq!(found.len(), active);
    assert_eq!(ids(&found).len(), active, "no duplicates across pages");
    // The same list as one JSON array when asked.
    let (status, content_type, body) = d
        .post(
            "search_users",
            &json!({"filter": "status eq \"ACTIVE\"", "limit": 7}),
            Some("application/json"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    let array: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(ids(&array), ids(&found));
    // An empty list: no lines, or `[]`.
    let none = json!({"search": "profile.login eq \"nobody@nowhere.example.com\""});
    assert!(d.list("search_users", none.clone()).await.is_empty());
    let (_, _, body) = d
        .post("search_users", &none, Some("application/json"))
        .await;
    assert_eq!(body, "[]");

    let groups = d.list("list_user_groups", json!({"user": id})).await;
    assert!(ids(&groups).contains(&first_group));
    let (status, _, body) = d
        .post("list_groups", &json!({}), Some("application/json"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Vec<Value>>(&body).unwrap().len(),
        counts.0
    );
    assert_eq!(
        d.act("get_group", json!({"group": group})).await["id"],
        group.as_str()
    );
    let listed = d
        .list("list_group_members", json!({"group": group, "limit": 3}))
        .await;
    assert_eq!(ids(&listed), members.iter().cloned().collect());

    assert_eq!(d.list("list_apps", json!({})).await.len(), counts.1);
    assert_eq!(
        d.act("get_app", json!({"app": app})).await["id"],
        app.as_str()
    );
    let assigned = d
        .list("list_app_users", json!({"app": app, "limit": 5}))
        .await;
    assert!(assigned.len() >= app_users && app_users > 0);

    let schema = d.act("get_user_schema", Value::Null).await;
    assert!(schema["definitions"]["custom"]["properties"]["employeeId"].is_object());
    assert_eq!(d.list("list_user_types", json!({})).await.len(), counts.2);

    let all = d.list("search_system_log", json!({"since": "40d"})).await;
    let sessions = all
        .iter()
        .filter(|e| e["eventType"] == "user.session.start")
        .count();
    assert!(sessions > 0);
    let filtered = d
        .list(
            "search_system_log",
            json!({"since": "40d", "filter": "eventType eq \"user.session.start\"", "limit": 9}),
        )
        .await;
    assert_eq!(filtered.len(), sessions);

    let created = d
        .act(
            "custom_api_call",
            json!({"method": "POST", "path": "/api/v1/groups", "body": {"profile": {"name": "Made over HTTP"}}}),
        )
        .await;
    assert_eq!(created["profile"]["name"], "Made over HTTP");
    assert!(d.org().groups.contains_key(created["id"].as_str().unwrap()));
}

async fn lifecycle(d: &Daemon) {
    // create, then activate a staged user.
    let (id, login) = d
        .create(1, json!({"password": "Xyzzy-Plugh-42", "stage": true}))
        .await;
    assert_eq!(d.status(&id), UserStatus::Staged);
    assert_eq!(
        d.org().users[&id].credentials.password.as_deref(),
        Some("Xyzzy-Plugh-42")
    );
    let out = d.act("activate_user", json!({"user": login})).await;
    assert_eq!(out["status"], "ACTIVE");
    assert_eq!(d.status(&id), UserStatus::Active);

    let out = d
        .act(
            "update_user",
            json!({"user": id, "profile": {"title": "Engineer"}}),
        )
        .await;
    assert_eq!(out["changed"], true);
    assert_eq!(d.org().users[&id].profile.to_map()["title"], "Engineer");

    d.act("suspend_user", json!({"user": id})).await;
    assert_eq!(d.status(&id), UserStatus::Suspended);
    d.act("unsuspend_user", json!({"user": id})).await;
    assert_eq!(d.status(&id), UserStatus::Active);

    d.set_status(&id, UserStatus::LockedOut);
    d.act("unlock_user", json!({"user": login})).await;
    assert_eq!(d.status(&id), UserStatus::Active);

    let out = d.act("reset_forgotten_password", json!({"user": id})).await;
    assert!(out["resetPasswordUrl"].as_str().is_some(), "{out}");
    assert_eq!(d.status(&id), UserStatus::Active);

    let sim = d.sim.sim();
    let lifecycle = "POST /api/v1/users/{id}/lifecycle/{op}";
    let before = sim.counters.count(lifecycle);
    assert_eq!(
        d.act("reset_factors", json!({"user": id})).await["changed"],
        true
    );
    assert_eq!(sim.counters.count(lifecycle), before + 1);
    d.act(
        "clear_user_sessions",
        json!({"user": id, "oauthTokens": true}),
    )
    .await;
    assert_eq!(sim.counters.count("DELETE /api/v1/users/{id}/sessions"), 1);

    let out = d.act("expire_password", json!({"user": id})).await;
    assert_eq!(out["status"], "PASSWORD_EXPIRED");
    assert_eq!(d.status(&id), UserStatus::PasswordExpired);

    let out = d.act("reset_password", json!({"user": id})).await;
    assert!(
        out["resetPasswordUrl"]
            .as_str()
            .unwrap()
            .starts_with("http")
    );
    assert_eq!(d.status(&id), UserStatus::Recovery);

    // Without credentials: PROVISIONED, and reactivation hands back the link.
    let (provisioned, _) = d.create(2, json!({})).await;
    assert_eq!(d.status(&provisioned), UserStatus::Provisioned);
    let out = d.act("reactivate_user", json!({"user": provisioned})).await;
    assert!(out["activationUrl"].as_str().is_some(), "{out}");

    d.act("deactivate_user", json!({"user": provisioned})).await;
    assert_eq!(d.status(&provisioned), UserStatus::Deprovisioned);
    let out = d.act("delete_user", json!({"user": provisioned})).await;
    assert_eq!(out["steps"], json!(["deleted"]));
    assert!(!d.org().users.contains_key(&provisioned));
}

async fn membership_and_assignment(d: &Daemon) {
    let (id, login) = d.create(3, json!({"password": "Xyzzy-Plugh-42"})).await;
    let group = {
        let o = d.org();
        o.groups
            .values()
            .find(|g| g.kind == GroupType::OktaGroup)
            .unwrap()
            .id
            .clone()
    };
    d.act("add_user_to_group", json!({"user": login, "group": group}))
        .await;
    assert!(d.org().members[&group].contains(&id));
    d.act(
        "remove_user_from_group",
        json!({"user": id, "group": group}),
    )
    .await;
    assert!(!d.org().members[&group].contains(&id));

    let app = d.org().apps.keys().next().unwrap().clone();
    let out = d
        .act(
            "assign_user_to_app",
            json!({"user": id, "app": app, "userName": "http3"}),
        )
        .await;
    assert_eq!(out["appUser"]["credentials"]["userName"], "http3");
    assert_eq!(d.org().app_users[&app][&id].scope, "USER");
    d.act("unassign_user_from_app", json!({"user": id, "app": app}))
        .await;
    assert!(!d.org().app_users[&app].contains_key(&id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_input_is_400_and_sends_nothing() {
    let d = Daemon::start(Some(TOKEN)).await;
    let before = d.requests();
    for (action, input, needle) in [
        ("get_user", json!({"usr": "x"}), "unknown field"),
        ("get_user", json!({}), "missing field"),
        (
            "search_users",
            json!({"q": "a", "filter": "b"}),
            "at most one",
        ),
        ("search_users", json!({"limit": 500}), "at most 200"),
        (
            "create_user",
            json!({"profile": {"login": "x@example.com"}, "nextLogin": "changePassword"}),
            "needs a password",
        ),
        (
            "custom_api_call",
            json!({"method": "GET", "path": "/oauth2/v1/keys"}),
            "/api/v1",
        ),
    ] {
        let (status, body) = d.refused(action, input.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{action} {input}: {body}");
        assert_eq!(body["error"], "invalid_input");
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{action}: {body}"
        );
    }
    // Not JSON at all.
    let response = d
        .http
        .post(d.url("/v1/connections/sim/actions/get_user"))
        .bearer_auth(TOKEN)
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("not JSON"),
        "{body}"
    );
    assert_eq!(d.requests(), before, "invalid input sends nothing to Okta");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_actions_and_connections_are_404() {
    let d = Daemon::start(Some(TOKEN)).await;
    let before = d.requests();
    for path in [
        "/v1/connections/sim/actions/no_such_action",
        "/v1/connections/nope/actions/get_user",
    ] {
        let response = d
            .http
            .post(d.url(path))
            .bearer_auth(TOKEN)
            .json(&json!({"user": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "not_found", "{body}");
    }
    assert_eq!(
        d.get("/v1/actions/no_such_action").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(d.requests(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_refusals_keep_oktas_code_and_request_id() {
    let d = Daemon::start(Some(TOKEN)).await;
    let response = d
        .http
        .post(d.url("/v1/connections/sim/actions/get_user"))
        .bearer_auth(TOKEN)
        .json(&json!({"user": "nobody@nowhere.example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let header = response.headers()["x-okta-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "okta");
    assert_eq!(body["okta"]["errorCode"], "E0000007");
    assert_eq!(body["okta"]["status"], 404);
    assert_eq!(body["okta"]["requestId"], header.as_str());
    assert!(
        body["message"].as_str().unwrap().contains("E0000007"),
        "{body}"
    );

    // A refused filter, found on a list's first page: its own status, not a broken 200.
    let (status, body) = d
        .refused("search_users", json!({"filter": "status eq"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "okta");
    assert!(body["okta"]["errorCode"].is_string(), "{body}");
    let (status, _) = d
        .refused(
            "list_group_members",
            json!({"group": "00gnosuchgroup000000"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The object's state refuses the change: 409, nothing written.
    let (id, _) = d.create(1, json!({"password": "Xyzzy-Plugh-42"})).await;
    let (status, body) = d.refused("activate_user", json!({"user": id})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "conflict");
    assert!(
        body["message"].as_str().unwrap().contains("ACTIVE"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_that_breaks_off_says_so() {
    // One attempt per request, so an injected 500 ends the list at once.
    let d = Daemon::start_with(Some(TOKEN), 1).await;
    let group = {
        let o = d.org();
        let (gid, _) = o.members.iter().max_by_key(|(_, m)| m.len()).unwrap();
        gid.clone()
    };
    let control = reqwest::Client::new();
    control
        .put(format!("{}/control/faults", d.sim.base_url()))
        .json(&json!({"errorRate": 0.25, "errorStatus": 500}))
        .send()
        .await
        .unwrap();
    let input = json!({"group": group, "limit": 2});
    // The faults are drawn from a seeded generator: some call gets its first page and then fails.
    let mut ndjson_seen = false;
    let mut array_seen = false;
    for _ in 0..40 {
        if ndjson_seen && array_seen {
            break;
        }
        if !ndjson_seen {
            let (status, _, body) = d.post("list_group_members", &input, None).await;
            if status == StatusCode::OK {
                let lines: Vec<Value> = body
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                let last = lines.last().unwrap();
                if last.get("error").is_some() {
                    assert_eq!(last["error"], "okta", "{last}");
                    assert_eq!(last["okta"]["status"], 500, "{last}");
                    assert!(lines[..lines.len() - 1].iter().all(|u| u["id"].is_string()));
                    ndjson_seen = true;
                }
            } else {
                assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
            }
        }
        if !array_seen {
            let response = d
                .http
                .post(d.url("/v1/connections/sim/actions/list_group_members"))
                .bearer_auth(TOKEN)
                .header("accept", "application/json")
                .json(&input)
                .send()
                .await
                .unwrap();
            if response.status() == StatusCode::OK {
                // Cut off: the body fails mid-way or does not parse as a whole array.
                match response.text().await {
                    Err(_) => array_seen = true,
                    Ok(text) => {
                        if serde_json::from_str::<Vec<Value>>(&text).is_err() {
                            assert!(text.starts_with('[') && !text.ends_with(']'), "{text}");
                            array_seen = true;
                        }
                    }
                }
            }
        }
    }
    assert!(
        ndjson_seen && array_seen,
        "no list broke off mid-way in 40 tries"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_required_and_never_echoed() {
    let d = Daemon::start(Some(TOKEN)).await;
    for path in [
        "/v1/actions",
        "/v1/connections",
        "/v1/openapi.json",
        "/v1/actions/get_user",
    ] {
        let missing = d.http.get(d.url(path)).send().await.unwrap();
        assert_eq!(missing.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            missing.headers()["www-authenticate"],
            r#"Bearer realm="okta-connector""#
        );
        let wrong = d
            .http
            .get(d.url(path))
            .bearer_auth(format!("{TOKEN}x"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(
            wrong.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains(r#"error="invalid_token""#)
        );
        assert!(!wrong.text().await.unwrap().contains(TOKEN));
        let basic = d
            .http
            .get(d.url(path))
            .basic_auth("admin", Some(TOKEN))
            .send()
            .await
            .unwrap();
        assert_eq!(basic.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(d.get(path).await.status(), StatusCode::OK, "{path}");
    }
    let before = d.requests();
    let response = d
        .http
        .post(d.url("/v1/connections/sim/actions/get_user"))
        .json(&json!({"user": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(d.requests(), before);

    assert_eq!(
        d.get("/v1/connections")
            .await
            .json::<Value>()
            .await
            .unwrap(),
        json!(["sim"])
    );
    let listed: Vec<Value> = d.get("/v1/actions").await.json().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|a| a["name"].as_str().unwrap()).collect();
    let expected: Vec<&str> = registry().iter().map(|a| a.name).collect();
    assert_eq!(names, expected);
    assert_eq!(listed[1]["returns"], "stream of User");
    let one: Value = d
        .get("/v1/actions/search_users")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["inputSchema"], registry()[1].input_schema());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_api_is_off() {
    let d = Daemon::start(None).await;
    for path in ["/v1/actions", "/v1/connections", "/v1/openapi.json"] {
        assert_eq!(d.get(path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let response = d
        .http
        .post(d.url("/v1/connections/sim/actions/get_user"))
        .json(&json!({"user": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(d.requests(), 0);
    let health = d.http.get(d.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_413() {
    let d = Daemon::start(Some(TOKEN)).await;
    let big = json!({"user": "x".repeat(1024 * 1024)});
    let response = d
        .http
        .post(d.url("/v1/connections/sim/actions/get_user"))
        .bearer_auth(TOKEN)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "body_too_large");
    assert_eq!(d.requests(), 0);
    // Just under the limit is read (and then refused as input, or answered by Okta).
    let fits = json!({"user": "x".repeat(1000)});
    let (status, _, _) = d.post("get_user", &fits, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_action_with_its_schema() {
    let d = Daemon::start(Some(TOKEN)).await;
    let response = d.get("/v1/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for action in registry() {
        let path = format!("/v1/connections/{{name}}/actions/{}", action.name);
        let op = &doc["paths"][&path]["post"];
        assert_eq!(op["operationId"], action.name, "{path}");
        assert_eq!(op["summary"], action.summary);
        let reference = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap();
        let schema = doc
            .pointer(reference.strip_prefix('#').unwrap())
            .unwrap_or_else(|| panic!("{reference} does not resolve"));
        // The registry's schema, its definitions moved to the components.
        let original = action.input_schema();
        assert_eq!(
            keys(&schema["properties"]),
            keys(&original["properties"]),
            "{path}"
        );
        assert_eq!(schema["required"], original["required"], "{path}");
        assert_eq!(
            op["requestBody"]["required"],
            original["required"]
                .as_array()
                .is_some_and(|r| !r.is_empty())
        );
    }
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), registry().len() + 4 + 3);
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["paths"]["/metrics"]["get"]["security"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics_that_match_the_simulator() {
    let d = Daemon::start(Some(TOKEN)).await;
    let health = d.http.get(d.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap().trim(), "ok");
    let ready = d.http.get(d.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.text().await.unwrap().contains("starting"));
    d.state.ready.store(true, Ordering::Release);
    assert_eq!(
        d.http.get(d.url("/readyz")).send().await.unwrap().status(),
        StatusCode::OK
    );

    // Some calls: single objects, a paged list, a 404.
    let login = {
        let o = d.org();
        o.users
            .values()
            .find(|u| u.id != o.admin_id)
            .unwrap()
            .login()
            .to_string()
    };
    for _ in 0..3 {
        d.act("get_user", json!({"user": login})).await;
    }
    d.list("search_users", json!({"limit": 10})).await;
    d.refused("get_user", json!({"user": "nobody@nowhere.example.com"}))
        .await;
    d.refused("get_user", json!({"usr": "x"})).await;

    let response = d.http.get(d.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let samples = parse(&text);
    let sum = |prefix: &str| -> f64 {
        samples
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v)
            .sum()
    };
    // Every request the simulator served, counted once, by bucket and status.
    assert_eq!(
        sum(r#"okta_requests_total{connection="sim","#) as u64,
        d.requests()
    );
    let snapshot = d.sim.sim().counters.snapshot();
    for (route, status) in [
        ("GET /api/v1/users/{id}", "200"),
        ("GET /api/v1/users/{id}", "404"),
        ("GET /api/v1/users", "200"),
    ] {
        let expected = snapshot["routes"][route][status].as_u64().unwrap();
        let key = format!(
            r#"okta_requests_total{{connection="sim",bucket="{route}",status="{status}"}}"#
        );
        assert_eq!(
            samples.get(&key).copied(),
            Some(expected as f64),
            "{key}\n{text}"
        );
    }
    assert!(
        samples.contains_key(
            r#"okta_rate_limit_remaining{connection="sim",bucket="GET /api/v1/users"}"#
        ),
        "{text}"
    );
    assert_eq!(
        samples[r#"okta_request_duration_seconds_count{connection="sim",bucket="GET /api/v1/users/{id}"}"#],
        4.0
    );
    // The daemon's own answers, by route template.
    let route = "/v1/connections/{name}/actions/{action}";
    assert_eq!(
        samples[&format!(r#"http_requests_total{{route="{route}",status="200"}}"#)],
        4.0
    );
    assert_eq!(
        samples[&format!(r#"http_requests_total{{route="{route}",status="404"}}"#)],
        1.0
    );
    assert_eq!(
        samples[&format!(r#"http_requests_total{{route="{route}",status="400"}}"#)],
        1.0
    );
    assert_eq!(
        samples[r#"http_requests_total{route="/readyz",status="503"}"#],
        1.0
    );
    for family in [
        "okta_throttled_seconds_total",
        "okta_retries_total",
        "trigger_lag_seconds",
        "hook_events_total",
    ] {
        assert!(text.contains(&format!("# TYPE {family} ")), "{family}");
    }
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// `name{labels} value` lines as a map.
fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').unwrap();
            (key.to_string(), value.parse().unwrap_or(f64::INFINITY))
        })
        .collect()
}
