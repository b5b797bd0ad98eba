//! Actions from the CLI against a simulated org: `actions list|describe|run`, the friendly
//! subcommands, output formats, and the exit codes of every kind of failure.

use std::collections::BTreeSet;
use std::process::{Command, Output};

use okta_connector::actions::registry;
use okta_sim::state::UserStatus;
use okta_sim::{SimConfig, SimServer};
use serde_json::Value;

use crate::{cmd, describe};

/// A simulated org served in this test process; the CLI reaches it through the Okta SDK's environment
/// variables, with an empty state directory of its own.
pub(crate) struct Org {
    pub(crate) server: SimServer,
    state: tempdir::TempDir,
    _rt: tokio::runtime::Runtime,
}

mod tempdir {
    /// A directory removed when dropped.
    pub struct TempDir(pub std::path::PathBuf);
    impl TempDir {
        pub fn new(tag: &str) -> Self {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).unwrap();
            let dir = std::env::temp_dir().join(format!(
                "okta-connector-test-{tag}-{}",
                bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Org {
    pub(crate) fn start() -> Org {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let config = SimConfig {
            users: 120,
            groups: 6,
            apps: 3,
            log_events: 300,
            ..SimConfig::small()
        };
        let server = rt
            .block_on(okta_sim::spawn(config, "127.0.0.1:0".parse().unwrap()))
            .unwrap();
        Org {
            server,
            state: tempdir::TempDir::new("actions"),
            _rt: rt,
        }
    }

    /// The CLI with this org as its connection.
    pub(crate) fn cli(&self) -> Command {
        let mut c = cmd();
        c.env("OKTA_CLIENT_ORGURL", self.server.base_url())
            .env("OKTA_CLIENT_TOKEN", self.server.api_token())
            .arg("--state")
            .arg(&self.state.0);
        c
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.cli().args(args).output().unwrap()
    }

    /// Runs and expects success; the NDJSON lines of stdout.
    pub(crate) fn lines(&self, args: &[&str]) -> Vec<Value> {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}\n{}", describe(&out));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}\n{}", describe(&out));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&out)))
    }

    pub(crate) fn org(&self) -> parking_lot::RwLockReadGuard<'_, okta_sim::state::Org> {
        self.server.sim().org.read()
    }

    /// API requests the org has served.
    pub(crate) fn requests(&self) -> u64 {
        self.server.sim().counters.total()
    }
}

fn ids(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn list_and_describe_come_from_the_registry() {
    let out = cmd()
        .args(["actions", "list", "--output", "ndjson"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let names: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let expected: Vec<String> = registry().iter().map(|a| a.name.to_string()).collect();
    assert_eq!(names, expected);
    for name in [
        "get_user",
        "search_users",
        "list_groups",
        "get_group",
        "list_group_members",
        "list_user_groups",
        "list_apps",
        "get_app",
        "list_app_users",
        "get_user_schema",
        "list_user_types",
        "search_system_log",
        "custom_api_call",
    ] {
        assert!(
            names.iter().any(|n| n == name),
            "{name} missing from {names:?}"
        );
    }

    let out = cmd()
        .args(["actions", "describe", "search_users", "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let props = doc["inputSchema"]["properties"].as_object().unwrap();
    for p in ["q", "filter", "search", "sortBy", "sortOrder", "limit"] {
        assert!(props.contains_key(p), "{p} not in {doc}");
    }
    assert_eq!(doc["returns"], "stream of User");

    let out = cmd()
        .args(["actions", "describe", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("search_users"));
}

#[test]
fn the_readme_lists_every_action() {
    let out = cmd().args(["actions", "docs"]).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        readme.contains(&table),
        "README.md's action table is out of date; replace it with the output of `okta-connector actions docs`:\n{table}"
    );
}

#[test]
fn users_get_search_and_groups() {
    let org = Org::start();
    let (login, id, active, first_group) = {
        let o = org.org();
        let user = o.users.values().find(|u| u.id != o.admin_id).unwrap();
        let active = o
            .users
            .values()
            .filter(|u| u.status == UserStatus::Active)
            .count();
        let group = o.user_groups[&user.id][0].clone();
        (user.login().to_string(), user.id.clone(), active, group)
    };

    // By login and by id, the same user, whole.
    let by_login = org.json(&["users", "get", &login]);
    let by_id = org.json(&[
        "actions",
        "run",
        "get_user",
        "--input",
        &format!(r#"{{"user":"{id}"}}"#),
    ]);
    assert_eq!(by_login, by_id);
    assert_eq!(by_login["id"], id.as_str());
    assert!(
        by_login["profile"]["employeeId"].is_string(),
        "custom attributes kept: {by_login}"
    );

    // Every page streamed: a small page size means many pages.
    let all = org.lines(&[
        "users",
        "search",
        "--filter",
        "status eq \"ACTIVE\"",
        "--limit",
        "7",
        "-o",
        "ndjson",
    ]);
    assert_eq!(all.len(), active);
    assert_eq!(ids(&all).len(), active, "no duplicates across pages");
    let first = org.lines(&[
        "users", "search", "--limit", "7", "--max", "10", "-o", "ndjson",
    ]);
    assert_eq!(first.len(), 10);

    let sorted = org.lines(&[
        "users",
        "search",
        "--search",
        "status eq \"ACTIVE\"",
        "--sort-by",
        "profile.login",
        "--sort-order",
        "descending",
        "-o",
        "ndjson",
    ]);
    let logins: Vec<&str> = sorted
        .iter()
        .map(|u| u["profile"]["login"].as_str().unwrap())
        .collect();
    let mut expected = logins.clone();
    expected.sort_by_key(|l| std::cmp::Reverse(l.to_lowercase()));
    assert_eq!(logins, expected);

    let groups = org.lines(&["users", "groups", &id, "-o", "ndjson"]);
    assert!(ids(&groups).contains(&first_group));
}

#[test]
fn groups_apps_schema_and_types() {
    let org = Org::start();
    let (group_id, members, group_count, app_id, app_users, app_count, type_count) = {
        let o = org.org();
        let (gid, members) = o
            .members
            .iter()
            .filter(|(g, _)| **g != o.everyone_group_id)
            .max_by_key(|(_, m)| m.len())
            .unwrap();
        let (aid, users) = o.app_users.iter().max_by_key(|(_, u)| u.len()).unwrap();
        (
            gid.clone(),
            members.clone(),
            o.groups.len(),
            aid.clone(),
            users.len(),
            o.apps.len(),
            o.user_types.len(),
        )
    };
    assert!(!members.is_empty());

    let groups = org.lines(&["groups", "list", "-o", "ndjson"]);
    assert_eq!(groups.len(), group_count);
    let group = org.json(&["groups", "get", &group_id]);
    assert_eq!(group["id"], group_id.as_str());
    let listed = org.lines(&[
        "groups", "members", &group_id, "--limit", "3", "-o", "ndjson",
    ]);
    assert_eq!(ids(&listed), members.iter().cloned().collect());

    let apps = org.lines(&["apps", "list", "-o", "ndjson"]);
    assert_eq!(apps.len(), app_count);
    assert_eq!(org.json(&["apps", "get", &app_id])["id"], app_id.as_str());
    // Direct assignments and those through groups; the same set whatever the page size.
    let assigned = org.lines(&["apps", "users", &app_id, "-o", "ndjson"]);
    assert!(assigned.len() >= app_users && app_users > 0);
    let paged = org.lines(&["apps", "users", &app_id, "--limit", "5", "-o", "ndjson"]);
    assert_eq!(ids(&paged), ids(&assigned));
    assert_eq!(paged.len(), assigned.len());

    let schema = org.json(&["schema", "show"]);
    let custom = &schema["definitions"]["custom"]["properties"];
    for attribute in [
        "employeeId",
        "clearanceLevel",
        "isContractor",
        "region",
        "skills",
        "startDate",
    ] {
        assert!(
            custom[attribute].is_object(),
            "{attribute} missing from {custom}"
        );
    }
    assert_eq!(
        org.lines(&["schema", "types", "-o", "ndjson"]).len(),
        type_count
    );
}

#[test]
fn system_log_search_is_bounded_and_filtered() {
    let org = Org::start();
    let expected = {
        let all = org.lines(&["logs", "search", "--since", "40d", "-o", "ndjson"]);
        assert!(all.len() >= 300, "the seeded history: {}", all.len());
        all.iter()
            .filter(|e| e["eventType"] == "user.session.start")
            .count()
    };
    assert!(expected > 0);
    let filtered = org.lines(&[
        "logs",
        "search",
        "--since",
        "40d",
        "--filter",
        "eventType eq \"user.session.start\"",
        "--limit",
        "9",
        "-o",
        "ndjson",
    ]);
    assert_eq!(filtered.len(), expected);
    assert!(
        filtered
            .iter()
            .all(|e| e["eventType"] == "user.session.start")
    );
    let published: Vec<&str> = filtered
        .iter()
        .map(|e| e["published"].as_str().unwrap())
        .collect();
    assert!(
        published.windows(2).all(|w| w[0] <= w[1]),
        "ascending by published"
    );

    let out = org.run(&["logs", "search", "--since", "yesterday-ish"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ISO 8601"));
}

#[test]
fn output_formats() {
    let org = Org::start();
    let csv = org.run(&["groups", "list", "-o", "csv"]);
    assert!(csv.status.success(), "{}", describe(&csv));
    let text = String::from_utf8(csv.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("id,type,profile.name,profile.description")
    );
    assert_eq!(lines.count(), org.org().groups.len());

    let table = org.run(&["groups", "list", "-o", "table"]);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.starts_with("ID "), "{text}");
    assert!(text.contains("Everyone"));

    let json = org.json(&["groups", "list", "-o", "json"]);
    assert_eq!(json.as_array().unwrap().len(), org.org().groups.len());
}

#[test]
fn custom_api_call_follows_pages_and_stays_in_the_api() {
    let org = Org::start();
    let input = r#"{"method":"GET","path":"/api/v1/users","query":{"limit":"11"}}"#;
    let users = org.lines(&[
        "actions",
        "run",
        "custom_api_call",
        "--input",
        input,
        "-o",
        "ndjson",
    ]);
    let listed = org
        .org()
        .users
        .values()
        .filter(|u| u.status != UserStatus::Deprovisioned)
        .count();
    assert_eq!(users.len(), listed);

    let created = org.json(&[
        "actions",
        "run",
        "custom_api_call",
        "--input",
        r#"{"method":"POST","path":"/api/v1/groups","body":{"profile":{"name":"Made by custom call"}}}"#,
    ]);
    assert_eq!(created["profile"]["name"], "Made by custom call");
    assert!(
        org.org()
            .groups
            .contains_key(created["id"].as_str().unwrap())
    );

    let before = org.requests();
    for path in [
        "https://evil.example.com/api/v1/users",
        "/api/v1/../../oauth2/v1/token",
        "/oauth2/v1/keys",
    ] {
        let input = format!(r#"{{"method":"GET","path":"{path}"}}"#);
        let out = org.run(&["actions", "run", "custom_api_call", "--input", &input]);
        assert_eq!(out.status.code(), Some(2), "{path}: {}", describe(&out));
    }
    assert_eq!(org.requests(), before, "refused calls send nothing");
}

#[test]
fn failures_have_their_exit_codes() {
    let org = Org::start();
    let before = org.requests();
    // Bad input: refused before any request.
    for (args, needle) in [
        (
            vec!["actions", "run", "get_user", "--input", "{nope"],
            "not JSON",
        ),
        (
            vec!["actions", "run", "get_user", "--input", r#"{"usr":"x"}"#],
            "unknown field",
        ),
        (
            vec![
                "actions",
                "run",
                "search_users",
                "--input",
                r#"{"q":"a","filter":"b"}"#,
            ],
            "at most one",
        ),
        (vec!["users", "search", "--limit", "500"], "at most 200"),
    ] {
        let out = org.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(needle),
            "{args:?}: {}",
            describe(&out)
        );
    }
    assert_eq!(org.requests(), before, "invalid input sends nothing");

    // Okta refuses: 4, with Okta's code and request id.
    let out = org.run(&["users", "get", "nobody@nowhere.example.com"]);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("E0000007") && err.contains("request id"),
        "{err}"
    );
    let out = org.run(&["users", "search", "--filter", "status eq"]);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));

    // Wrong token: 4, and the token is not printed.
    let out = org
        .cli()
        .env("OKTA_CLIENT_TOKEN", "wrong-token-1234")
        .args(["users", "search"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("E0000011"));
    assert!(!describe(&out).contains("wrong-token-1234"));

    // No connection at all: 3.
    let state = tempdir::TempDir::new("none");
    let home = tempdir::TempDir::new("home");
    let out = cmd()
        .env("HOME", &home.0)
        .arg("--state")
        .arg(&state.0)
        .args(["users", "search"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));

    // Unreachable: 5 (a port nobody listens on).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = org
        .cli()
        .env("OKTA_CLIENT_ORGURL", format!("http://127.0.0.1:{port}"))
        .args(["users", "search"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", describe(&out));
}
