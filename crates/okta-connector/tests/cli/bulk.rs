//! Bulk runs from the CLI against a simulated org: NDJSON and CSV inputs, bad lines, the journal's
//! resume (including after kill -9), checked against the simulator's state and System Log.
//!
//! Most runs use `custom_api_call` with POST /api/v1/users/{id}/lifecycle/deactivate, which is not
//! idempotent by state (a second deactivation is an error, as in Okta). The kill -9 test uses
//! `deactivate_user`, which is: an input in flight at the kill is run again on resume and answers
//! "already deactivated" without a write, so the resumed run ends with every input ok, and the System
//! Log shows each deactivation performed exactly once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use okta_sim::state::UserStatus;
use okta_sim::{SimConfig, SimServer};
use serde_json::Value;

use crate::{cmd, describe};

struct Org {
    server: SimServer,
    state: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

impl Org {
    fn start(users: usize, latency_ms: u64) -> Org {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let config = SimConfig {
            users,
            groups: 2,
            apps: 1,
            // No seeded history: every user.lifecycle.deactivate event in the log is ours.
            log_events: 0,
            latency_ms,
            ..SimConfig::small()
        };
        let server = rt
            .block_on(okta_sim::spawn(config, "127.0.0.1:0".parse().unwrap()))
            .unwrap();
        Org {
            server,
            state: tempfile::tempdir().unwrap(),
            _rt: rt,
        }
    }

    fn cli(&self) -> Command {
        let mut c = cmd();
        c.env("OKTA_CLIENT_ORGURL", self.server.base_url())
            .env("OKTA_CLIENT_TOKEN", self.server.api_token())
            .arg("--state")
            .arg(self.state.path());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cli().args(args).output().unwrap()
    }

    /// Up to `n` users that can be deactivated.
    fn active_users(&self, n: usize) -> Vec<String> {
        let org = self.server.sim().org.read();
        org.users
            .values()
            .filter(|u| u.status != UserStatus::Deprovisioned)
            .take(n)
            .map(|u| u.id.clone())
            .collect()
    }

    fn status(&self, id: &str) -> UserStatus {
        self.server.sim().org.read().users[id].status
    }

    /// user id → number of user.lifecycle.deactivate events in the System Log.
    fn deactivations(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        self.server.sim().logs.with_events(|events| {
            for e in events
                .iter()
                .filter(|e| e.event_type == "user.lifecycle.deactivate")
            {
                for t in e.targets.iter().filter(|t| t.kind == "User") {
                    *counts.entry(t.id.clone()).or_default() += 1;
                }
            }
        });
        counts
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.state.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn deactivate(id: &str) -> String {
    format!(r#"{{"method":"POST","path":"/api/v1/users/{id}/lifecycle/deactivate"}}"#)
}

fn results(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{}", describe(out))))
        .collect()
}

fn by_line(results: &[Value]) -> BTreeMap<u64, Value> {
    results
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r.clone()))
        .collect()
}

fn at(path: &Path) -> String {
    format!("@{}", path.display())
}

#[test]
fn ndjson_runs_every_line_and_reports_bad_ones_without_stopping() {
    let org = Org::start(40, 0);
    let users = org.active_users(10);
    let mut lines: Vec<String> = users.iter().map(|id| deactivate(id)).collect();
    lines.insert(3, "this is not json".into());
    lines.insert(7, r#"{"method": 5, "path": "/api/v1/users"}"#.into());
    let file = org.file("deactivate.ndjson", &(lines.join("\n") + "\n"));

    let out = org.run(&["actions", "run", "custom_api_call", "--input", &at(&file)]);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    let results = by_line(&results(&out));
    assert_eq!(results.len(), 12, "one result per input line");
    assert_eq!(results[&4]["ok"], false);
    assert!(results[&4]["error"].as_str().unwrap().contains("not JSON"));
    assert_eq!(results[&8]["ok"], false);
    assert!(
        results[&8]["error"]
            .as_str()
            .unwrap()
            .contains("invalid input")
    );
    assert_eq!(results.values().filter(|r| r["ok"] == true).count(), 10);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("10 ok, 2 failed (2 bad lines), 0 skipped"),
        "{stderr}"
    );
    for id in &users {
        assert_eq!(org.status(id), UserStatus::Deprovisioned, "{id}");
    }
    assert_eq!(org.deactivations().len(), 10);
}

#[test]
fn csv_runs_and_the_same_command_again_skips_what_is_done() {
    let org = Org::start(40, 0);
    let users = org.active_users(8);
    let mut csv = String::from("method,path\n");
    for id in &users {
        csv.push_str(&format!("POST,/api/v1/users/{id}/lifecycle/deactivate\n"));
    }
    let file = org.file("deactivate.csv", &csv);
    let args = [
        "actions",
        "run",
        "custom_api_call",
        "--input",
        &at(&file),
        "--concurrency",
        "3",
    ];

    let out = org.run(&args);
    assert!(out.status.success(), "{}", describe(&out));
    let first = by_line(&results(&out));
    assert_eq!(
        first.keys().copied().collect::<Vec<_>>(),
        (2..=9).collect::<Vec<_>>(),
        "CSV lines count the header"
    );
    assert!(
        first
            .values()
            .all(|r| r["ok"] == true && r["skipped"].is_null())
    );
    for id in &users {
        assert_eq!(org.status(id), UserStatus::Deprovisioned);
    }

    let before = org.server.sim().counters.total();
    let again = org.run(&args);
    assert!(again.status.success(), "{}", describe(&again));
    assert!(results(&again).iter().all(|r| r["skipped"] == true));
    assert_eq!(
        org.server.sim().counters.total(),
        before,
        "a resumed run sends nothing for done inputs"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("8 skipped as already done"));

    // CSV output shows the compact form.
    let out = org.run(&[
        "--output",
        "csv",
        "actions",
        "run",
        "custom_api_call",
        "--input",
        &at(&file),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().next(),
        Some("line,ok,skipped,output.id,output.status,error"),
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.contains(",true,true,")).count(),
        8
    );

    // --fresh starts over: every deactivation is tried again (and Okta refuses: already deactivated).
    let mut fresh = args.to_vec();
    fresh.push("--fresh");
    let out = org.run(&fresh);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    assert!(results(&out).iter().all(|r| r["ok"] == false));
    assert!(org.deactivations().values().all(|&n| n == 1));
}

/// The number of users of the kill -9 test: `OKTA_BULK_USERS`, else 10k (a few seconds in a debug build).
fn kill_test_users() -> usize {
    std::env::var("OKTA_BULK_USERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

#[test]
fn a_run_killed_with_sigkill_resumes_and_does_every_action_exactly_once() {
    let n = kill_test_users();
    let org = Org::start(n + 50, 0);
    let users = org.active_users(n);
    let text: String = users
        .iter()
        .map(|id| format!("{{\"user\":\"{id}\"}}\n"))
        .collect();
    let file = org.file("many.ndjson", &text);
    let input = at(&file);
    let args = [
        "actions",
        "run",
        "deactivate_user",
        "--input",
        &input,
        "--concurrency",
        "8",
    ];

    let mut child = org
        .cli()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once a third of the deactivations have happened (the simulator's log counts them).
    loop {
        if org.deactivations().len() >= users.len() / 3 {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended before it was killed: {status:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done_at_kill = org.deactivations().len();
    assert!(done_at_kill < users.len(), "killed mid-run");

    // What the journal says now: lines in flight are `started` (outcome unknown).
    let db = rusqlite::Connection::open(org.state.path().join("okta-connector.db")).unwrap();
    let started: BTreeSet<u64> = db
        .prepare("SELECT line FROM run_items WHERE state = 'started'")
        .unwrap()
        .query_map([], |r| r.get::<_, i64>(0))
        .unwrap()
        .map(|l| l.unwrap() as u64)
        .collect();
    assert!(started.len() <= 8, "at most --concurrency in flight");
    drop(db);

    let out = org.run(&args);
    let results = results(&out);
    assert_eq!(results.len(), users.len(), "{}", describe(&out));
    // Nothing fails on resume: an input in flight at the kill whose deactivation had landed answers
    // "already deactivated" (changed: false) instead of deactivating twice.
    let failed: Vec<&Value> = results.iter().filter(|r| r["ok"] == false).collect();
    assert!(failed.is_empty(), "{failed:?}");
    for r in results.iter().filter(|r| r["output"]["changed"] == false) {
        let line = r["line"].as_u64().unwrap();
        assert!(
            started.contains(&line),
            "only in-flight inputs were already done: {r}"
        );
    }
    let skipped = results.iter().filter(|r| r["skipped"] == true).count();
    assert!(
        skipped + started.len() >= done_at_kill,
        "done inputs were skipped"
    );

    // The System Log: every user deactivated, each exactly once; every user DEPROVISIONED.
    let log = org.deactivations();
    for id in &users {
        assert_eq!(
            log.get(id),
            Some(&1),
            "{id} deactivated {:?} times",
            log.get(id)
        );
        assert_eq!(org.status(id), UserStatus::Deprovisioned);
    }
    assert_eq!(log.len(), users.len());
}

#[test]
fn ctrl_c_finishes_the_inputs_in_flight_records_them_and_exits_130() {
    let org = Org::start(2_100, 0);
    let users = org.active_users(2_000);
    let text: String = users.iter().map(|id| deactivate(id) + "\n").collect();
    let file = org.file("many.ndjson", &text);
    let mut child = org
        .cli()
        .args(["actions", "run", "custom_api_call", "--input", &at(&file)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while org.deactivations().len() < 200 {
        assert!(child.try_wait().unwrap().is_none(), "ended too soon");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run the same command to resume"));

    // Nothing is left in an unknown state, and every result printed is recorded as done.
    let db = rusqlite::Connection::open(org.state.path().join("okta-connector.db")).unwrap();
    let count = |state: &str| -> usize {
        db.query_row(
            "SELECT COUNT(*) FROM run_items WHERE state = ?1",
            [state],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as usize
    };
    assert_eq!(count("started"), 0);
    assert_eq!(count("done"), results(&out).len());
    assert_eq!(count("done"), org.deactivations().len());
    assert!(count("done") < users.len(), "stopped early");
}
