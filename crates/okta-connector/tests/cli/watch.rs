//! `watch`, `serve`, `triggers` and `jobs` as a user runs them: real processes against a simulator
//! served by this test process. The crash test kills the watcher with SIGKILL twenty times while
//! 100,000 events stream in, then checks the file sink against the simulator's log.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use okta_sim::{SimConfig, SimServer};
use serde_json::{Value, json};

use crate::{cmd, describe};

const MASTER_KEY: &str = "0f0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

pub(crate) struct Org {
    pub(crate) server: SimServer,
    pub(crate) rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

impl Org {
    pub(crate) fn start() -> Org {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let config = SimConfig {
            users: 20,
            groups: 3,
            log_events: 100,
            ..SimConfig::small()
        };
        let server = rt
            .block_on(okta_sim::spawn(config, "127.0.0.1:0".parse().unwrap()))
            .unwrap();
        Org {
            server,
            rt,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The CLI on this org, by the SDK's environment variables, with its own state directory.
    pub(crate) fn cli(&self) -> Command {
        let mut c = cmd();
        c.env("OKTA_CLIENT_ORGURL", self.server.base_url())
            .env("OKTA_CLIENT_TOKEN", self.server.api_token())
            .env("OKTA_CONNECTOR_MASTER_KEY", MASTER_KEY)
            .arg("--state")
            .arg(self.path("state"));
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cli().args(args).stdin(Stdio::null()).output().unwrap()
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}\n{}", describe(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    pub(crate) fn spawn(&self, args: &[&str]) -> Child {
        self.cli()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Writes events published now through the control API; their uuids.
    pub(crate) fn events(&self, count: usize) -> Vec<String> {
        let url = format!("{}/control/logs/late", self.server.base_url());
        self.rt.block_on(async {
            let answer: Value = reqwest::Client::new()
                .post(&url)
                .json(&json!({"count": count, "publishedAgoMs": 0}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            answer["inserted"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u.as_str().unwrap().to_string())
                .collect()
        })
    }

    pub(crate) fn now_iso(&self) -> String {
        let ms = self.server.sim().clock.now_ms();
        let t =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
        okta_connector::triggers::time_spec::okta_time(t)
    }
}

/// The envelopes of a JSONL file (every line must be whole JSON).
pub(crate) fn read_jsonl(path: &Path) -> Vec<Value> {
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    std::io::BufReader::new(file)
        .lines()
        .map(|l| {
            let l = l.unwrap();
            serde_json::from_str(&l)
                .unwrap_or_else(|e| panic!("a torn line in {}: {e}: {l}", path.display()))
        })
        .collect()
}

pub(crate) fn line_count(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

fn random_ms(low: u64, high: u64) -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    low + u64::from_le_bytes(b) % (high - low)
}

#[test]
fn kill_9_twenty_times_during_a_100k_event_stream_loses_and_repeats_nothing() {
    let org = Org::start();
    let start = org.now_iso();
    let sink = org.path("events.jsonl");
    let config = json!({"start": start}).to_string();
    let sink_arg = format!("file:{}", sink.display());
    let args = [
        "watch",
        "new_events",
        "--config",
        &config,
        "--sink",
        &sink_arg,
        "--name",
        "crash",
        "--interval",
        "1s",
    ];

    // The stream: 100 bursts of 1,000 events, written while the watcher is killed and restarted.
    let mut written: Vec<String> = Vec::with_capacity(100_000);
    let mut kills = 0;
    let mut watcher = org.spawn(&args);
    for burst in 0..100 {
        written.extend(org.events(1_000));
        if burst % 5 == 4 {
            std::thread::sleep(Duration::from_millis(random_ms(20, 400)));
            watcher.kill().unwrap(); // SIGKILL: no chance to finish anything
            watcher.wait().unwrap();
            kills += 1;
            watcher = org.spawn(&args);
        }
    }
    assert_eq!(kills, 20);
    // Let the last watcher catch up, then stop it gracefully.
    let deadline = Instant::now() + Duration::from_secs(120);
    while line_count(&sink) < written.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill")
        .args(["-TERM", &watcher.id().to_string()])
        .status()
        .unwrap();
    let out = watcher.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));

    let delivered: Vec<String> = read_jsonl(&sink)
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let distinct: HashSet<&String> = delivered.iter().collect();
    assert_eq!(
        distinct.len(),
        delivered.len(),
        "a record was delivered twice"
    );
    assert_eq!(delivered.len(), written.len(), "every event delivered");
    assert!(delivered == written, "in the order they were written");

    // The job history counts every record exactly once.
    let jobs: Vec<Value> = org
        .ok(&[
            "--output", "ndjson", "jobs", "list", "--name", "crash", "--limit", "100000",
        ])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records: u64 = jobs.iter().map(|j| j["records"].as_u64().unwrap()).sum();
    assert_eq!(records, 100_000);
}

#[test]
fn watch_once_to_a_file_then_stdout_and_the_job_history() {
    let org = Org::start();
    let start = org.now_iso();
    let written = org.events(1_500);
    let config = json!({"start": start, "event_types": ["user.session.start"]}).to_string();
    let sink = org.path("out.jsonl");
    let sink_arg = format!("file:{}", sink.display());
    let out = org.run(&[
        "watch",
        "new_events",
        "--config",
        &config,
        "--sink",
        &sink_arg,
        "--once",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("caught up: delivered 1500 records"),
        "{stderr}"
    );
    let ids: Vec<String> = read_jsonl(&sink)
        .iter()
        .map(|e| e["id"].as_str().unwrap().into())
        .collect();
    assert_eq!(ids, written);

    // The same command again: nothing new, nothing twice.
    let out = org.run(&[
        "watch",
        "new_events",
        "--config",
        &config,
        "--sink",
        &sink_arg,
        "--once",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("delivered 0 records"),
        "{}",
        describe(&out)
    );
    assert_eq!(line_count(&sink), 1_500);

    // To stdout: NDJSON envelopes.
    let more = org.events(3);
    let stdout = org.ok(&["watch", "new_events", "--config", &config, "--once"]);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        1_503,
        "a new instance (another sink) starts from its start"
    );
    assert_eq!(lines[1_500]["id"], more[0].as_str());
    assert_eq!(lines[0]["trigger"], "new_events");

    let status = org.ok(&["--output", "ndjson", "triggers", "status"]);
    assert_eq!(status.lines().count(), 2, "{status}");
    let jobs = org.ok(&["--output", "ndjson", "jobs", "list"]);
    assert!(jobs.lines().count() >= 3, "{jobs}");
}

#[test]
fn serve_runs_many_triggers_and_stops_gracefully() {
    let org = Org::start();
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
    // A second org, on a second connection of the same store.
    let beta = Org::start();
    let mut add = org.cli();
    add.args([
        "connections",
        "add",
        "beta",
        "--org-url",
        beta.server.base_url(),
        "--secret-env",
        "TOKEN",
    ])
    .env("TOKEN", beta.server.api_token());
    let out = add.output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let start = org.now_iso();
    let audit = org.path("audit.jsonl");
    let logins = org.path("logins.jsonl");
    let config = format!(
        "interval: 1s\n\
         triggers:\n  \
           - name: audit\n    \
             connection: acme\n    \
             trigger: new_events\n    \
             config: {{start: \"{start}\"}}\n    \
             sink: {{file: {audit}}}\n  \
           - name: logins\n    \
             connection: beta\n    \
             trigger: new_events\n    \
             config: {{start: \"{start}\", event_types: [user.session.start]}}\n    \
             sink: {{file: {logins}}}\n",
        audit = audit.display(),
        logins = logins.display()
    );
    let config_path = org.path("serve.yaml");
    std::fs::write(&config_path, config).unwrap();
    let serve = org.spawn(&["serve", "--config", config_path.to_str().unwrap()]);
    let written = org.events(2_000);
    let written_beta = beta.events(2_000);
    let deadline = Instant::now() + Duration::from_secs(60);
    while (line_count(&audit) < 2_000 || line_count(&logins) < 2_000) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    let out = serve.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("audit: delivered"), "{stderr}");
    assert!(
        stderr.contains("logins: delivered 2000 records"),
        "{stderr}"
    );
    let ids = |p: &Path| -> Vec<String> {
        read_jsonl(p)
            .iter()
            .map(|e| e["id"].as_str().unwrap().into())
            .collect()
    };
    assert_eq!(ids(&logins), written_beta);
    assert_eq!(ids(&audit), written);
}

#[test]
fn the_readme_lists_every_trigger() {
    let out = cmd().args(["triggers", "docs"]).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        readme.contains(&table),
        "README.md's trigger tables are out of date; replace them with the output of `okta-connector triggers docs`:\n{table}"
    );
}

#[test]
fn trigger_commands_explain_their_failures() {
    let org = Org::start();
    let list = org.ok(&["--output", "ndjson", "triggers", "list"]);
    let names: Vec<String> = list
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let registry: Vec<&str> = okta_connector::triggers::registry()
        .iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, registry);
    let described = org.ok(&["triggers", "describe", "new_events"]);
    assert!(
        described.contains("user_lifecycle    user.lifecycle."),
        "{described}"
    );
    assert!(described.contains("\"categories\""), "{described}");

    let code = |args: &[&str]| {
        let out = org.run(args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (c, e) = code(&["watch", "new_event"]);
    assert_eq!(c, Some(2), "{e}");
    assert!(e.contains("the triggers are: new_events"), "{e}");
    let (c, e) = code(&["watch", "new_events", "--config", "{\"limit\": 0}"]);
    assert_eq!(c, Some(2), "{e}");
    assert!(e.contains("limit must be 1 to 1000"), "{e}");
    let (c, e) = code(&["watch", "new_events", "--sink", "carrier-pigeon:home"]);
    assert_eq!(c, Some(2), "{e}");
    assert!(e.contains("--sink"), "{e}");
    let (c, e) = code(&[
        "watch",
        "new_events",
        "--config",
        "{\"filter\": \"eventType zz 1\"}",
        "--once",
    ]);
    assert_eq!(c, Some(4), "a filter Okta refuses: {e}");
    let (c, e) = code(&["triggers", "reset", "nobody"]);
    assert_eq!(c, Some(2), "{e}");
    // No connection at all.
    let out = cmd()
        .args([
            "--state",
            org.path("empty").to_str().unwrap(),
            "watch",
            "new_events",
            "--once",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
}

impl Org {
    /// An API call with the org's token; the JSON answer (null for 204).
    fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.server.base_url());
        let token = self.server.api_token();
        self.rt.block_on(async {
            let mut request = reqwest::Client::new()
                .request(method.clone(), &url)
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
}

#[test]
fn every_trigger_runs_from_serve_and_from_watch() {
    let org = Org::start();
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

    // Something for each trigger to find: a new user and group, a membership, an update, deletions.
    let start = org.now_iso();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let user = org.api(
        reqwest::Method::POST,
        "/api/v1/users?activate=true",
        Some(json!({"profile": {"firstName": "Tess", "lastName": "Trigger", "email": "tess@example.com",
            "login": "tess@example.com", "employeeId": "E900001"}})),
    );
    let uid = user["id"].as_str().unwrap().to_string();
    let group = org.api(
        reqwest::Method::POST,
        "/api/v1/groups",
        Some(json!({"profile": {"name": "Watchers", "description": "triggers"}})),
    );
    let gid = group["id"].as_str().unwrap().to_string();
    org.api(
        reqwest::Method::PUT,
        &format!("/api/v1/groups/{gid}/users/{uid}"),
        None,
    );
    org.api(
        reqwest::Method::POST,
        &format!("/api/v1/users/{uid}"),
        Some(json!({"profile": {"title": "Watcher"}})),
    );
    let doomed = org.api(
        reqwest::Method::POST,
        "/api/v1/users?activate=false",
        Some(
            json!({"profile": {"firstName": "Dee", "lastName": "Leted", "email": "dee@example.com",
            "login": "dee@example.com", "employeeId": "E900002"}}),
        ),
    );
    let did = doomed["id"].as_str().unwrap().to_string();
    org.api(
        reqwest::Method::DELETE,
        &format!("/api/v1/users/{did}"),
        None,
    );
    org.api(
        reqwest::Method::DELETE,
        &format!("/api/v1/users/{did}"),
        None,
    );

    let triggers: Vec<(&str, Value)> = vec![
        (
            "new_events",
            json!({"start": start, "categories": ["user_lifecycle"]}),
        ),
        // No hook registered here (see realtime and hooks_e2e): its catch-up reads the log.
        (
            "new_events_realtime",
            json!({"start": start, "event_types": ["user.lifecycle.create"], "register": false,
                   "public_url": format!("http://127.0.0.1:{port}"), "secret_env": "HOOK_SECRET"}),
        ),
        (
            "scheduled_event_search",
            json!({"schedule": "hourly", "start": "3h", "settle": "0s"}),
        ),
        ("new_user", json!({"start": start, "lag": "0s"})),
        ("updated_user", json!({"start": start, "lag": "0s"})),
        ("new_group", json!({"start": start, "lag": "0s"})),
        ("group_membership_changed", json!({"start": start})),
        ("deleted_objects", json!({"start": start})),
    ];
    let registry: Vec<&str> = okta_connector::triggers::registry()
        .iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(
        triggers.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        registry
    );
    let mut yaml = format!("interval: 1s\nhttp: {{listen: \"127.0.0.1:{port}\"}}\ntriggers:\n");
    for (trigger, config) in &triggers {
        yaml.push_str(&format!(
            "  - name: {trigger}\n    connection: acme\n    trigger: {trigger}\n    config: {config}\n    sink: {{file: {}}}\n",
            org.path(&format!("{trigger}.jsonl")).display()
        ));
    }
    let config_path = org.path("serve.yaml");
    std::fs::write(&config_path, yaml).unwrap();
    let serve = org
        .cli()
        .env("HOOK_SECRET", "a-shared-secret")
        .args(["serve", "--config", config_path.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Everything each trigger finds here fits one batch, but the scheduled search's three windows.
    let expected = |t: &str| if t == "scheduled_event_search" { 3 } else { 1 };
    let ready = || {
        triggers
            .iter()
            .all(|(t, _)| line_count(&org.path(&format!("{t}.jsonl"))) >= expected(t))
    };
    while !ready() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    let out = serve.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));

    let records = |t: &str| read_jsonl(&org.path(&format!("{t}.jsonl")));
    let ids = |t: &str| -> Vec<String> {
        records(t)
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect()
    };
    let types: Vec<String> = records("new_events")
        .iter()
        .map(|e| e["record"]["eventType"].as_str().unwrap().to_string())
        .collect();
    assert!(
        types.iter().all(|t| t.starts_with("user.lifecycle.")),
        "{types:?}"
    );
    assert!(
        types.contains(&"user.lifecycle.delete.completed".to_string()),
        "{types:?}"
    );
    let batches = records("scheduled_event_search");
    assert_eq!(
        batches.len(),
        3,
        "three hourly windows, one batch each at least: {batches:?}"
    );
    assert!(batches.iter().all(|b| b["record"]["firstBatch"] == true));
    // The user created and deleted before the first poll is gone from Okta: only deleted_objects sees it.
    assert_eq!(ids("new_user"), vec![uid.clone()]);
    assert!(
        ids("updated_user")
            .iter()
            .any(|id| id.starts_with(&format!("{uid}@")))
    );
    assert_eq!(ids("new_group"), vec![gid.clone()]);
    let membership = records("group_membership_changed");
    assert_eq!(membership.len(), 1);
    assert_eq!(membership[0]["details"]["change"], "added");
    assert_eq!(membership[0]["details"]["user"]["id"], uid.as_str());
    let deleted = records("deleted_objects");
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["details"]["id"], did.as_str());

    let created: Vec<String> = records("new_events_realtime")
        .iter()
        .map(|e| e["record"]["eventType"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        created,
        vec!["user.lifecycle.create"; 2],
        "the catch-up read both creations"
    );

    // Each trigger from `watch` too (new instances: their own cursors), to stdout; the real-time
    // one needs the daemon's endpoint and says so.
    let out = org.run(&["watch", "new_events_realtime", "-c", "acme"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run it under `okta-connector serve`"));
    for (trigger, config) in triggers.iter().filter(|(t, _)| *t != "new_events_realtime") {
        let name = format!("watch-{trigger}");
        let config = config.to_string();
        let stdout = org.ok(&[
            "watch", trigger, "-c", "acme", "--name", &name, "--config", &config, "--once",
        ]);
        assert_eq!(
            stdout.lines().count(),
            line_count(&org.path(&format!("{trigger}.jsonl"))),
            "{trigger}: {stdout}"
        );
    }

    // The same scheduled search from `watch`: the three windows, once, to stdout.
    let config = json!({"schedule": "hourly", "start": "3h", "settle": "0s"}).to_string();
    let stdout = org.ok(&[
        "watch",
        "scheduled_event_search",
        "-c",
        "acme",
        "--config",
        &config,
        "--once",
    ]);
    let batches: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(batches.len(), 3, "{stdout}");
    let again = org.ok(&[
        "watch",
        "scheduled_event_search",
        "-c",
        "acme",
        "--config",
        &config,
        "--once",
    ]);
    assert_eq!(again, "", "each window runs once");
}
