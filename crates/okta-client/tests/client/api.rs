//! The API modules against the simulated org over loopback: each call returns what the org holds
//! (counted from the simulator's state or from a second, unfiltered listing).

use std::collections::BTreeSet;

use futures_util::TryStreamExt;
use okta_client::api::SortOrder;
use okta_client::models::{LogEvent, Nullable, Unique, User, UserStatus};
use okta_client::page::Pages;
use okta_client::{Client, ErrorKind, Query};
use okta_sim::clock::iso_ms;
use okta_sim::state::UserStatus as SimStatus;
use okta_sim::{SimConfig, SimServer};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{client_for, sim};

async fn org() -> (SimServer, Client) {
    let server = sim(SimConfig {
        users: 120,
        groups: 12,
        apps: 6,
        log_events: 400,
        ..SimConfig::small()
    })
    .await;
    let (client, _) = client_for(&server);
    (server, client)
}

async fn all<T>(pages: Pages<T>) -> Vec<T> {
    pages.try_collect().await.unwrap()
}

fn ids<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    items.into_iter().map(str::to_string).collect()
}

/// Every user the plain listing shows (Okta hides DEPROVISIONED users unless asked).
async fn listed_users(client: &Client) -> Vec<User> {
    all(client.users().list().limit(50).stream()).await
}

#[tokio::test]
async fn users_list_get_and_unknown() {
    let (server, client) = org().await;
    let users = listed_users(&client).await;
    let expected = server
        .sim()
        .org
        .read()
        .users
        .values()
        .filter(|u| u.status != SimStatus::Deprovisioned)
        .count();
    assert_eq!(users.len(), expected);
    assert_eq!(
        ids(users.iter().map(|u| u.id.as_str())).len(),
        expected,
        "a user came twice"
    );

    let someone = &users[7];
    let by_id = client.users().get(&someone.id).await.unwrap();
    let login = someone.login().unwrap();
    let by_login = client.users().get(login).await.unwrap();
    // A listing carries only the `self` link; the rest of the user is the same.
    assert_eq!(
        (&by_id.profile, &by_id.status),
        (&someone.profile, &someone.status)
    );
    assert_eq!(by_login, by_id);

    // A login with `+` and `@` must reach Okta as one path segment, `+` not turned into a space.
    let login = "ann+test@example.com";
    let profile = json!({"firstName": "Ann", "lastName": "Test", "email": login, "login": login,
        "employeeId": "E999999"});
    let created = client
        .custom(Method::POST, "/api/v1/users")
        .param("activate", false)
        .body(json!({ "profile": profile }))
        .send()
        .await
        .unwrap();
    let by_login = client.users().get(login).await.unwrap();
    assert_eq!(Some(by_login.id.as_str()), created["id"].as_str());
    assert_eq!(by_login.login(), Some(login));
    let groups = all(client.users().groups(login)).await;
    assert!(groups.iter().any(|g| g.name() == Some("Everyone")));

    let error = client
        .users()
        .get("00uDOESNOTEXIST000001")
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(404));
    assert_eq!(error.error_code(), Some("E0000007"));
    server.shutdown().await;
}

#[tokio::test]
async fn users_filter_search_q_and_sort() {
    let (server, client) = org().await;
    let users = listed_users(&client).await;

    let active: Vec<User> = all(client
        .users()
        .list()
        .filter(r#"status eq "ACTIVE""#)
        .stream())
    .await;
    let expected = users
        .iter()
        .filter(|u| u.status.get() == Some(&UserStatus::Active))
        .count();
    assert!(expected > 0);
    assert_eq!(active.len(), expected);

    let department = users
        .iter()
        .find_map(|u| u.profile.department.as_deref())
        .unwrap()
        .to_string();
    let search = format!(r#"profile.department eq "{department}" and status eq "ACTIVE""#);
    let found: Vec<User> = all(client.users().list().search(&search).limit(5).stream()).await;
    let expected = users
        .iter()
        .filter(|u| u.profile.department.as_deref() == Some(department.as_str()))
        .filter(|u| u.status.get() == Some(&UserStatus::Active));
    assert_eq!(
        ids(found.iter().map(|u| u.id.as_str())),
        ids(expected.map(|u| u.id.as_str()))
    );

    // `q` is a prefix match on first name, last name, email and login.
    let prefix: String = users[3]
        .profile
        .first_name
        .as_deref()
        .unwrap()
        .chars()
        .take(2)
        .collect();
    let needle = prefix.to_lowercase();
    let matched: Vec<User> = all(client.users().list().q(&prefix).limit(200).stream()).await;
    let starts = |v: &Nullable<String>| {
        v.as_deref()
            .is_some_and(|v| v.to_lowercase().starts_with(&needle))
    };
    let expected = users.iter().filter(|u| {
        let p = &u.profile;
        starts(&p.first_name) || starts(&p.last_name) || starts(&p.email) || starts(&p.login)
    });
    assert_eq!(
        ids(matched.iter().map(|u| u.id.as_str())),
        ids(expected.map(|u| u.id.as_str()))
    );

    let sorted: Vec<User> = all(client
        .users()
        .list()
        .search(r#"status eq "ACTIVE""#)
        .sort_by("profile.lastName")
        .sort_order(SortOrder::Descending)
        .limit(20)
        .stream())
    .await;
    assert_eq!(sorted.len(), active.len());
    let names: Vec<String> = sorted
        .iter()
        .map(|u| u.profile.last_name.as_deref().unwrap().to_lowercase())
        .collect();
    assert!(
        names.windows(2).all(|w| w[0] >= w[1]),
        "not descending: {names:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn groups_members_and_user_groups() {
    let (server, client) = org().await;
    let groups = all(client.groups().list().limit(5).stream()).await;
    let (group_count, busiest, members, user_id, user_groups) = {
        let sim = server.sim();
        let org = sim.org.read();
        let (busiest, members) = org.members.iter().max_by_key(|(_, m)| m.len()).unwrap();
        let user_id = members.iter().next().unwrap().clone();
        let user_groups = ids(org.user_groups[&user_id].iter().map(String::as_str));
        (
            org.groups.len(),
            busiest.clone(),
            ids(members.iter().map(String::as_str)),
            user_id,
            user_groups,
        )
    };
    assert_eq!(groups.len(), group_count);

    let group = client.groups().get(&busiest).await.unwrap();
    assert_eq!(group.id, busiest);
    let listed = all(client.groups().members(&busiest).limit(3).stream()).await;
    assert_eq!(ids(listed.iter().map(|u| u.id.as_str())), members);

    let of_user = all(client.users().groups(&user_id)).await;
    assert_eq!(ids(of_user.iter().map(|g| g.id.as_str())), user_groups);

    // q (name prefix), filter and search narrow the same listing.
    let name = groups
        .iter()
        .filter_map(|g| g.name())
        .find(|n| *n != "Everyone")
        .unwrap();
    let prefix: String = name.chars().take(3).collect();
    let by_q = all(client.groups().list().q(&prefix).stream()).await;
    let expected = groups.iter().filter(|g| {
        g.name()
            .unwrap()
            .to_lowercase()
            .starts_with(&prefix.to_lowercase())
    });
    assert_eq!(
        ids(by_q.iter().map(|g| g.id.as_str())),
        ids(expected.map(|g| g.id.as_str()))
    );
    let okta_groups = all(client
        .groups()
        .list()
        .filter(r#"type eq "OKTA_GROUP""#)
        .stream())
    .await;
    let expected = groups.iter().filter(|g| {
        g.group_type
            .get()
            .is_some_and(|t| t.as_str() == "OKTA_GROUP")
    });
    assert_eq!(
        ids(okta_groups.iter().map(|g| g.id.as_str())),
        ids(expected.map(|g| g.id.as_str()))
    );
    let by_search = all(client
        .groups()
        .list()
        .search(format!(r#"profile.name eq "{name}""#))
        .stream())
    .await;
    assert_eq!(
        by_search.iter().map(|g| g.name()).collect::<Vec<_>>(),
        [Some(name)]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn apps_and_app_users() {
    let (server, client) = org().await;
    let apps = all(client.apps().list().limit(2).stream()).await;
    // An app's users are its direct assignments and the members of its assigned groups.
    let (app_count, app_id, direct, assigned) = {
        let sim = server.sim();
        let org = sim.org.read();
        let (app_id, users) = org.app_users.iter().max_by_key(|(_, u)| u.len()).unwrap();
        let direct = ids(users.keys().map(String::as_str));
        let via_groups = org
            .app_groups
            .get(app_id)
            .into_iter()
            .flat_map(|g| g.keys());
        let members = via_groups.flat_map(|g| org.members.get(g).into_iter().flatten());
        let assigned = direct
            .iter()
            .cloned()
            .chain(members.cloned())
            .collect::<BTreeSet<_>>();
        (org.apps.len(), app_id.clone(), direct, assigned)
    };
    assert_eq!(apps.len(), app_count);
    assert!(!direct.is_empty());

    let app = client.apps().get(&app_id).await.unwrap();
    assert_eq!(app.id, app_id);
    assert!(app.label.get().is_some() && app.sign_on_mode.get().is_some());
    let app_users = all(client.apps().users(&app_id).limit(2).stream()).await;
    assert_eq!(ids(app_users.iter().map(|u| u.id.as_str())), assigned);
    let scoped_user = app_users
        .iter()
        .filter(|u| u.scope.as_deref() == Some("USER"));
    assert_eq!(ids(scoped_user.map(|u| u.id.as_str())), direct);

    let label = app.label.as_deref().unwrap();
    let by_q = all(client.apps().list().q(label).stream()).await;
    assert!(by_q.iter().any(|a| a.id == app_id));
    let active = all(client
        .apps()
        .list()
        .filter(r#"status eq "ACTIVE""#)
        .stream())
    .await;
    let expected = apps
        .iter()
        .filter(|a| a.status.get().is_some_and(|s| s.as_str() == "ACTIVE"));
    assert_eq!(
        ids(active.iter().map(|a| a.id.as_str())),
        ids(expected.map(|a| a.id.as_str()))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn user_schema_and_user_types() {
    let (server, client) = org().await;
    let schema = client.schemas().default_user().await.unwrap();
    let custom: Vec<&str> = schema.custom_attributes().map(|(name, _)| name).collect();
    for name in [
        "employeeId",
        "clearanceLevel",
        "isContractor",
        "region",
        "skills",
        "startDate",
    ] {
        assert!(custom.contains(&name), "{name} missing from {custom:?}");
    }
    let employee_id = schema.attribute("employeeId").unwrap();
    assert!(employee_id.unique.get().is_some_and(Unique::is_unique));
    assert_eq!(
        schema
            .attribute("clearanceLevel")
            .unwrap()
            .maximum
            .get()
            .and_then(|m| m.as_u64()),
        Some(5)
    );
    assert_eq!(
        schema
            .attribute("region")
            .unwrap()
            .enum_values
            .get()
            .map(Vec::len),
        Some(3)
    );
    assert!(schema.attribute("login").unwrap().required.get() == Some(&true));

    let types = all(client.user_types().list()).await;
    let expected = server.sim().org.read().user_types.len();
    assert_eq!(types.len(), expected);
    let default = types
        .iter()
        .find(|t| t.default.get() == Some(&true))
        .expect("a default type");
    assert_eq!(
        &client.user_types().get(&default.id).await.unwrap(),
        default
    );
    server.shutdown().await;
}

#[tokio::test]
async fn log_search_is_bounded_and_exact() {
    let (server, client) = org().await;
    let now = server.sim().clock.now_ms();
    // A full bounded read over the seeded history (30 days before start).
    let full: Vec<LogEvent> = all(client
        .logs()
        .search()
        .since(iso_ms(now - 31 * 86_400_000))
        .until(iso_ms(now + 60_000))
        .limit(1000)
        .stream())
    .await;
    assert!(full.len() >= 400, "only {} events", full.len());
    let ms = |e: &LogEvent| {
        e.published
            .get()
            .and_then(|t| t.parse())
            .unwrap()
            .unix_timestamp_nanos()
            / 1_000_000
    };
    assert!(
        full.windows(2).all(|w| ms(&w[0]) <= ms(&w[1])),
        "not ascending"
    );

    // A window in the middle, one event type: exactly the events a filter over the full read keeps.
    let (since, until) = (
        ms(&full[full.len() / 4]) as i64,
        ms(&full[3 * full.len() / 4]) as i64,
    );
    let in_window = |e: &&LogEvent| (since..until).contains(&(ms(e) as i64));
    let event_type = full
        .iter()
        .filter(in_window)
        .map(|e| e.event_type.clone())
        .max_by_key(|t| {
            full.iter()
                .filter(in_window)
                .filter(|e| &e.event_type == t)
                .count()
        });
    let event_type = event_type.unwrap();
    let search = client
        .logs()
        .search()
        .since(iso_ms(since))
        .until(iso_ms(until))
        .filter(format!(r#"eventType eq "{event_type}""#))
        .limit(7);
    let found: Vec<LogEvent> = all(search.clone().stream()).await;
    let expected: Vec<&LogEvent> = full
        .iter()
        .filter(in_window)
        .filter(|e| e.event_type == event_type)
        .collect();
    assert!(expected.len() > 7, "the window should span pages");
    assert_eq!(
        found.iter().map(LogEvent::uuid).collect::<Vec<_>>(),
        expected.iter().map(|e| e.uuid()).collect::<Vec<_>>()
    );

    // Descending gives the same events in reverse.
    let descending: Vec<LogEvent> = all(search.sort_order(SortOrder::Descending).stream()).await;
    let mut reversed: Vec<_> = descending.iter().map(LogEvent::uuid).collect();
    reversed.reverse();
    assert_eq!(
        reversed,
        found.iter().map(LogEvent::uuid).collect::<Vec<_>>()
    );

    // q: every hit mentions the keyword.
    let keyword = expected[0]
        .actor
        .get()
        .unwrap()
        .alternate_id
        .as_deref()
        .unwrap()
        .to_string();
    let by_q: Vec<LogEvent> = all(client
        .logs()
        .search()
        .since(iso_ms(since))
        .until(iso_ms(until))
        .q(&keyword)
        .stream())
    .await;
    assert!(!by_q.is_empty());
    assert!(by_q.iter().all(|e| {
        serde_json::to_string(e)
            .unwrap()
            .to_lowercase()
            .contains(&keyword.to_lowercase())
    }));
    server.shutdown().await;
}

#[tokio::test]
async fn log_search_without_until_still_ends() {
    let (server, client) = org().await;
    // No `until` given: the builder sends one (now), so this is a bounded read that ends, not an
    // endless poll.
    let search = client
        .logs()
        .search()
        .since(iso_ms(server.sim().clock.now_ms() - 86_400_000))
        .limit(50);
    assert!(
        search
            .query()
            .0
            .iter()
            .any(|(k, v)| k == "until" && !v.is_empty())
    );
    let events: Vec<LogEvent> = all(search.stream()).await;
    assert!(!events.is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn custom_api_calls() {
    let (server, client) = org().await;
    let users: Vec<Value> = all(client
        .custom(Method::GET, "/api/v1/users")
        .param("limit", 13)
        .stream())
    .await;
    assert_eq!(users.len(), listed_users(&client).await.len());

    let first_page = client
        .custom(Method::GET, "/api/v1/users")
        .query(Query::new().push("limit", 13))
        .send()
        .await
        .unwrap();
    assert_eq!(first_page.as_array().map(Vec::len), Some(13));

    let created = client
        .custom(Method::POST, "/api/v1/groups")
        .body(json!({"profile": {"name": "Custom call group", "description": "made by a test"}}))
        .send()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let group = client.groups().get(id).await.unwrap();
    assert_eq!(group.name(), Some("Custom call group"));
    assert!(server.sim().org.read().groups.contains_key(id));

    for bad in [
        "https://evil.example.com/api/v1/users",
        "/api/v1/../oauth2/v1/token",
        "/api/v1/users/%2E%2E/%2E%2E/oauth2/v1/keys",
        "/oauth2/v1/token",
    ] {
        let error = client.custom(Method::GET, bad).send().await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::Invalid, "{bad}");
        let error = client
            .custom(Method::GET, bad)
            .stream()
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Invalid, "{bad}");
    }
    let error = client
        .custom(Method::GET, "/api/v1/users/00uNOPE0000000000001")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (error.status(), error.error_code()),
        (Some(404), Some("E0000007"))
    );
    server.shutdown().await;
}

/// A transport that records each request and answers 204: the exact wire form of the lifecycle
/// calls (the simulator accepts but does not distinguish `Prefer: respond-async`).
struct Capture(std::sync::Mutex<Vec<(String, String, Option<String>)>>);

impl okta_client::Transport for Capture {
    fn send(
        &self,
        request: okta_client::transport::Request,
    ) -> okta_client::transport::TransportFuture<'_> {
        let prefer = request
            .headers
            .get("prefer")
            .map(|v| v.to_str().unwrap().to_string());
        let target = format!(
            "{}{}",
            request.url.path(),
            request
                .url
                .query()
                .map(|q| format!("?{q}"))
                .unwrap_or_default()
        );
        self.0
            .lock()
            .unwrap()
            .push((request.method.to_string(), target, prefer));
        Box::pin(async {
            Ok(okta_client::transport::Response {
                status: reqwest::StatusCode::NO_CONTENT,
                headers: Default::default(),
                body: Default::default(),
            })
        })
    }
}

#[tokio::test]
async fn lifecycle_calls_on_the_wire() {
    let capture = std::sync::Arc::new(Capture(Default::default()));
    let client = Client::with_transport(
        crate::common::config_for("https://acme.okta.com", "t0k"),
        capture.clone(),
    );
    let users = client.users();
    users.deactivate("a@b.c", false, true).await.unwrap();
    users.delete("00u1", true, false).await.unwrap();
    // An empty answer (204, or an async 202) is the empty token, not a decode error.
    let token = users.activate("00u1", true).await.unwrap();
    assert!(token.activation_url.is_none());
    users.clear_sessions("00u1", true).await.unwrap();
    client.groups().add_member("00g1", "00u1").await.unwrap();
    client
        .apps()
        .unassign_user("0oa1", "00u1", false)
        .await
        .unwrap();
    let seen = capture.0.lock().unwrap().clone();
    let expect =
        |m: &str, t: &str, p: Option<&str>| (m.to_string(), t.to_string(), p.map(str::to_string));
    assert_eq!(
        seen,
        vec![
            expect(
                "POST",
                "/api/v1/users/a%40b.c/lifecycle/deactivate?sendEmail=false",
                Some("respond-async")
            ),
            expect("DELETE", "/api/v1/users/00u1?sendEmail=true", None),
            expect(
                "POST",
                "/api/v1/users/00u1/lifecycle/activate?sendEmail=true",
                None
            ),
            expect(
                "DELETE",
                "/api/v1/users/00u1/sessions?oauthTokens=true",
                None
            ),
            expect("PUT", "/api/v1/groups/00g1/users/00u1", None),
            expect(
                "DELETE",
                "/api/v1/apps/0oa1/users/00u1?sendEmail=false",
                None
            ),
        ]
    );
}

#[tokio::test]
async fn lifecycle_against_the_simulator() {
    let (server, client) = org().await;
    let users = client.users();
    let body = json!({
        "profile": {"login": "cl1@example.com", "email": "cl1@example.com", "firstName": "C",
                    "lastName": "L", "employeeId": "E777001"},
        "credentials": {"password": {"value": "Xyzzy-Plugh-42"}},
    });
    let options = okta_client::api::CreateUser {
        activate: Some(false),
        ..Default::default()
    };
    let user = users.create(&body, &options).await.unwrap();
    assert_eq!(user.status, Nullable::Value(UserStatus::Staged));
    let token = users.activate("cl1@example.com", false).await.unwrap();
    assert!(token.activation_token.is_some());
    // The token never shows in Debug.
    assert!(!format!("{token:?}").contains(token.activation_token.as_deref().unwrap()));
    let status = |id: &str| server.sim().org.read().users[id].status;
    assert_eq!(status(&user.id), SimStatus::Active);
    users.suspend(&user.id).await.unwrap();
    assert_eq!(status(&user.id), SimStatus::Suspended);
    users.unsuspend(&user.id).await.unwrap();
    let temp = users
        .expire_password_with_temp_password(&user.id, false)
        .await
        .unwrap();
    assert_eq!(format!("{temp:?}"), "TempPassword(<redacted>)");
    assert_eq!(status(&user.id), SimStatus::PasswordExpired);
    let updated = users
        .update(&user.id, &json!({"profile": {"title": "Eng"}}), None)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&updated.profile).unwrap()["title"],
        "Eng"
    );
    // Okta's two-step delete.
    users.delete(&user.id, false, false).await.unwrap();
    assert_eq!(status(&user.id), SimStatus::Deprovisioned);
    users.delete(&user.id, false, false).await.unwrap();
    assert!(!server.sim().org.read().users.contains_key(&user.id));
    server.shutdown().await;
}
