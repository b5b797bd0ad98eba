//! `/api/v1/groups`: listing (paging, q, filter, search, expand), CRUD, members, the group's apps,
//! Okta's refusals, and the System Log events each mutation writes.

use std::collections::BTreeSet;

use okta_sim::SimConfig;
use okta_sim::state::{Group, GroupType};
use serde_json::{Map, Value, json};

use crate::support::TestOrg;

/// The System Log events of one type, rendered. The only place this module reads the log store
/// directly, so a change to its API touches one function.
fn logged(org: &TestOrg, event_type: &str) -> Vec<Value> {
    let meta = &org.sim().logs.meta;
    org.sim().logs.with_events(|events| {
        events[org.history..]
            .iter()
            .filter(|e| e.event_type == event_type)
            .map(|e| e.to_value(meta))
            .collect()
    })
}

fn target_types(event: &Value) -> Vec<String> {
    event["target"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap().to_string())
        .collect()
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect()
}

fn everyone(org: &TestOrg) -> String {
    org.sim().org.read().everyone_group_id.clone()
}

fn group_id_named(org: &TestOrg, name: &str) -> String {
    let state = org.sim().org.read();
    state
        .groups
        .values()
        .find(|g| g.name() == name)
        .map(|g| g.id.clone())
        .expect("seeded group")
}

fn some_user(org: &TestOrg) -> String {
    let state = org.sim().org.read();
    state
        .users
        .keys()
        .find(|id| **id != state.admin_id)
        .cloned()
        .unwrap()
}

async fn create_group(org: &TestOrg, name: &str) -> Value {
    let r = org
        .post("/api/v1/groups", json!({"profile": {"name": name}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

#[tokio::test]
async fn paging_visits_every_group_once_in_name_order() {
    let org = TestOrg::with(SimConfig {
        groups: 30,
        ..SimConfig::small()
    })
    .await;
    let first = org.get("/api/v1/groups?limit=7").await;
    assert_eq!(first.body.as_array().unwrap().len(), 7);
    let next = first.next_link().expect("a next link");
    assert!(
        next.contains("limit=7") && next.contains("after="),
        "{next}"
    );

    let all = org.collect("/api/v1/groups?limit=7", 10).await;
    let got = ids(&all);
    let unique: BTreeSet<_> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "no duplicates");
    let expected: BTreeSet<String> = org.sim().org.read().groups.keys().cloned().collect();
    assert_eq!(
        got.iter().cloned().collect::<BTreeSet<_>>(),
        expected,
        "none missing"
    );
    let names: Vec<String> = all
        .iter()
        .map(|g| g["profile"]["name"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "groups list in name order, as recorded");
}

#[tokio::test]
async fn a_bare_list_is_one_page_with_the_recorded_shape() {
    let org = TestOrg::start().await;
    let r = org.get("/api/v1/groups").await;
    assert_eq!(r.status, 200);
    assert!(r.next_link().is_none());
    let links: Vec<_> = r.headers.get_all("link").iter().collect();
    assert_eq!(links.len(), 1);
    assert!(
        links[0]
            .to_str()
            .unwrap()
            .ends_with("/api/v1/groups?limit=10000>; rel=\"self\"")
    );
    let items = r.body.as_array().unwrap();
    assert_eq!(items.len(), org.sim().org.read().groups.len());
    for g in items {
        assert_eq!(
            keys(g),
            BTreeSet::from([
                "id",
                "created",
                "lastUpdated",
                "lastMembershipUpdated",
                "objectClass",
                "type",
                "profile",
                "_links"
            ])
        );
        assert_eq!(
            keys(&g["_links"]),
            BTreeSet::from(["logo", "users", "apps"])
        );
        assert!(g["profile"].get("description").is_some());
    }
    let everyone_id = everyone(&org);
    let everyone = items
        .iter()
        .find(|g| g["id"] == json!(everyone_id))
        .unwrap();
    assert_eq!(everyone["type"], "BUILT_IN");
    assert_eq!(everyone["profile"]["name"], "Everyone");
}

#[tokio::test]
async fn q_is_a_name_prefix_and_never_pages() {
    let org = TestOrg::with(SimConfig {
        groups: 14,
        ..SimConfig::small()
    })
    .await;
    let r = org.get("/api/v1/groups?q=eng").await;
    assert_eq!(r.status, 200);
    let names: Vec<_> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["profile"]["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Engineering")]);
    assert!(r.header("link").is_none(), "q results carry no Link header");

    // "Team 1".."Team 6" exist; limit cuts the answer and there is still no next link.
    let r = org.get("/api/v1/groups?q=team&limit=2").await;
    assert_eq!(r.body.as_array().unwrap().len(), 2);
    assert!(r.next_link().is_none());
}

#[tokio::test]
async fn filter_search_and_sort() {
    let org = TestOrg::start().await;
    let r = org
        .get("/api/v1/groups?filter=type%20eq%20%22BUILT_IN%22")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(ids(r.body.as_array().unwrap()), vec![everyone(&org)]);

    let r = org
        .get("/api/v1/groups?search=profile.name%20sw%20%22sal%22")
        .await;
    let names: Vec<_> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["profile"]["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Sales")]);

    let r = org
        .get(
            "/api/v1/groups?search=type%20eq%20%22OKTA_GROUP%22&sortBy=profile.name&sortOrder=desc",
        )
        .await;
    let names: Vec<String> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["profile"]["name"].as_str().unwrap().to_lowercase())
        .collect();
    assert_eq!(names.len(), 10);
    let mut desc = names.clone();
    desc.sort_by(|a, b| b.cmp(a));
    assert_eq!(names, desc);

    // profile.* is search-only: as a filter it is Okta's E0000031.
    let r = org
        .get("/api/v1/groups?filter=profile.name%20eq%20%22Sales%22")
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), Some("E0000031"));
    let r = org.get("/api/v1/groups?search=type%20eqq%20%22x%22").await;
    assert_eq!(r.error_code(), Some("E0000031"));

    let r = org.get("/api/v1/groups?limit=2&after=garbage").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), Some("E0000029"));
}

#[tokio::test]
async fn expand_stats_counts_members_and_apps() {
    let org = TestOrg::start().await;
    let r = org.get("/api/v1/groups?expand=stats").await;
    let state = org.sim().org.read();
    for g in r.body.as_array().unwrap() {
        let id = g["id"].as_str().unwrap();
        let stats = &g["_embedded"]["stats"];
        let members = state.members.get(id).map_or(0, |m| m.len());
        assert_eq!(stats["usersCount"], json!(members), "{id}");
        let apps = state
            .app_groups
            .values()
            .filter(|a| a.contains_key(id))
            .count();
        assert_eq!(stats["appsCount"], json!(apps));
    }
    let everyone = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["type"] == "BUILT_IN")
        .unwrap();
    assert_eq!(
        everyone["_embedded"]["stats"]["usersCount"],
        json!(state.users.len())
    );
}

#[tokio::test]
async fn create_get_replace_delete_round_trip() {
    let org = TestOrg::start().await;
    let created = create_group(&org, "Group-Target-Test").await;
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("00g") && id.len() == 20);
    assert_eq!(created["type"], "OKTA_GROUP");
    assert_eq!(
        created["profile"],
        json!({"name": "Group-Target-Test", "description": null})
    );
    assert_eq!(created["created"], created["lastMembershipUpdated"]);

    let got = org.get(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(got.body, created);

    let dup = org
        .post(
            "/api/v1/groups",
            json!({"profile": {"name": "group-target-test"}}),
        )
        .await;
    assert_eq!(dup.status, 400);
    assert_eq!(dup.error_code(), Some("E0000001"));
    let blank = org
        .post("/api/v1/groups", json!({"profile": {"description": "x"}}))
        .await;
    assert_eq!(blank.error_code(), Some("E0000001"));

    org.sim().clock.advance_ms(5_000);
    let put = org
        .put(
            &format!("/api/v1/groups/{id}"),
            json!({"profile": {"name": "Renamed", "customGroupAttribute": "v"}}),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(
        put.body["profile"],
        json!({"name": "Renamed", "description": null, "customGroupAttribute": "v"})
    );
    assert_ne!(put.body["lastUpdated"], created["lastUpdated"]);
    assert_eq!(
        put.body["lastMembershipUpdated"],
        created["lastMembershipUpdated"]
    );

    let del = org.delete(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(del.status, 204);
    let gone = org.get(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.body["errorSummary"],
        format!("Not found: Resource not found: {id} (UserGroup)")
    );

    for t in [
        "group.lifecycle.create",
        "group.profile.update",
        "group.lifecycle.delete",
    ] {
        let events = logged(&org, t);
        assert_eq!(events.len(), 1, "{t}");
        assert_eq!(events[0]["target"][0]["id"], json!(id));
        assert_eq!(target_types(&events[0]), vec!["UserGroup"]);
    }
}

#[tokio::test]
async fn membership_changes_show_in_both_directions_and_are_logged() {
    let org = TestOrg::start().await;
    let g = create_group(&org, "Members Test").await;
    let gid = g["id"].as_str().unwrap().to_string();
    let uid = some_user(&org);
    org.sim().clock.advance_ms(5_000);

    let r = org
        .put(&format!("/api/v1/groups/{gid}/users/{uid}"), json!({}))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let members = org.get(&format!("/api/v1/groups/{gid}/users")).await;
    assert_eq!(ids(members.body.as_array().unwrap()), vec![uid.clone()]);
    assert!(
        members
            .header("link")
            .unwrap()
            .contains(&format!("/api/v1/groups/{gid}/users?limit=1000"))
    );
    assert!(org.sim().org.read().user_groups[&uid].contains(&gid));
    let after_add = org.get(&format!("/api/v1/groups/{gid}")).await.body;
    assert_ne!(
        after_add["lastMembershipUpdated"],
        g["lastMembershipUpdated"]
    );
    assert_eq!(after_add["lastUpdated"], g["lastUpdated"]);

    // Adding again is a quiet no-op.
    let again = org
        .put(&format!("/api/v1/groups/{gid}/users/{uid}"), json!({}))
        .await;
    assert_eq!(again.status, 204);

    let r = org
        .delete(&format!("/api/v1/groups/{gid}/users/{uid}"))
        .await;
    assert_eq!(r.status, 204);
    let members = org.get(&format!("/api/v1/groups/{gid}/users")).await;
    assert_eq!(members.body, json!([]));
    assert!(!org.sim().org.read().user_groups[&uid].contains(&gid));

    for t in ["group.user_membership.add", "group.user_membership.remove"] {
        let events = logged(&org, t);
        assert_eq!(events.len(), 1, "{t}");
        assert_eq!(target_types(&events[0]), vec!["User", "UserGroup"]);
        assert_eq!(events[0]["target"][0]["id"], json!(uid));
        assert_eq!(events[0]["target"][1]["id"], json!(gid));
    }
}

#[tokio::test]
async fn members_page_through_everyone() {
    let org = TestOrg::start().await;
    let everyone = everyone(&org);
    let all = org
        .collect(&format!("/api/v1/groups/{everyone}/users?limit=7"), 20)
        .await;
    let got = ids(&all);
    let unique: BTreeSet<_> = got.iter().cloned().collect();
    assert_eq!(unique.len(), got.len(), "no duplicates");
    let expected = org.sim().org.read().members[&everyone].clone();
    assert_eq!(unique, expected, "none missing");
    assert!(all[0]["_links"]["self"]["href"].is_string());
}

#[tokio::test]
async fn okta_refuses_what_it_refuses() {
    let org = TestOrg::start().await;
    let everyone = everyone(&org);
    let uid = some_user(&org);

    let r = org
        .put(&format!("/api/v1/groups/{everyone}/users/{uid}"), json!({}))
        .await;
    assert_eq!((r.status, r.error_code()), (501, Some("E0000060")));
    let r = org
        .delete(&format!("/api/v1/groups/{everyone}/users/{uid}"))
        .await;
    assert_eq!((r.status, r.error_code()), (501, Some("E0000060")));
    assert!(org.sim().org.read().members[&everyone].contains(&uid));

    let r = org
        .put(
            &format!("/api/v1/groups/{everyone}"),
            json!({"profile": {"name": "All"}}),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (403, Some("E0000006")));
    let r = org.delete(&format!("/api/v1/groups/{everyone}")).await;
    assert_eq!((r.status, r.error_code()), (403, Some("E0000006")));

    // An imported APP_GROUP: membership is mastered by the app.
    let app_group = "00gappgroup000000001".to_string();
    {
        let mut state = org.sim().org.write();
        let mut profile = Map::new();
        profile.insert("name".into(), json!("AD Engineers"));
        state.groups.insert(
            app_group.clone(),
            Group {
                id: app_group.clone(),
                kind: GroupType::AppGroup,
                created: 0,
                last_updated: 0,
                last_membership_updated: 0,
                profile,
                source_app: None,
            },
        );
    }
    let r = org
        .put(
            &format!("/api/v1/groups/{app_group}/users/{uid}"),
            json!({}),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (403, Some("E0000006")));

    let sales = group_id_named(&org, "Sales");
    let r = org
        .put(
            &format!("/api/v1/groups/{sales}/users/00unknownuser0000001"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body["errorSummary"],
        "Not found: Resource not found: 00unknownuser0000001 (User)"
    );
    for path in [
        "/api/v1/groups/00gnope".to_string(),
        "/api/v1/groups/00gnope/users".to_string(),
        "/api/v1/groups/00gnope/apps".to_string(),
        format!("/api/v1/groups/00gnope/users/{uid}"),
    ] {
        let r = org.get(&path).await;
        let r = if r.status == 405 {
            org.put(&path, json!({})).await
        } else {
            r
        };
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.error_code(), Some("E0000007"));
    }
    assert!(logged(&org, "group.user_membership.add").is_empty());
}

#[tokio::test]
async fn a_groups_apps_follow_its_assignments() {
    let org = TestOrg::start().await;
    let g = create_group(&org, "App Holders").await;
    let gid = g["id"].as_str().unwrap();
    let r = org.get(&format!("/api/v1/groups/{gid}/apps")).await;
    assert_eq!(r.body, json!([]));
    assert!(
        r.header("link")
            .unwrap()
            .contains(&format!("/api/v1/groups/{gid}/apps?limit=20"))
    );

    let app_id = org.sim().org.read().apps.keys().next().cloned().unwrap();
    let r = org
        .put(&format!("/api/v1/apps/{app_id}/groups/{gid}"), json!({}))
        .await;
    assert_eq!(r.status, 200);
    let r = org.get(&format!("/api/v1/groups/{gid}/apps")).await;
    assert_eq!(ids(r.body.as_array().unwrap()), vec![app_id]);
    assert!(r.body[0].get("signOnMode").is_some());
}

#[tokio::test]
async fn group_rules_are_not_simulated() {
    let org = TestOrg::start().await;
    // Not a group named "rules": the generic "no such path", as for any unserved endpoint.
    for path in [
        "/api/v1/groups/rules",
        "/api/v1/groups/rules/0pr123/lifecycle/activate",
    ] {
        let r = org.get(path).await;
        assert_eq!(
            (r.status, r.error_code()),
            (404, Some("E0000008")),
            "{path}"
        );
    }
    let r = org.post("/api/v1/groups/rules", json!({})).await;
    assert_eq!((r.status, r.error_code()), (404, Some("E0000008")));
}

/// `limit=0` (which used to underflow) answers an empty page without a `next` link, as the users
/// and apps lists do.
#[tokio::test]
async fn limit_zero_is_an_empty_page() {
    let org = TestOrg::start().await;
    let first = org.get("/api/v1/groups?limit=1").await;
    let after = first.next_link().expect("more than one group");
    for url in [
        "/api/v1/groups?limit=0".to_string(),
        after.replace("limit=1", "limit=0"),
    ] {
        let r = org.get(&url).await;
        assert_eq!(r.status, 200, "{url}: {}", r.text);
        assert_eq!(r.body, json!([]), "{url}");
        assert!(r.next_link().is_none(), "{url}");
    }
}
