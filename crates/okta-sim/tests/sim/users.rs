//! `/api/v1/users`: listing (pagination, q, filter, search, sort), reads, create, update, delete,
//! the lifecycle status machine, and the System Log events each mutation writes.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};

use okta_sim::state::UserStatus;
use serde_json::{Value, json};

use crate::support::{Resp, TestOrg};

/// The System Log as `(eventType, first target id)` in persistence order. Read directly from the
/// store (the logs route is rewritten elsewhere); kept here so a signature change touches one place.
fn events(org: &TestOrg) -> Vec<(String, String)> {
    org.sim().logs.with_events(|evs| {
        evs.iter()
            .map(|e| {
                let target = e.targets.first().map(|t| t.id.clone()).unwrap_or_default();
                (e.event_type.to_string(), target)
            })
            .collect()
    })
}

/// Events written after the first `since` ones.
fn events_since(org: &TestOrg, since: usize) -> Vec<(String, String)> {
    events(org).split_off(since)
}

static NEXT: AtomicU32 = AtomicU32::new(1);

/// A profile that passes the seeded schema (which requires a unique `employeeId`).
fn profile(first: &str, last: &str) -> Value {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let login = format!(
        "{}.{}{n}@example.com",
        first.to_lowercase(),
        last.to_lowercase()
    );
    json!({"firstName": first, "lastName": last, "email": login, "login": login,
           "employeeId": format!("E9{n:05}")})
}

async fn create(org: &TestOrg, query: &str, body: Value) -> Resp {
    org.post(&format!("/api/v1/users{query}"), body).await
}

/// Creates a user and returns its id (asserting success).
async fn create_ok(org: &TestOrg, query: &str, body: Value) -> String {
    let r = create(org, query, body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["id"].as_str().expect("id").to_string()
}

fn with_password(p: Value) -> Value {
    json!({"profile": p, "credentials": {"password": {"value": "Tr0ub4dor&3xyz"}}})
}

fn set_status(org: &TestOrg, id: &str, status: UserStatus) {
    org.sim()
        .org
        .write()
        .users
        .get_mut(id)
        .expect("user")
        .status = status;
}

fn status_of(org: &TestOrg, id: &str) -> Option<UserStatus> {
    org.sim().org.read().users.get(id).map(|u| u.status)
}

fn causes(r: &Resp) -> Vec<String> {
    r.body["errorCauses"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["errorSummary"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ------------------------------------------------------------------------------------------
// Listing
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn pagination_visits_every_visible_user_once() {
    let org = TestOrg::start().await;
    let expected: BTreeSet<String> = org
        .sim()
        .org
        .read()
        .users
        .values()
        .filter(|u| u.status != UserStatus::Deprovisioned)
        .map(|u| u.id.clone())
        .collect();
    let first = org.get("/api/v1/users?limit=7").await;
    assert_eq!(first.status, 200);
    let next = first.next_link().expect("a next link");
    assert!(
        next.contains("limit=7") && next.contains("after=0"),
        "{next}"
    );

    let all = ids(&org.collect("/api/v1/users?limit=7", 100).await);
    let unique: BTreeSet<String> = all.iter().cloned().collect();
    assert_eq!(unique.len(), all.len(), "duplicates across pages");
    assert_eq!(unique, expected);
}

#[tokio::test]
async fn limits_default_to_200_and_clamp_to_200() {
    let org = TestOrg::start().await;
    for i in 0..160 {
        let p = profile(&format!("Bulk{i}"), "Loader");
        create_ok(&org, "?activate=false", json!({"profile": p})).await;
    }
    let visible = org
        .sim()
        .org
        .read()
        .users
        .values()
        .filter(|u| u.status != UserStatus::Deprovisioned)
        .count();
    assert!(visible > 200);
    for url in ["/api/v1/users", "/api/v1/users?limit=500"] {
        let r = org.get(url).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body.as_array().unwrap().len(), 200, "{url}");
        assert!(r.next_link().is_some(), "{url}");
    }
    let r = org.get("/api/v1/users?limit=abc").await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000001")));
}

#[tokio::test]
async fn a_made_up_cursor_is_refused() {
    let org = TestOrg::start().await;
    let r = org.get("/api/v1/users?after=not-a-cursor").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), Some("E0000029"));
    assert_eq!(causes(&r), ["Invalid cursor."]);
}

#[tokio::test]
async fn deprovisioned_users_show_only_with_filter_or_search() {
    let org = TestOrg::start().await;
    let id = create_ok(
        &org,
        "?activate=false",
        json!({"profile": profile("Dora", "Gone")}),
    )
    .await;
    set_status(&org, &id, UserStatus::Deprovisioned);
    let listed = ids(&org.collect("/api/v1/users", 10).await);
    assert!(!listed.contains(&id));
    let filtered = org
        .get("/api/v1/users?filter=status%20eq%20%22DEPROVISIONED%22")
        .await;
    assert!(ids(filtered.body.as_array().unwrap()).contains(&id));
    let searched = org
        .get(&format!("/api/v1/users?search=id%20eq%20%22{id}%22"))
        .await;
    assert_eq!(ids(searched.body.as_array().unwrap()), vec![id.clone()]);
    let q = org.get("/api/v1/users?q=dora").await;
    assert!(!ids(q.body.as_array().unwrap()).contains(&id));
}

#[tokio::test]
async fn q_is_a_prefix_match_with_default_limit_10_and_no_pagination() {
    let org = TestOrg::start().await;
    for i in 0..12 {
        create_ok(
            &org,
            "?activate=false",
            json!({"profile": profile(&format!("Qx{i}"), "Zyzzyva")}),
        )
        .await;
    }
    let r = org.get("/api/v1/users?q=zyzz").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_array().unwrap().len(), 10);
    assert!(r.next_link().is_none());
    let r = org.get("/api/v1/users?q=ZYZZ&limit=50").await;
    let found = r.body.as_array().unwrap();
    assert_eq!(found.len(), 12);
    assert!(found.iter().all(|u| u["profile"]["lastName"] == "Zyzzyva"));
    // Prefix, not substring.
    let r = org.get("/api/v1/users?q=yzzyva").await;
    assert!(r.body.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn filter_matches_the_state_and_is_case_sensitive() {
    let org = TestOrg::start().await;
    let expected = org
        .sim()
        .org
        .read()
        .users
        .values()
        .filter(|u| u.status == UserStatus::Active)
        .count();
    let got = org
        .collect("/api/v1/users?filter=status+eq+%22ACTIVE%22&limit=13", 50)
        .await;
    assert_eq!(got.len(), expected);
    assert!(got.iter().all(|u| u["status"] == "ACTIVE"));
    let none = org.get("/api/v1/users?filter=status+eq+%22active%22").await;
    assert_eq!(none.body.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn search_reaches_custom_attributes_and_arrays() {
    let org = TestOrg::start().await;
    let (emea, high, rust) = {
        let o = org.sim().org.read();
        let p = |u: &okta_sim::state::User, k: &str| {
            u.profile.get(k).map_or(Value::Null, |v| v.to_value())
        };
        (
            o.users
                .values()
                .filter(|u| p(u, "region") == "EMEA")
                .count(),
            o.users
                .values()
                .filter(|u| p(u, "clearanceLevel").as_i64().is_some_and(|n| n >= 3))
                .count(),
            o.users
                .values()
                .filter(|u| {
                    p(u, "skills")
                        .as_array()
                        .is_some_and(|a| a.contains(&json!("rust")))
                })
                .count(),
        )
    };
    assert!(emea > 0 && high > 0 && rust > 0);
    let get = |s: &str| {
        let url = format!(
            "/api/v1/users?search={}&limit=9",
            s.replace(' ', "%20").replace('"', "%22")
        );
        let org = &org;
        async move { org.collect(&url, 50).await.len() }
    };
    assert_eq!(get(r#"profile.region eq "emea""#).await, emea);
    assert_eq!(get(r#"profile.clearanceLevel ge 3"#).await, high);
    assert_eq!(get(r#"profile.skills eq "rust""#).await, rust);
}

#[tokio::test]
async fn search_sorts_on_any_attribute_across_pages() {
    let org = TestOrg::start().await;
    let url = "/api/v1/users?search=status%20pr&sortBy=profile.lastName&sortOrder=desc&limit=8";
    let users = org.collect(url, 50).await;
    let total = org.sim().org.read().users.len();
    assert_eq!(users.len(), total);
    let unique: BTreeSet<String> = ids(&users).into_iter().collect();
    assert_eq!(unique.len(), total);
    let names: Vec<String> = users
        .iter()
        .map(|u| u["profile"]["lastName"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(names, sorted);
    // Ascending by a number.
    let users = org
        .collect(
            "/api/v1/users?search=status%20pr&sortBy=profile.clearanceLevel",
            5,
        )
        .await;
    let levels: Vec<i64> = users
        .iter()
        .filter_map(|u| u["profile"]["clearanceLevel"].as_i64())
        .collect();
    assert!(levels.windows(2).all(|w| w[0] <= w[1]), "{levels:?}");
}

#[tokio::test]
async fn bad_expressions_are_e0000031_with_the_parser_message() {
    let org = TestOrg::start().await;
    for url in [
        "/api/v1/users?filter=status%20eqq%20%22ACTIVE%22",
        "/api/v1/users?filter=profile.department%20eq%20%22IT%22",
        "/api/v1/users?search=status%20ne%20%22ACTIVE%22",
        "/api/v1/users?search=(status%20eq%20%22ACTIVE%22",
    ] {
        let r = org.get(url).await;
        assert_eq!(r.status, 400, "{url}");
        assert_eq!(r.error_code(), Some("E0000031"), "{url}");
        assert_eq!(r.body["errorSummary"], "Invalid search criteria.");
        let c = causes(&r);
        assert_eq!(c.len(), 1, "{url}");
        assert!(!c[0].is_empty());
    }
}

// ------------------------------------------------------------------------------------------
// Reading
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn get_by_id_login_short_name_and_me() {
    let org = TestOrg::start().await;
    let p = profile("Gina", "Getter");
    let login = p["login"].as_str().unwrap().to_string();
    let id = create_ok(&org, "?activate=false", json!({"profile": p})).await;
    for key in [
        id.clone(),
        login.clone(),
        login.split('@').next().unwrap().to_string(),
    ] {
        let r = org.get(&format!("/api/v1/users/{key}")).await;
        assert_eq!(r.status, 200, "{key}");
        assert_eq!(r.body["id"], id.as_str());
    }
    let me = org.get("/api/v1/users/me").await;
    assert_eq!(me.body["id"], org.sim().admin.id.as_str());
    let missing = org.get("/api/v1/users/00uNOPE").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error_code(), Some("E0000007"));
    assert_eq!(
        missing.body["errorSummary"],
        "Not found: Resource not found: 00uNOPE (User)"
    );
}

#[tokio::test]
async fn user_json_has_the_recorded_keys_and_no_secrets() {
    let org = TestOrg::start().await;
    let body = json!({"profile": profile("Kay", "Keys"),
        "credentials": {"password": {"value": "Tr0ub4dor&3xyz"},
                        "recovery_question": {"question": "Favourite colour?", "answer": "ultramarine"}}});
    let id = create_ok(&org, "", body).await;
    let r = org.get(&format!("/api/v1/users/{id}")).await;
    let u = &r.body;
    assert_eq!(
        keys(u),
        set(&[
            "id",
            "status",
            "created",
            "activated",
            "statusChanged",
            "lastLogin",
            "lastUpdated",
            "passwordChanged",
            "realmId",
            "type",
            "profile",
            "credentials",
            "_links"
        ])
    );
    // One realm per org, in Okta's id form (`guo…`, 20 characters, as recorded).
    let realm = u["realmId"].as_str().unwrap();
    assert!(realm.starts_with("guo") && realm.len() == 20, "{realm}");
    assert_eq!(realm, org.sim().org.read().realm_id);
    assert_eq!(
        keys(&u["credentials"]),
        set(&["password", "emails", "recovery_question", "provider"])
    );
    assert_eq!(u["credentials"]["password"], json!({}));
    assert_eq!(
        u["credentials"]["recovery_question"],
        json!({"question": "Favourite colour?"})
    );
    assert!(!r.text.contains("Tr0ub4dor") && !r.text.contains("ultramarine"));
    assert_eq!(u["profile"]["mobilePhone"], Value::Null);
    assert_eq!(u["profile"]["secondEmail"], Value::Null);
    // The recorded link relations of an ACTIVE user.
    assert_eq!(
        keys(&u["_links"]),
        set(&[
            "suspend",
            "schema",
            "resetPassword",
            "forgotPassword",
            "expirePassword",
            "changeRecoveryQuestion",
            "self",
            "resetFactors",
            "type",
            "changePassword",
            "deactivate"
        ])
    );
    // In lists, only `self`.
    let listed = org
        .get(&format!("/api/v1/users?search=id%20eq%20%22{id}%22"))
        .await;
    assert_eq!(keys(&listed.body[0]["_links"]), set(&["self"]));
}

#[tokio::test]
async fn links_follow_the_status() {
    let org = TestOrg::start().await;
    let id = create_ok(
        &org,
        "?activate=false",
        with_password(profile("Lin", "Links")),
    )
    .await;
    let links = |r: &Resp| keys(&r.body["_links"]);
    let r = org.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(
        links(&r),
        set(&["schema", "activate", "self", "resetFactors", "type"])
    );
    set_status(&org, &id, UserStatus::Suspended);
    let r = org.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(
        links(&r),
        set(&[
            "schema",
            "unsuspend",
            "self",
            "resetFactors",
            "type",
            "deactivate"
        ])
    );
    set_status(&org, &id, UserStatus::LockedOut);
    let r = org.get(&format!("/api/v1/users/{id}")).await;
    assert!(links(&r).contains("unlock"));
    let schema = r.body["_links"]["schema"]["href"].as_str().unwrap();
    assert!(schema.contains("/api/v1/meta/schemas/user/osc"), "{schema}");
}

#[tokio::test]
async fn user_groups_include_everyone() {
    let org = TestOrg::start().await;
    let (everyone, dept) = {
        let o = org.sim().org.read();
        let dept = o
            .groups
            .values()
            .find(|g| g.name() == "Legal")
            .unwrap()
            .id
            .clone();
        (o.everyone_group_id.clone(), dept)
    };
    let mut body = json!({"profile": profile("Gus", "Groups")});
    body["groupIds"] = json!([dept]);
    let id = create_ok(&org, "?activate=false", body).await;
    let r = org.get(&format!("/api/v1/users/{id}/groups")).await;
    assert_eq!(r.status, 200);
    let got: BTreeSet<String> = ids(r.body.as_array().unwrap()).into_iter().collect();
    assert_eq!(got, [everyone, dept].into_iter().collect());
    assert_eq!(org.get("/api/v1/users/00uNOPE/groups").await.status, 404);
}

// ------------------------------------------------------------------------------------------
// Create
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_statuses_follow_activate_password_and_provider() {
    let org = TestOrg::start().await;
    let cases = [
        (
            "?activate=false",
            with_password(profile("A", "Staged")),
            "STAGED",
            "OKTA",
        ),
        (
            "?activate=false",
            json!({"profile": profile("B", "Staged")}),
            "STAGED",
            "OKTA",
        ),
        ("", with_password(profile("C", "Active")), "ACTIVE", "OKTA"),
        (
            "?activate=true",
            json!({"profile": profile("D", "Prov")}),
            "PROVISIONED",
            "OKTA",
        ),
        (
            "?provider=true",
            json!({"profile": profile("E", "Fed")}),
            "ACTIVE",
            "FEDERATION",
        ),
        (
            "?nextLogin=changePassword",
            with_password(profile("F", "Exp")),
            "PASSWORD_EXPIRED",
            "OKTA",
        ),
    ];
    for (query, body, status, provider) in cases {
        let r = create(&org, query, body).await;
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        assert_eq!(r.body["status"], status, "{query}");
        assert_eq!(
            r.body["credentials"]["provider"]["type"], provider,
            "{query}"
        );
        let activated = r.body["activated"].is_string();
        assert_eq!(
            activated,
            matches!(status, "ACTIVE" | "PASSWORD_EXPIRED"),
            "{query}"
        );
        let everyone = org.sim().org.read().everyone_group_id.clone();
        let id = r.body["id"].as_str().unwrap();
        assert!(org.sim().org.read().members[&everyone].contains(id));
    }
}

#[tokio::test]
async fn create_refuses_expire_without_activation_or_password() {
    let org = TestOrg::start().await;
    let r = create(
        &org,
        "?activate=false&nextLogin=changePassword",
        with_password(profile("N", "L")),
    )
    .await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000125")));
    let r = create(
        &org,
        "?nextLogin=changePassword",
        json!({"profile": profile("N", "L")}),
    )
    .await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000124")));
}

#[tokio::test]
async fn create_writes_create_activate_and_membership_events() {
    let org = TestOrg::start().await;
    let dept = org
        .sim()
        .org
        .read()
        .groups
        .values()
        .find(|g| g.name() == "Sales")
        .unwrap()
        .id
        .clone();
    let before = events(&org).len();
    let mut body = with_password(profile("Eve", "Events"));
    body["groupIds"] = json!([dept]);
    let r = create(&org, "", body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let got = events_since(&org, before);
    // The events carry the request's id, as Okta's debugContext does.
    let request_id = r
        .header("x-okta-request-id")
        .expect("request id")
        .to_string();
    let meta = &org.sim().logs.meta;
    let logged_ids: Vec<String> = org.sim().logs.with_events(|evs| {
        evs[before..]
            .iter()
            .map(|e| e.to_value(meta)["debugContext"]["debugData"]["requestId"].to_string())
            .map(|id| id.trim_matches('"').to_string())
            .collect()
    });
    assert!(
        logged_ids.iter().all(|r| *r == request_id),
        "{logged_ids:?} vs {request_id}"
    );
    let types: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "user.lifecycle.create",
            "user.lifecycle.activate",
            "group.user_membership.add"
        ]
    );
    assert!(got.iter().all(|(_, target)| *target == id));
    let alt = org
        .sim()
        .logs
        .with_events(|evs| evs.last().unwrap().targets[0].alternate_id.clone());
    assert!(alt.starts_with("eve.events"), "{alt}");
}

#[tokio::test]
async fn validation_names_every_bad_field() {
    let org = TestOrg::start().await;
    let r = create(&org, "", json!({"profile": {"crap": "bad"}})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), Some("E0000001"));
    assert_eq!(r.body["errorSummary"], "Api validation failed: login");
    assert_eq!(
        causes(&r),
        [
            "login: The field cannot be left blank",
            "firstName: The field cannot be left blank",
            "lastName: The field cannot be left blank",
            "email: The field cannot be left blank",
            "employeeId: The field cannot be left blank",
        ]
    );

    let mut p = profile("Val", "Idation");
    p["email"] = json!("not-an-email");
    p["employeeId"] = json!("X123");
    p["clearanceLevel"] = json!(42);
    p["region"] = json!("MARS");
    p["isContractor"] = json!("yes");
    p["firstName"] = json!("x".repeat(51));
    let r = create(&org, "", json!({"profile": p})).await;
    assert_eq!(r.status, 400);
    let fields: Vec<String> = causes(&r)
        .iter()
        .map(|c| c.split(':').next().unwrap().to_string())
        .collect();
    assert_eq!(
        fields,
        [
            "firstName",
            "email",
            "employeeId",
            "clearanceLevel",
            "isContractor",
            "region"
        ]
    );
    assert_eq!(r.body["errorSummary"], "Api validation failed: firstName");

    // An attribute the schema doesn't define, on an otherwise valid profile.
    let mut p = profile("Un", "Known");
    p["favouriteColour"] = json!("blue");
    let r = create(&org, "", json!({"profile": p})).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["errorSummary"],
        "Api validation failed: favouriteColour"
    );
}

#[tokio::test]
async fn duplicate_login_and_unique_attributes_are_refused() {
    let org = TestOrg::start().await;
    let p = profile("Dup", "Licate");
    create_ok(&org, "?activate=false", json!({"profile": p.clone()})).await;
    let mut again = profile("Dup", "Other");
    again["login"] = json!(p["login"].as_str().unwrap().to_uppercase());
    let r = create(&org, "", json!({"profile": again})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errorSummary"], "Api validation failed: login");
    assert_eq!(
        causes(&r),
        ["login: An object with this field already exists in the current organization"]
    );
    let mut same_emp = profile("Emp", "Dup");
    same_emp["employeeId"] = p["employeeId"].clone();
    let r = create(&org, "", json!({"profile": same_emp})).await;
    assert_eq!(
        causes(&r),
        ["employeeId: An object with this field already exists in the current organization"]
    );
}

#[tokio::test]
async fn weak_passwords_are_refused() {
    let org = TestOrg::start().await;
    for pw in ["short1A", "alllowercase1", "NoDigitsHere", "MyExample123X"] {
        let p = profile("Pass", "Licate");
        let r = create(
            &org,
            "",
            json!({"profile": p, "credentials": {"password": {"value": pw}}}),
        )
        .await;
        assert_eq!(r.status, 400, "{pw}");
        assert_eq!(
            r.body["errorSummary"], "Api validation failed: password",
            "{pw}"
        );
    }
}

// ------------------------------------------------------------------------------------------
// Update
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn post_merges_and_put_replaces() {
    let org = TestOrg::start().await;
    let mut p = profile("Upd", "Ate");
    p["nickName"] = json!("Uppy");
    p["title"] = json!("Engineer");
    let id = create_ok(&org, "?activate=false", json!({"profile": p.clone()})).await;
    let before = events(&org).len();

    let r = org
        .post(
            &format!("/api/v1/users/{id}"),
            json!({"profile": {"nickName": "U", "title": null}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["profile"]["nickName"], "U");
    assert_eq!(r.body["profile"]["firstName"], "Upd");
    assert!(r.body["profile"].get("title").is_none());
    assert_eq!(
        events_since(&org, before),
        [("user.account.update_profile".to_string(), id.clone())]
    );

    let mut replacement = p.clone();
    replacement.as_object_mut().unwrap().remove("nickName");
    replacement["firstName"] = json!("Replaced");
    let r = org
        .put(
            &format!("/api/v1/users/{id}"),
            json!({"profile": replacement}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["profile"]["firstName"], "Replaced");
    assert!(r.body["profile"].get("nickName").is_none());

    // PUT without a required property.
    let r = org
        .put(
            &format!("/api/v1/users/{id}"),
            json!({"profile": {"login": p["login"], "email": p["email"]}}),
        )
        .await;
    assert_eq!(r.status, 400);
    let c = causes(&r);
    assert!(
        c.contains(&"firstName: The field cannot be left blank".to_string()),
        "{c:?}"
    );
    // POST with a bad value leaves the user as it was.
    let r = org
        .post(
            &format!("/api/v1/users/{id}"),
            json!({"profile": {"clearanceLevel": "high"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        org.get(&format!("/api/v1/users/{id}")).await.body["profile"]["firstName"],
        "Replaced"
    );
}

#[tokio::test]
async fn password_change_is_logged_and_strict_refuses_the_same_password() {
    let org = TestOrg::start().await;
    let id = create_ok(&org, "", with_password(profile("Pat", "Word"))).await;
    let before = events(&org).len();
    let r = org
        .post(
            &format!("/api/v1/users/{id}"),
            json!({"credentials": {"password": {"value": "N3wPassw0rdZ"}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        events_since(&org, before),
        [("user.account.update_password".to_string(), id.clone())]
    );
    let r = org
        .post(
            &format!("/api/v1/users/{id}?strict=true"),
            json!({"credentials": {"password": {"value": "N3wPassw0rdZ"}}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errorSummary"], "Api validation failed: password");
    assert_eq!(
        causes(&r),
        ["password: Password has been used too recently"]
    );
    // Without `strict` the history rule doesn't apply.
    let r = org
        .post(
            &format!("/api/v1/users/{id}"),
            json!({"credentials": {"password": {"value": "N3wPassw0rdZ"}}}),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn login_changes_move_the_login_index() {
    let org = TestOrg::start().await;
    let id = create_ok(
        &org,
        "?activate=false",
        json!({"profile": profile("Lo", "Gin")}),
    )
    .await;
    let r = org
        .post(
            &format!("/api/v1/users/{id}"),
            json!({"profile": {"login": "renamed.user@example.com"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        org.get("/api/v1/users/renamed.user@example.com").await.body["id"],
        id.as_str()
    );
}

// ------------------------------------------------------------------------------------------
// Delete
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn delete_deactivates_first_and_deletes_second() {
    let org = TestOrg::start().await;
    let id = create_ok(&org, "", with_password(profile("Del", "Ete"))).await;
    let before = events(&org).len();
    let r = org.delete(&format!("/api/v1/users/{id}")).await;
    assert_eq!(r.status, 204);
    assert_eq!(status_of(&org, &id), Some(UserStatus::Deprovisioned));
    let r = org
        .delete(&format!("/api/v1/users/{id}?sendEmail=false"))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(status_of(&org, &id), None);
    assert_eq!(org.get(&format!("/api/v1/users/{id}")).await.status, 404);
    assert_eq!(org.delete(&format!("/api/v1/users/{id}")).await.status, 404);
    let types: Vec<String> = events_since(&org, before)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(
        types,
        [
            "user.lifecycle.deactivate",
            "user.lifecycle.delete.initiated",
            "user.lifecycle.delete.completed"
        ]
    );
    let everyone = org.sim().org.read().everyone_group_id.clone();
    assert!(!org.sim().org.read().members[&everyone].contains(&id));
}

// ------------------------------------------------------------------------------------------
// Lifecycle
// ------------------------------------------------------------------------------------------

/// What Okta answers each operation from each status: `Ok(new status)` or `Err(error code)`.
/// Written out independently of the simulator's code, from the spec and the recordings.
fn expected(op: &str, from: UserStatus, has_password: bool) -> Result<UserStatus, &'static str> {
    use UserStatus::*;
    let active_like = matches!(from, Active | PasswordExpired | LockedOut | Recovery);
    match op {
        "activate" => match from {
            Staged | Deprovisioned => Ok(if has_password { Active } else { Provisioned }),
            Active => Err("E0000016"),
            _ => Err("E0000038"),
        },
        "deactivate" if from != Deprovisioned => Ok(Deprovisioned),
        "reactivate" if matches!(from, Provisioned | Recovery) => Ok(Provisioned),
        "suspend" if matches!(from, Active | PasswordExpired) => Ok(Suspended),
        "unsuspend" if from == Suspended => Ok(Active),
        "unlock" => {
            if from == LockedOut {
                Ok(Active)
            } else {
                Err("E0000032")
            }
        }
        "reset_password" if active_like || from == Provisioned => Ok(Recovery),
        "expire_password" | "expire_password_with_temp_password" if active_like => {
            Ok(PasswordExpired)
        }
        "reset_factors" if from != Deprovisioned => Ok(from),
        _ => Err("E0000038"),
    }
}

const OPS: [&str; 10] = [
    "activate",
    "deactivate",
    "reactivate",
    "suspend",
    "unsuspend",
    "unlock",
    "reset_password",
    "expire_password",
    "expire_password_with_temp_password",
    "reset_factors",
];

#[tokio::test]
async fn every_operation_from_every_status() {
    let org = TestOrg::start().await;
    let mut checked = 0;
    for has_password in [true, false] {
        for from in UserStatus::ALL {
            for op in OPS {
                let body = if has_password {
                    with_password(profile("Life", "Cycle"))
                } else {
                    json!({"profile": profile("Life", "Cycle")})
                };
                let id = create_ok(&org, "?activate=false", body).await;
                set_status(&org, &id, from);
                let before = events(&org).len();
                let r = org
                    .post(
                        &format!("/api/v1/users/{id}/lifecycle/{op}?sendEmail=false"),
                        json!({}),
                    )
                    .await;
                let case = format!("{op} from {from:?} (password: {has_password})");
                match expected(op, from, has_password) {
                    Ok(to) => {
                        assert_eq!(r.status, 200, "{case}: {}", r.text);
                        assert_eq!(status_of(&org, &id), Some(to), "{case}");
                        let logged = events_since(&org, before);
                        assert_eq!(logged.len(), 1, "{case}");
                        assert_eq!(logged[0].1, id, "{case}");
                    }
                    Err(code) => {
                        assert_eq!(r.error_code(), Some(code), "{case}: {}", r.text);
                        assert_eq!(r.status, 403, "{case}");
                        assert_eq!(status_of(&org, &id), Some(from), "{case}");
                        assert!(events_since(&org, before).is_empty(), "{case}");
                    }
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * 8 * 10);
}

#[tokio::test]
async fn lifecycle_response_bodies_match_the_recordings() {
    let org = TestOrg::start().await;
    let id = create_ok(
        &org,
        "?activate=false",
        with_password(profile("Body", "Shapes")),
    )
    .await;
    let lc = |op: &str| format!("/api/v1/users/{id}/lifecycle/{op}");

    let r = org.post(&lc("activate?sendEmail=false"), json!({})).await;
    assert_eq!(keys(&r.body), set(&["activationUrl", "activationToken"]));
    let token = r.body["activationToken"].as_str().unwrap();
    assert!(
        r.body["activationUrl"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/tokens/{token}/verify"))
    );
    assert_eq!(r.body["activationToken"].as_str().unwrap().len(), 20);

    let r = org.post(&lc("suspend"), json!({})).await;
    assert_eq!((r.status, r.body.clone()), (200, json!({})));
    let r = org.post(&lc("unsuspend"), json!({})).await;
    assert_eq!((r.status, r.body.clone()), (200, json!({})));

    let r = org.post(&lc("expire_password"), json!({})).await;
    assert_eq!(r.body["status"], "PASSWORD_EXPIRED");
    assert_eq!(r.body["id"], id.as_str());

    let r = org
        .post(&lc("expire_password_with_temp_password"), json!({}))
        .await;
    assert_eq!(keys(&r.body), set(&["tempPassword"]));
    let temp = r.body["tempPassword"].as_str().unwrap();
    assert!(temp.len() >= 8 && temp.chars().any(|c| c.is_ascii_digit()));

    let r = org
        .post(&lc("reset_password?sendEmail=false"), json!({}))
        .await;
    assert_eq!(keys(&r.body), set(&["resetPasswordUrl"]));
    let r = org.post(&lc("reset_factors"), json!({})).await;
    assert_eq!(r.body, json!({}));
    let r = org.post(&lc("deactivate"), json!({})).await;
    assert_eq!((r.status, r.body.clone()), (200, json!({})));

    // The recorded error bodies.
    let r = org.post(&lc("reactivate?sendEmail=false"), json!({})).await;
    assert_eq!(
        r.body["errorSummary"],
        "This operation is not allowed in the user's current status."
    );
    assert_eq!(r.body["errorCauses"], json!([]));
    let r = org.post(&lc("unlock"), json!({})).await;
    assert_eq!(
        r.body["errorSummary"],
        "Unlock is not allowed for this user."
    );
    assert_eq!(causes(&r), ["The user is not locked out."]);
    let r = org.post(&lc("frobnicate"), json!({})).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn activation_with_email_returns_an_empty_object() {
    let org = TestOrg::start().await;
    let id = create_ok(
        &org,
        "?activate=false",
        json!({"profile": profile("Em", "Ail")}),
    )
    .await;
    let r = org
        .post(&format!("/api/v1/users/{id}/lifecycle/activate"), json!({}))
        .await;
    assert_eq!((r.status, r.body.clone()), (200, json!({})));
    assert_eq!(status_of(&org, &id), Some(UserStatus::Provisioned));
}

#[tokio::test]
async fn forgot_password_and_sessions() {
    let org = TestOrg::start().await;
    let id = create_ok(&org, "", with_password(profile("For", "Got"))).await;
    let before = events(&org).len();
    let r = org
        .post(
            &format!("/api/v1/users/{id}/credentials/forgot_password?sendEmail=false"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.body["resetPasswordUrl"]
            .as_str()
            .unwrap()
            .contains("/signin/reset-password/")
    );
    assert_eq!(status_of(&org, &id), Some(UserStatus::Active));
    let r = org
        .delete(&format!("/api/v1/users/{id}/sessions?oauthTokens=true"))
        .await;
    assert_eq!(r.status, 204);
    let types: Vec<String> = events_since(&org, before)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(types, ["user.account.reset_password", "user.session.clear"]);

    set_status(&org, &id, UserStatus::Suspended);
    let r = org
        .post(
            &format!("/api/v1/users/{id}/credentials/forgot_password"),
            json!({}),
        )
        .await;
    assert_eq!(r.error_code(), Some("E0000038"));
    assert_eq!(
        org.delete("/api/v1/users/00uNOPE/sessions").await.status,
        404
    );
}

#[tokio::test]
async fn change_password_proves_the_old_one_and_ends_recovery() {
    let org = TestOrg::start().await;
    let id = create_ok(&org, "", with_password(profile("Chan", "Ge"))).await;
    let url = format!("/api/v1/users/{id}/credentials/change_password");
    let change = |old: &str, new: &str| json!({"oldPassword": {"value": old}, "newPassword": {"value": new}});

    let r = org
        .post(&url, change("Wr0ng-password", "N3w-Passw0rd!"))
        .await;
    assert_eq!((r.status, r.error_code()), (403, Some("E0000014")));
    assert_eq!(
        causes(&r),
        ["oldPassword: The credentials provided were incorrect."]
    );
    let r = org.post(&url, change("Tr0ub4dor&3xyz", "weak")).await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000001")));
    let r = org
        .post(&url, change("Tr0ub4dor&3xyz", "Tr0ub4dor&3xyz"))
        .await;
    assert_eq!(
        causes(&r),
        ["password: Password has been used too recently"]
    );

    set_status(&org, &id, UserStatus::Recovery);
    let before = events(&org).len();
    let r = org
        .post(&url, change("Tr0ub4dor&3xyz", "N3w-Passw0rd!"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The recorded answer: the credentials without `emails`.
    assert_eq!(
        r.body,
        json!({"password": {}, "provider": {"type": "OKTA", "name": "OKTA"}})
    );
    assert_eq!(status_of(&org, &id), Some(UserStatus::Active));
    assert_eq!(
        events_since(&org, before),
        [("user.account.update_password".to_string(), id.clone())]
    );
    // The new password is now the one to prove; revokeSessions clears the sessions too.
    let body = json!({"oldPassword": {"value": "N3w-Passw0rd!"},
        "newPassword": {"value": "N3wer-Passw0rd!"}, "revokeSessions": true});
    let before = events(&org).len();
    assert_eq!(org.post(&url, body).await.status, 200);
    let types: Vec<String> = events_since(&org, before)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(
        types,
        ["user.account.update_password", "user.session.clear"]
    );

    set_status(&org, &id, UserStatus::Suspended);
    let r = org
        .post(&url, change("N3wer-Passw0rd!", "Newest-Passw0rd!"))
        .await;
    assert_eq!((r.status, r.error_code()), (403, Some("E0000038")));
    let r = org
        .post(
            "/api/v1/users/00uNOPE/credentials/change_password",
            change("a", "b"),
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn change_recovery_question_proves_the_password() {
    let org = TestOrg::start().await;
    let id = create_ok(&org, "", with_password(profile("Rec", "Overy"))).await;
    let url = format!("/api/v1/users/{id}/credentials/change_recovery_question");
    let body = |password: &str| {
        json!({"password": {"value": password},
            "recovery_question": {"question": "First pet?", "answer": "a tortoise"}})
    };
    let r = org.post(&url, body("Wr0ng-password")).await;
    assert_eq!((r.status, r.error_code()), (403, Some("E0000014")));
    assert_eq!(
        causes(&r),
        ["password: The credentials provided were incorrect."]
    );
    let r = org.post(&url, body("Tr0ub4dor&3xyz")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"password": {}, "recovery_question": {"question": "First pet?"},
               "provider": {"type": "OKTA", "name": "OKTA"}})
    );
    assert!(!r.text.contains("tortoise"));
    let user = org.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(
        user.body["credentials"]["recovery_question"],
        json!({"question": "First pet?"})
    );
    let r = org
        .post(
            &url,
            json!({"password": {"value": "Tr0ub4dor&3xyz"},
                "recovery_question": {"question": "First pet?", "answer": " "}}),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000001")));

    // PASSWORD_EXPIRED may change its password but not its recovery question (spec).
    set_status(&org, &id, UserStatus::PasswordExpired);
    let r = org.post(&url, body("Tr0ub4dor&3xyz")).await;
    assert_eq!((r.status, r.error_code()), (403, Some("E0000038")));
}

// ------------------------------------------------------------------------------------------
// Regressions from the code review: request input that used to crash or misbehave
// ------------------------------------------------------------------------------------------

/// `me` names the token's admin; once that user is deleted, `me` is an unknown user (404), not a
/// crash, on every route that resolves it.
#[tokio::test]
async fn me_after_the_admin_is_deleted_is_not_found() {
    let org = TestOrg::start().await;
    let admin = org.sim().admin.id.clone();
    for _ in 0..2 {
        let r = org.delete(&format!("/api/v1/users/{admin}")).await;
        assert_eq!(r.status, 204, "{}", r.text);
    }
    let answers = [
        org.get("/api/v1/users/me").await,
        org.delete("/api/v1/users/me/sessions").await,
        org.post("/api/v1/users/me", json!({"profile": {"title": "x"}}))
            .await,
        org.get("/api/v1/users/me/groups").await,
        org.post("/api/v1/users/me/lifecycle/suspend", json!({}))
            .await,
    ];
    for r in answers {
        assert_eq!(
            (r.status, r.error_code()),
            (404, Some("E0000007")),
            "{}",
            r.text
        );
        assert_eq!(
            r.body["errorSummary"],
            "Not found: Resource not found: me (User)"
        );
    }
}

/// A login short name finds its user only while no other login shares it (spec: "as long as the
/// shortname is unambiguous"), whatever order the logins were created in.
#[tokio::test]
async fn login_short_names_resolve_only_when_unambiguous() {
    let org = TestOrg::start().await;
    let mut p = profile("Sam", "Short");
    p["login"] = json!("samshort@one.example.com");
    let first = create_ok(&org, "", json!({"profile": p})).await;
    let r = org.get("/api/v1/users/samshort").await;
    assert_eq!(
        (r.status, r.body["id"].as_str()),
        (200, Some(first.as_str()))
    );

    let mut p = profile("Sam", "Short");
    p["login"] = json!("SamShort@two.example.com");
    let second = create_ok(&org, "", json!({"profile": p})).await;
    let r = org.get("/api/v1/users/samshort").await;
    assert_eq!(
        (r.status, r.error_code()),
        (404, Some("E0000007")),
        "{}",
        r.text
    );
    // Full logins still resolve.
    let r = org.get("/api/v1/users/samshort@two.example.com").await;
    assert_eq!(r.body["id"], second.as_str());

    // Renaming one login away makes the short name unique again.
    let r = org
        .post(
            &format!("/api/v1/users/{first}"),
            json!({"profile": {"login": "sam.other@one.example.com"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = org.get("/api/v1/users/samshort").await;
    assert_eq!(r.body["id"], second.as_str());
    let r = org.get("/api/v1/users/sam.other").await;
    assert_eq!(r.body["id"], first.as_str());
    // And deleting the user frees the short name.
    for _ in 0..2 {
        org.delete(&format!("/api/v1/users/{second}")).await;
    }
    let r = org.get("/api/v1/users/samshort").await;
    assert_eq!(r.status, 404);
}

/// `groupIds` on create answers what `PUT /groups/{id}/users/{userId}` answers for groups whose
/// membership the API can't change, and creates no user.
#[tokio::test]
async fn group_ids_on_create_refuse_groups_membership_edits_refuse() {
    let org = TestOrg::start().await;
    let app_group = "00gappgroup000000002".to_string();
    {
        let mut state = org.sim().org.write();
        let mut group = state
            .groups
            .values()
            .find(|g| g.kind == okta_sim::state::GroupType::OktaGroup)
            .cloned()
            .unwrap();
        group.id = app_group.clone();
        group.kind = okta_sim::state::GroupType::AppGroup;
        group.profile.insert("name".into(), json!("Imported"));
        state.groups.insert(app_group.clone(), group);
    }
    let everyone = org.sim().org.read().everyone_group_id.clone();
    let users_before = org.sim().org.read().users.len();
    let cases = [
        (app_group.as_str(), 403, "E0000006"),
        (everyone.as_str(), 501, "E0000060"),
        ("00gmissing0000000000", 404, "E0000007"),
    ];
    for (gid, status, code) in cases {
        let body = json!({"profile": profile("Gina", "Groups"), "groupIds": [gid]});
        let r = create(&org, "", body).await;
        assert_eq!(
            (r.status, r.error_code()),
            (status, Some(code)),
            "{gid}: {}",
            r.text
        );
        let put = org
            .put(
                &format!("/api/v1/groups/{gid}/users/{}", org.sim().admin.id),
                json!({}),
            )
            .await;
        assert_eq!(
            (put.status, put.error_code()),
            (status, Some(code)),
            "{gid}"
        );
    }
    assert_eq!(org.sim().org.read().users.len(), users_before);
}

/// Lifecycle calls draw a token from the org's id generator only when they hand one out, so a
/// refused call (or one that sends the email) leaves the ids of later objects as they were.
#[tokio::test]
async fn lifecycle_calls_without_a_token_do_not_shift_later_ids() {
    let plain = TestOrg::start().await;
    let busy = TestOrg::start().await;
    let uid = busy
        .sim()
        .org
        .read()
        .users
        .values()
        .find(|u| u.status == UserStatus::Active && u.id != busy.sim().admin.id)
        .map(|u| u.id.clone())
        .unwrap();
    let refused = busy
        .post(
            &format!("/api/v1/users/{uid}/lifecycle/unsuspend"),
            json!({}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (403, Some("E0000038"))
    );
    let emailed = busy
        .post(
            &format!("/api/v1/users/{uid}/lifecycle/reset_password?sendEmail=true"),
            json!({}),
        )
        .await;
    assert_eq!(emailed.status, 200, "{}", emailed.text);
    let a = plain
        .post("/api/v1/groups", json!({"profile": {"name": "After"}}))
        .await;
    let b = busy
        .post("/api/v1/groups", json!({"profile": {"name": "After"}}))
        .await;
    assert_eq!(a.body["id"], b.body["id"]);
    assert!(a.body["id"].is_string());
}

/// Changing a user's type (a full replacement) writes Okta's `user.account.update_user_type`.
#[tokio::test]
async fn changing_the_user_type_is_logged() {
    let org = TestOrg::start().await;
    let t = org
        .post(
            "/api/v1/meta/types/user",
            json!({"name": "contractor", "displayName": "Contractor"}),
        )
        .await;
    assert_eq!(t.status, 200, "{}", t.text);
    let type_id = t.body["id"].as_str().unwrap().to_string();
    let p = profile("Tia", "Type");
    let id = create_ok(&org, "", json!({"profile": p.clone()})).await;
    let before = events(&org).len();
    let r = org
        .put(
            &format!("/api/v1/users/{id}"),
            json!({"profile": p, "type": {"id": type_id}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["type"]["id"], type_id.as_str());
    assert_eq!(
        events_since(&org, before),
        vec![("user.account.update_user_type".to_string(), id.clone())]
    );
    // The same type again changes nothing and logs nothing.
    let before = events(&org).len();
    let r = org.get(&format!("/api/v1/users/{id}")).await;
    let again = org
        .put(
            &format!("/api/v1/users/{id}"),
            json!({"profile": r.body["profile"], "type": {"id": type_id}}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert!(
        events_since(&org, before)
            .iter()
            .all(|(t, _)| t != "user.account.update_user_type")
    );
}
