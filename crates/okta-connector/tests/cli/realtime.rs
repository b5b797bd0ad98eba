//! `new_events_realtime` under `serve`, as Okta would call it: the one-time verification, deliveries
//! with and without the shared secret, malformed and oversized bodies, repeated deliveries, the
//! daemon killed after acknowledging and before delivering, and the System Log catch-up after
//! downtime. Here the test plays Okta's side of the hook; `hooks_e2e` has the simulator do it.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::describe;
use crate::watch::{Org, line_count, read_jsonl};

const SECRET: &str = "hook-secret-0123456789abcdef";

/// A port free right now on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Daemon {
    port: u16,
    config: std::path::PathBuf,
}

impl Daemon {
    /// Writes a serve configuration with one real-time instance `rt` on connection `acme`.
    fn configure(org: &Org, port: u16, start: &str, sink: Value) -> Daemon {
        let config = json!({
            "http": {"listen": format!("127.0.0.1:{port}")},
            "triggers": [{
                "name": "rt",
                "connection": "acme",
                "trigger": "new_events_realtime",
                "config": {
                    "event_types": ["user.session.start"],
                    "public_url": format!("http://127.0.0.1:{port}"),
                    "secret_env": "HOOK_SECRET",
                    "register": false,
                    "start": start,
                    "catch_up": "1h",
                },
                "sink": sink,
            }],
        });
        let path = org.path("serve.json");
        std::fs::write(&path, config.to_string()).unwrap();
        Daemon { port, config: path }
    }

    fn start(&self, org: &Org) -> Child {
        let child = org
            .cli()
            .env("HOOK_SECRET", SECRET)
            .args(["serve", "--config", self.config.to_str().unwrap()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Up when the hook endpoint answers (a 401 without the secret).
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.call(org, "GET", "rt", None, &[]).0 != 401 {
            assert!(Instant::now() < deadline, "serve did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        child
    }

    /// A call to /hooks/{name}: (status, body).
    fn call(
        &self,
        org: &Org,
        method: &str,
        name: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        let url = format!("http://127.0.0.1:{}/hooks/{name}", self.port);
        org.rt.block_on(async {
            let mut request = reqwest::Client::new().request(method.parse().unwrap(), &url);
            for (k, v) in headers {
                request = request.header(*k, *v);
            }
            if let Some(body) = body {
                request = request
                    .header("Content-Type", "application/json")
                    .body(body);
            }
            match request.send().await {
                Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
                Err(_) => (0, String::new()),
            }
        })
    }

    fn deliver(&self, org: &Org, events: &[Value]) -> u16 {
        let body = json!({
            "eventType": "com.okta.event_hook",
            "eventTypeVersion": "1.0",
            "cloudEventsVersion": "0.1",
            "source": format!("{}/api/v1/eventHooks/whoTEST", org.server.base_url()),
            "eventId": format!("delivery-{}", events.len()),
            "contentType": "application/json",
            "data": {"events": events},
        });
        self.call(
            org,
            "POST",
            "rt",
            Some(body.to_string().into_bytes()),
            &[("Authorization", SECRET)],
        )
        .0
    }
}

/// An event as Okta would push it (not in the simulator's log, so only the hook brings it).
fn pushed(n: usize, event_type: &str) -> Value {
    json!({
        "uuid": format!("5e1f0000-0000-11f1-8000-{n:012}"),
        "published": "2026-11-29T08:00:00.000Z",
        "eventType": event_type,
        "outcome": {"result": "SUCCESS"},
        "displayMessage": "pushed",
    })
}

fn add_connection(org: &Org) {
    let mut add = org.cli();
    add.args([
        "connections",
        "add",
        "acme",
        "--org-url",
        org.server.base_url(),
        "--secret-env",
        "TOKEN",
    ])
    .env("TOKEN", org.server.api_token());
    let out = add.output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
}

fn wait_for_lines(path: &Path, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while line_count(path) < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop(child: Child) -> std::process::Output {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ids(path: &Path) -> Vec<String> {
    read_jsonl(path)
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_hook_endpoint_verifies_refuses_and_delivers_once() {
    let org = Org::start();
    add_connection(&org);
    let sink = org.path("rt.jsonl");
    let daemon = Daemon::configure(&org, free_port(), &org.now_iso(), json!({"file": sink}));
    let serve = daemon.start(&org);

    // Okta's one-time verification, with the secret.
    let (status, body) = daemon.call(
        &org,
        "GET",
        "rt",
        None,
        &[
            ("Authorization", SECRET),
            ("x-okta-verification-challenge", "chal-123"),
        ],
    );
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"verification":"chal-123"}"#)
    );
    // No secret, a wrong one, an unknown instance.
    let challenge = [("x-okta-verification-challenge", "chal-123")];
    assert_eq!(daemon.call(&org, "GET", "rt", None, &challenge).0, 401);
    let wrong = [("Authorization", "hook-secret-0123456789abcdeX")];
    assert_eq!(
        daemon
            .call(&org, "POST", "rt", Some(b"{}".to_vec()), &wrong)
            .0,
        401
    );
    let good = [("Authorization", SECRET)];
    assert_eq!(
        daemon
            .call(&org, "POST", "nobody", Some(b"{}".to_vec()), &good)
            .0,
        404
    );
    // Malformed and oversized bodies.
    let (status, body) = daemon.call(&org, "POST", "rt", Some(b"{\"data\": 1}".to_vec()), &good);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not an Event Hook delivery"), "{body}");
    let no_uuid = json!({"data": {"events": [{"eventType": "user.session.start"}]}}).to_string();
    assert_eq!(
        daemon
            .call(&org, "POST", "rt", Some(no_uuid.into_bytes()), &good)
            .0,
        400
    );
    let huge = vec![b' '; 11 * 1024 * 1024];
    assert_eq!(daemon.call(&org, "POST", "rt", Some(huge), &good).0, 413);

    // A delivery, then the same one again (Okta delivers at least once): each event once. An event
    // of a type the trigger does not want is dropped.
    let events = vec![
        pushed(1, "user.session.start"),
        pushed(2, "user.lifecycle.create"),
        pushed(3, "user.session.start"),
    ];
    assert_eq!(daemon.deliver(&org, &events), 200);
    assert_eq!(daemon.deliver(&org, &events), 200);
    assert_eq!(
        daemon.deliver(&org, &[pushed(4, "user.session.start")]),
        200
    );
    wait_for_lines(&sink, 3);
    std::thread::sleep(Duration::from_millis(300));
    let out = stop(serve);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        ids(&sink),
        vec![
            "5e1f0000-0000-11f1-8000-000000000001",
            "5e1f0000-0000-11f1-8000-000000000003",
            "5e1f0000-0000-11f1-8000-000000000004"
        ]
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains(SECRET),
        "the secret leaked into the log:\n{stderr}"
    );
}

#[test]
fn killed_between_acknowledging_and_delivering_then_caught_up_nothing_is_lost() {
    let org = Org::start();
    add_connection(&org);
    let start = org.now_iso();
    let port = free_port();
    // A sink that never acknowledges: deliveries are stored and answered 200, but stay undelivered.
    let down = Daemon::configure(
        &org,
        port,
        &start,
        json!({"exec": ["sh", "-c", "cat > /dev/null; exit 1"]}),
    );
    let mut serve = down.start(&org);
    let events: Vec<Value> = (1..=5).map(|n| pushed(n, "user.session.start")).collect();
    assert_eq!(down.deliver(&org, &events), 200, "acknowledged once stored");
    std::thread::sleep(Duration::from_millis(300));
    serve.kill().unwrap(); // SIGKILL between the acknowledgement and any delivery
    serve.wait().unwrap();

    // While the daemon is down, Okta writes events a hook would have pushed (and the deliveries fail).
    let missed = org.events(7);

    // Back, with a sink that works: the stored deliveries and the catch-up's events, each once.
    let sink = org.path("rt.jsonl");
    let up = Daemon::configure(&org, port, &start, json!({"file": sink}));
    let serve = up.start(&org);
    wait_for_lines(&sink, 12);
    std::thread::sleep(Duration::from_millis(300));
    let out = stop(serve);
    assert!(out.status.success(), "{}", describe(&out));
    let got = ids(&sink);
    let pushed_ids: Vec<String> = events
        .iter()
        .map(|e| e["uuid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        &got[..5],
        &pushed_ids[..],
        "the stored deliveries first, in order"
    );
    let mut caught: Vec<String> = got[5..].to_vec();
    let mut missed = missed;
    caught.sort();
    missed.sort();
    assert_eq!(
        caught, missed,
        "the catch-up brought what happened while the daemon was down"
    );
}

/// A control-API or Okta API call on the simulator (SSWS for /api/v1): the JSON answer.
fn sim_call(org: &Org, method: &str, path: &str, body: Option<Value>) -> Value {
    let url = format!("{}{path}", org.server.base_url());
    let token = org.server.api_token();
    org.rt.block_on(async {
        let mut request = reqwest::Client::new()
            .request(method.parse().unwrap(), &url)
            .header("Authorization", format!("SSWS {token}"))
            .header("Accept", "application/json");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    })
}

/// A call to the daemon's own HTTP side: (status, body).
fn daemon_call(
    org: &Org,
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, String) {
    let url = format!("http://127.0.0.1:{port}{path}");
    org.rt.block_on(async {
        let mut request = reqwest::Client::new().request(method.parse().unwrap(), &url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        match request.send().await {
            Ok(r) => (r.status().as_u16(), r.text().await.unwrap()),
            // Not listening (yet).
            Err(_) => (0, String::new()),
        }
    })
}

#[test]
fn serve_registers_the_hook_and_okta_delivers_through_it() {
    let org = Org::start();
    add_connection(&org);
    let port = free_port();
    let sink = org.path("rt.jsonl");
    let api_token = "daemon-api-token-0123456789";
    let config = json!({
        "http": {"listen": format!("127.0.0.1:{port}"), "api_token_env": "API_TOKEN"},
        "triggers": [{
            "name": "rt",
            "connection": "acme",
            "trigger": "new_events_realtime",
            "config": {
                "event_types": ["user.session.start"],
                "public_url": format!("http://127.0.0.1:{port}"),
                "secret_env": "HOOK_SECRET",
                "start": org.now_iso(),
                "catch_up": "1h",
            },
            "sink": {"file": sink},
        }],
    });
    let config_path = org.path("serve.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let start = || {
        org.cli()
            .env("HOOK_SECRET", SECRET)
            .env("API_TOKEN", api_token)
            .args([
                "serve",
                "--config",
                config_path.to_str().unwrap(),
                "--log-format",
                "json",
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let ready = || {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let hooks = sim_call(&org, "GET", "/api/v1/eventHooks", None);
            let up = daemon_call(&org, port, "GET", "/readyz", None, None).0 == 200;
            if up
                && hooks
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|h| h["verificationStatus"] == "VERIFIED")
            {
                return hooks;
            }
            assert!(
                Instant::now() < deadline,
                "the hook was not registered and verified: {hooks}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let serve = start();
    let hooks = ready();
    // Created, activated and verified by `serve`, with the eligible type, at the instance's address;
    // Okta never shows the secret.
    let hook = &hooks[0];
    assert_eq!(hook["status"], "ACTIVE");
    assert_eq!(hook["events"]["items"], json!(["user.session.start"]));
    assert_eq!(
        hook["channel"]["config"]["uri"],
        format!("http://127.0.0.1:{port}/hooks/rt")
    );
    assert!(!hook.to_string().contains(SECRET));

    // Okta pushes events as they happen: they arrive without waiting for the hour's catch-up.
    let first = org.events(500);
    wait_for_lines(&sink, 500);
    assert_eq!(ids(&sink), first);
    // Repeated deliveries are delivered once.
    sim_call(
        &org,
        "POST",
        "/control/event-hooks/duplicate",
        Some(json!({"count": 3})),
    );
    let second = org.events(120);
    wait_for_lines(&sink, 620);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(line_count(&sink), 620, "duplicates delivered once");
    let deliveries = sim_call(&org, "GET", "/control/event-hooks/deliveries", None);
    let stats = deliveries["hooks"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    assert!(
        stats["duplicatesSent"].as_u64().unwrap() >= 1,
        "{deliveries}"
    );

    // The operations endpoints and the API for actions on the same listener.
    let (status, metrics) = daemon_call(&org, port, "GET", "/metrics", None, None);
    assert_eq!(status, 200);
    assert!(
        metrics.contains("hook_events_total{instance=\"rt\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("trigger_records_delivered_total{instance=\"rt\""),
        "{metrics}"
    );
    assert_eq!(
        daemon_call(&org, port, "GET", "/healthz", None, None).0,
        200
    );
    let (status, body) = daemon_call(
        &org,
        port,
        "POST",
        "/v1/connections/acme/actions/search_system_log",
        Some(api_token),
        Some(json!({"since": "1h", "filter": "eventType eq \"user.session.start\"", "max": 3})),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.lines().count(), 3, "{body}");
    assert_eq!(
        daemon_call(
            &org,
            port,
            "POST",
            "/v1/connections/acme/actions/get_user",
            None,
            Some(json!({}))
        )
        .0,
        401
    );

    // A delivery lost (Okta gave up on it): a restart's catch-up brings its events.
    sim_call(
        &org,
        "POST",
        "/control/event-hooks/drop",
        Some(json!({"count": 1})),
    );
    let lost = org.events(20);
    sim_call(&org, "POST", "/control/event-hooks/flush", Some(json!({})));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(line_count(&sink), 620, "the dropped batch did not arrive");
    let out = stop(serve);
    assert!(out.status.success(), "{}", describe(&out));
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    let serve = start();
    ready();
    wait_for_lines(&sink, 640);
    let out = stop(serve);
    assert!(out.status.success(), "{}", describe(&out));
    let all: Vec<String> = first.iter().chain(&second).chain(&lost).cloned().collect();
    let mut got = ids(&sink);
    assert_eq!(got.len(), all.len());
    got.sort();
    let mut all = all;
    all.sort();
    assert_eq!(got, all, "every event once");
    // Structured logs, and no secret in them.
    let log = log + &String::from_utf8_lossy(&out.stderr);
    assert!(
        log.lines()
            .any(|l| l.starts_with('{') && l.contains("\"level\"")),
        "{log}"
    );
    assert!(
        !log.contains(SECRET) && !log.contains(api_token),
        "a secret leaked into the log"
    );

    // `hooks list` shows the hook, `hooks remove` deletes it.
    let listed = org.ok(&["-c", "acme", "--output", "ndjson", "hooks", "list"]);
    let id = serde_json::from_str::<Value>(listed.lines().next().unwrap()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    org.ok(&["-c", "acme", "hooks", "remove", &id]);
    assert_eq!(sim_call(&org, "GET", "/api/v1/eventHooks", None), json!([]));
}
