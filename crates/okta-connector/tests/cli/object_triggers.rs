//! new_user, updated_user and new_group against the in-process simulator, at the library level: a
//! source from the registry, `next()` in a loop as the runner calls it, the org changed through its
//! API between polls and its clock moved through the control API.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use okta_client::{Auth, Client, ClientConfig, ManualClock, Query, SecretString};
use okta_connector::triggers::{Next, Source, SourceContext, SourceError, find};
use okta_sim::{SimConfig, SimServer};
use reqwest::Method;
use serde_json::{Value, json};

struct Org {
    server: SimServer,
    client: Client,
    ctx: SourceContext,
    _dir: tempfile::TempDir,
    users: u32,
}

impl Org {
    /// A simulated org whose clock is frozen, so every timestamp is one the test chose.
    async fn new(config: SimConfig) -> Org {
        let server = okta_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let client = Client::new(ClientConfig::new(
            server.base_url().parse().unwrap(),
            Auth::ApiToken(SecretString::new(server.api_token())),
        ))
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ctx = SourceContext::new(
            client.clone(),
            Arc::new(ManualClock::new()),
            dir.path().to_path_buf(),
        );
        let org = Org {
            server,
            client,
            ctx,
            _dir: dir,
            users: 0,
        };
        org.clock(json!({"freeze": true})).await;
        org
    }

    async fn clock(&self, change: Value) -> Value {
        self.client
            .json(Method::POST, "/control/clock", &Query::new(), Some(&change))
            .await
            .unwrap()
    }

    async fn advance_ms(&self, ms: i64) {
        self.clock(json!({"advanceMs": ms})).await;
    }

    /// The simulator's clock, epoch milliseconds.
    async fn now_ms(&self) -> i64 {
        let state: Value = self
            .client
            .get("/control/clock", &Query::new())
            .await
            .unwrap();
        state["epochMs"].as_i64().unwrap()
    }

    async fn post(&self, path: &str, query: Query, body: Value) -> Value {
        self.client
            .json(Method::POST, path, &query, Some(&body))
            .await
            .unwrap()
    }

    /// Creates an active user; its id.
    async fn create_user(&mut self) -> String {
        self.users += 1;
        let n = self.users;
        let login = format!("trig{n}@example.com");
        let body = json!({"profile": {
            "login": login, "email": login, "firstName": "Trig", "lastName": format!("User{n}"),
            "employeeId": format!("E8{n:05}"),
        }});
        let user = self
            .post("/api/v1/users", Query::new().push("activate", "true"), body)
            .await;
        user["id"].as_str().unwrap().to_string()
    }

    /// Changes a user's profile; the new `lastUpdated`.
    async fn update_user(&self, id: &str, department: &str) -> String {
        let user = self
            .post(
                &format!("/api/v1/users/{id}"),
                Query::new(),
                json!({"profile": {"department": department}}),
            )
            .await;
        user["lastUpdated"].as_str().unwrap().to_string()
    }

    async fn create_group(&self, name: &str) -> String {
        let group = self
            .post(
                "/api/v1/groups",
                Query::new(),
                json!({"profile": {"name": name, "description": "made by a trigger test"}}),
            )
            .await;
        group["id"].as_str().unwrap().to_string()
    }

    fn user_updated(&self, id: &str) -> String {
        iso(self.server.sim().org.read().users[id].last_updated)
    }
}

fn iso(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap();
    okta_connector::triggers::time_spec::okta_time(t)
}

fn source(trigger: &str, config: Value) -> Box<dyn Source> {
    find(trigger).unwrap().source(config).unwrap()
}

/// What a run of polls delivered: record ids in delivery order, the cursor after, and the `Next`
/// of each call.
#[derive(Debug)]
struct Run {
    ids: Vec<String>,
    cursor: Option<Value>,
    nexts: Vec<Next>,
}

/// Calls `next` as the runner does (committing each batch's cursor) until `CaughtUp`, or at most
/// `max_calls` times.
async fn poll(org: &Org, src: &mut dyn Source, cursor: Option<Value>, max_calls: usize) -> Run {
    let mut run = Run {
        ids: vec![],
        cursor,
        nexts: vec![],
    };
    for _ in 0..max_calls {
        let batch = src.next(&org.ctx, run.cursor.as_ref()).await.unwrap();
        for r in &batch.records {
            // The object is Okta's JSON as sent, and the id is derived from it.
            let object: Value = serde_json::from_str(r.object.get()).unwrap();
            let oid = object["id"].as_str().unwrap();
            assert!(
                r.id == oid || r.id.starts_with(&format!("{oid}@")),
                "{}",
                r.id
            );
            assert!(object["_links"].is_object(), "{object}");
            run.ids.push(r.id.clone());
        }
        run.cursor = Some(batch.cursor);
        run.nexts.push(batch.next);
        if batch.next == Next::CaughtUp {
            break;
        }
        assert_eq!(batch.next, Next::Now);
    }
    run
}

async fn drain(org: &Org, src: &mut dyn Source, cursor: Option<Value>) -> Run {
    let run = poll(org, src, cursor, 1000).await;
    assert_eq!(run.nexts.last(), Some(&Next::CaughtUp), "{run:?}");
    run
}

fn set(ids: &[String]) -> BTreeSet<String> {
    ids.iter().cloned().collect()
}

fn no_repeats(ids: &[String]) {
    let mut seen = HashSet::new();
    for id in ids {
        assert!(seen.insert(id), "{id} delivered twice in {ids:?}");
    }
}

#[tokio::test]
async fn new_user_delivers_each_new_user_once_across_polls() {
    let mut org = Org::new(SimConfig::small()).await;
    let mut src = source("new_user", json!({"limit": 2, "lag": "0s"}));
    // The seeded users are at least a day old: outside the default start of 1h.
    let first = drain(&org, src.as_mut(), None).await;
    assert!(first.ids.is_empty(), "{first:?}");
    assert_eq!(first.nexts, [Next::CaughtUp]);

    let mut made = vec![];
    for _ in 0..5 {
        made.push(org.create_user().await);
        org.advance_ms(1).await;
    }
    let run = drain(&org, src.as_mut(), first.cursor).await;
    assert_eq!(run.ids, made, "oldest first, each once");
    // Two per page, and each page after the first starts at the last user delivered (`ge`): one
    // new user per call after the first, `Now` while a page has a next.
    assert_eq!(run.nexts, [Next::Now, Next::Now, Next::Now, Next::CaughtUp]);

    let idle = drain(&org, src.as_mut(), run.cursor).await;
    assert!(idle.ids.is_empty(), "{idle:?}");

    let mut more = vec![];
    for _ in 0..3 {
        org.advance_ms(250).await;
        more.push(org.create_user().await);
    }
    // An update is no new user.
    org.update_user(&made[0], "Sales").await;
    let run = drain(&org, src.as_mut(), idle.cursor).await;
    assert_eq!(run.ids, more);
}

#[tokio::test]
async fn a_restart_resumes_from_the_committed_cursor() {
    let mut org = Org::new(SimConfig::small()).await;
    let config = json!({"limit": 3});
    let mut made = vec![];
    for _ in 0..7 {
        made.push(org.create_user().await);
        org.advance_ms(10).await;
    }
    // Two pages, then the process dies: the runner only has the last committed cursor.
    let mut a = source("new_user", config.clone());
    let before = poll(&org, a.as_mut(), None, 2).await;
    assert_eq!(before.nexts, [Next::Now, Next::Now]);
    let n = before.ids.len();
    assert!((4..7).contains(&n), "{before:?}");
    assert_eq!(before.ids, made[..n]);
    drop(a);

    let mut b = source("new_user", config.clone());
    let after = drain(&org, b.as_mut(), before.cursor).await;
    // Mid-cycle, the scan position resumes exactly: the next users, nothing repeated.
    assert_eq!(after.ids, made[n..]);

    for _ in 0..2 {
        made.push(org.create_user().await);
        org.advance_ms(10).await;
    }
    drop(b);
    let mut c = source("new_user", config);
    let last = drain(&org, c.as_mut(), after.cursor).await;
    // The new cycle re-reads the default lag of 1m (every user here is younger): those repeats
    // carry the same record id, so the runner drops them; nothing is missing.
    let all: Vec<String> = [before.ids, after.ids, last.ids.clone()].concat();
    assert_eq!(set(&all), set(&made));
    assert!(last.ids.ends_with(&made[7..]), "{:?}", last.ids);
}

#[tokio::test]
async fn users_created_in_the_same_millisecond_are_all_delivered() {
    let mut org = Org::new(SimConfig::small()).await;
    let config = json!({"limit": 2, "lag": "0s"});
    let mut src = source("new_user", config.clone());
    let start = drain(&org, src.as_mut(), None).await;

    // Five users in one millisecond: more than a page of ties.
    let mut tied = vec![];
    for _ in 0..5 {
        tied.push(org.create_user().await);
    }
    let first = poll(&org, src.as_mut(), start.cursor, 1).await;
    assert_eq!(first.ids.len(), 2);
    // A restart in the middle of the tie.
    let mut src = source("new_user", config.clone());
    let rest = drain(&org, src.as_mut(), first.cursor).await;
    let all = [first.ids, rest.ids].concat();
    no_repeats(&all);
    assert_eq!(set(&all), set(&tied));

    // Still the same millisecond, after the trigger caught up: `ge` and the ids of the tie find
    // these (`gt` would not) without repeating the five.
    let mut late = vec![];
    for _ in 0..3 {
        late.push(org.create_user().await);
    }
    let run = drain(&org, src.as_mut(), rest.cursor).await;
    assert_eq!(set(&run.ids), set(&late));
    no_repeats(&run.ids);
    let cursor = run.cursor.unwrap();
    assert_eq!(cursor["ids"].as_array().unwrap().len(), 8, "{cursor}");

    org.advance_ms(1).await;
    let next = org.create_user().await;
    let run = drain(&org, src.as_mut(), Some(cursor)).await;
    assert_eq!(run.ids, [next]);
    // The high-water mark moved on: the ids of the old tie are dropped.
    assert_eq!(run.cursor.unwrap()["ids"], json!([run.ids[0]]));
}

#[tokio::test]
async fn updated_user_delivers_each_version_and_rereads_the_lag() {
    let mut org = Org::new(SimConfig::small()).await;
    let config = json!({"lag": "1m", "limit": 2});
    let mut src = source("updated_user", config.clone());
    let start = drain(&org, src.as_mut(), None).await;
    assert!(start.ids.is_empty(), "{start:?}");

    let u1 = org.create_user().await;
    org.advance_ms(1000).await;
    let u2 = org.create_user().await;
    org.advance_ms(1000).await;
    let u3 = org.create_user().await;
    let v = |id: &str| format!("{id}@{}", org.user_updated(id));
    let mut expected = vec![v(&u1), v(&u2), v(&u3)];
    let first = drain(&org, src.as_mut(), start.cursor).await;
    // A creation is an update too (Okta sets lastUpdated); oldest first.
    assert_eq!(first.ids, expected);

    // Ten minutes on, u1 changes.
    org.advance_ms(10 * 60_000).await;
    org.update_user(&u1, "Sales").await;
    expected.push(v(&u1));
    let second = drain(&org, src.as_mut(), first.cursor).await;
    // The cycle re-read the minute before the newest delivered (u2 and u3 again, same ids) and
    // found u1's new version.
    assert_eq!(second.ids, [v(&u2), v(&u3), v(&u1)]);
    let mut all = [first.ids.clone(), second.ids.clone()].concat();
    assert_eq!(set(&all), set(&expected));

    // An update the index shows late: its lastUpdated is 30s behind the newest one delivered,
    // inside the lag. (The simulator's search is never late; its state is set directly.)
    {
        let mut o = org.server.sim().org.write();
        let behind = o.users[&u1].last_updated - 30_000;
        o.users.get_mut(&u2).unwrap().last_updated = behind;
    }
    expected.push(v(&u2));
    // A restart in between changes nothing.
    let mut src = source("updated_user", config);
    let third = drain(&org, src.as_mut(), second.cursor).await;
    assert_eq!(third.ids, [v(&u2), v(&u1)]);
    all.extend(third.ids.clone());
    assert_eq!(set(&all), set(&expected));

    // The next cycle re-reads only the last minute before the newest version delivered: not u3,
    // ten minutes older.
    let fourth = drain(&org, src.as_mut(), third.cursor).await;
    assert_eq!(fourth.ids, [v(&u2), v(&u1)]);
}

#[tokio::test]
async fn updated_user_with_no_lag_is_exact() {
    let mut org = Org::new(SimConfig::small()).await;
    let mut src = source("updated_user", json!({"lag": "0s", "limit": 1}));
    let start = drain(&org, src.as_mut(), None).await;
    let a = org.create_user().await;
    let b = org.create_user().await;
    let mut expected = vec![
        format!("{a}@{}", org.user_updated(&a)),
        format!("{b}@{}", org.user_updated(&b)),
    ];
    // Same millisecond: ties go by id, which the simulator gives in creation order.
    let first = drain(&org, src.as_mut(), start.cursor).await;
    let mut all = first.ids;
    let mut cursor = first.cursor;
    for department in ["Sales", "Legal", "Finance"] {
        org.advance_ms(3).await;
        org.update_user(&a, department).await;
        expected.push(format!("{a}@{}", org.user_updated(&a)));
        let run = drain(&org, src.as_mut(), cursor).await;
        all.extend(run.ids);
        cursor = run.cursor;
    }
    no_repeats(&all);
    assert_eq!(all, expected);
}

#[tokio::test]
async fn new_group_delivers_new_groups_and_resumes() {
    let org = Org::new(SimConfig::small()).await;
    let config = json!({"limit": 1, "lag": "0s", "search": "type eq \"OKTA_GROUP\""});
    let mut src = source("new_group", config.clone());
    let start = drain(&org, src.as_mut(), None).await;
    assert!(start.ids.is_empty(), "{start:?}");

    let mut made = vec![];
    for name in ["Trigger A", "Trigger B", "Trigger C"] {
        made.push(org.create_group(name).await);
        org.advance_ms(5).await;
    }
    let first = poll(&org, src.as_mut(), start.cursor, 2).await;
    assert_eq!(first.ids, made[..2]);
    let mut src = source("new_group", config);
    let rest = drain(&org, src.as_mut(), first.cursor).await;
    assert_eq!(rest.ids, made[2..]);

    // A group update is no new group.
    let group: Value = org
        .client
        .get(&format!("/api/v1/groups/{}", made[0]), &Query::new())
        .await
        .unwrap();
    let _: Value = org
        .client
        .json(
            Method::PUT,
            &format!("/api/v1/groups/{}", made[0]),
            &Query::new(),
            Some(&json!({"profile": {"name": "Trigger A2", "description": group["profile"]["description"]}})),
        )
        .await
        .unwrap();
    let d = org.create_group("Trigger D").await;
    let run = drain(&org, src.as_mut(), rest.cursor).await;
    assert_eq!(run.ids, [d]);
}

#[tokio::test]
async fn a_start_in_the_past_picks_up_older_objects() {
    let org = Org::new(SimConfig {
        users: 150,
        groups: 30,
        ..SimConfig::small()
    })
    .await;
    let now = org.now_ms().await;
    let day = 86_400_000;

    let since = now - 60 * day;
    let run = drain(
        &org,
        source("new_user", json!({"start": iso(since), "limit": 7})).as_mut(),
        None,
    )
    .await;
    let mut expected: Vec<(i64, String)> = org
        .server
        .sim()
        .org
        .read()
        .users
        .values()
        .filter(|u| u.created >= since)
        .map(|u| (u.created, u.id.clone()))
        .collect();
    expected.sort();
    assert!(expected.len() > 7, "several pages: {}", expected.len());
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    assert_eq!(run.ids, expected);

    // With an extra search, ANDed with the time condition.
    let department = {
        let o = org.server.sim().org.read();
        let u = o.users.values().find(|u| u.created >= since).unwrap();
        u.profile.get_str("department").unwrap().to_string()
    };
    let search = format!("profile.department eq \"{department}\"");
    let run = drain(
        &org,
        source(
            "new_user",
            json!({"start": iso(since), "search": search, "lag": "0s"}),
        )
        .as_mut(),
        None,
    )
    .await;
    let want: BTreeSet<String> = org
        .server
        .sim()
        .org
        .read()
        .users
        .values()
        .filter(|u| {
            u.created >= since && u.profile.get_str("department") == Some(department.as_str())
        })
        .map(|u| u.id.clone())
        .collect();
    assert!(!want.is_empty() && want.len() < expected.len());
    assert_eq!(set(&run.ids), want);

    let since = now - 150 * day;
    let want: BTreeSet<String> = org
        .server
        .sim()
        .org
        .read()
        .groups
        .values()
        .filter(|g| g.created >= since)
        .map(|g| g.id.clone())
        .collect();
    let run = drain(
        &org,
        source("new_group", json!({"start": iso(since), "limit": 4})).as_mut(),
        None,
    )
    .await;
    assert!(want.len() > 4, "{}", want.len());
    no_repeats(&run.ids);
    assert_eq!(set(&run.ids), want);
}

#[tokio::test]
async fn a_search_okta_refuses_stops_the_trigger() {
    let org = Org::new(SimConfig::small()).await;
    for trigger in ["new_user", "updated_user", "new_group"] {
        let mut src = source(
            trigger,
            json!({"search": "profile.department zz \"Sales\""}),
        );
        let err = src.next(&org.ctx, None).await.unwrap_err();
        assert!(!err.retryable(), "{trigger}: {err}");
        let SourceError::Okta(e) = &err else {
            panic!("{trigger}: {err:?}");
        };
        assert_eq!(e.status, Some(400), "{err}");
        assert_eq!(e.error_code(), Some("E0000031"), "{err}");
        assert!(err.to_string().contains("zz"), "{trigger}: {err}");
    }
}

#[tokio::test]
async fn a_cursor_that_cannot_be_read_stops_the_trigger() {
    let org = Org::new(SimConfig::small()).await;
    let mut src = source("new_user", Value::Null);
    for bad in [json!("x"), json!({"at": "yesterday", "ids": []})] {
        let err = src.next(&org.ctx, Some(&bad)).await.unwrap_err();
        assert!(matches!(err, SourceError::Invalid(_)), "{err:?}");
        assert!(!err.retryable());
        assert!(err.to_string().contains("new_user cursor"), "{err}");
    }
}

#[test]
fn configurations_are_checked_with_clear_messages() {
    for trigger in ["new_user", "updated_user", "new_group"] {
        let def = find(trigger).unwrap();
        def.source(Value::Null).unwrap();
        def.source(json!({"start": "2026-01-01T00:00:00Z", "search": "status eq \"ACTIVE\"", "limit": 1, "lag": "2m"}))
            .unwrap();
        for (config, message) in [
            (json!({"limit": 0}), "limit must be between 1 and 200"),
            (json!({"limit": 201}), "limit must be between 1 and 200"),
            (json!({"lag": "5x"}), "use s, m, h or d"),
            (json!({"start": "yesterday"}), "'yesterday'"),
            (json!({"search": "  "}), "search is empty"),
            (json!({"serach": "x"}), "unknown field `serach`"),
        ] {
            let err = def.source(config.clone()).err().unwrap();
            assert!(err.contains(message), "{trigger} {config}: {err}");
        }
        let schema = def.config_schema();
        for field in ["start", "search", "limit", "lag"] {
            let description = schema["properties"][field]["description"].as_str();
            assert!(
                description.is_some_and(|d| d.len() > 20),
                "{trigger} {field}: {schema}"
            );
        }
        assert_eq!(schema["additionalProperties"], false, "{schema}");
        assert_eq!(schema["properties"]["start"]["default"], "1h", "{schema}");
        assert_eq!(schema["properties"]["lag"]["default"], "1m", "{schema}");
        assert_eq!(schema["properties"]["limit"]["default"], 200, "{schema}");
        assert!(!def.record.id.is_empty());
    }
    assert_eq!(
        find("updated_user").unwrap().record.id,
        "{user id}@{lastUpdated}"
    );
    assert_eq!(find("new_group").unwrap().record.object, "Group");
}
