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
