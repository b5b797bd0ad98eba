//! `/api/v1/apps`: listing, create and lifecycle, app users (direct and through groups), app group
//! assignments, Okta's refusals, and the System Log events each mutation writes.

use std::collections::BTreeSet;

use okta_sim::SimConfig;
use serde_json::{Value, json};

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

fn target_types(event: &Value) -> Vec<&str> {
    event["target"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
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

/// The body the Python SDK sends to create a bookmark app (recorded, 2025).
fn bookmark(label: &str) -> Value {
    json!({"label": label, "signOnMode": "BOOKMARK", "name": "bookmark",
           "settings": {"app": {"requestIntegration": false, "url": "https://example.com/bookmark.htm"}}})
}

async fn create_app(org: &TestOrg, query: &str, label: &str) -> Value {
    let r = org
        .post(&format!("/api/v1/apps{query}"), bookmark(label))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

fn active_user(org: &TestOrg, nth: usize) -> String {
    let state = org.sim().org.read();
    state
        .users
        .values()
        .filter(|u| u.id != state.admin_id && u.status.as_str() == "ACTIVE")
        .nth(nth)
        .map(|u| u.id.clone())
        .unwrap()
}

#[tokio::test]
async fn listing_pages_queries_and_filters() {
    let org = TestOrg::with(SimConfig {
        apps: 12,
        ..SimConfig::small()
    })
    .await;
    let r = org.get("/api/v1/apps").await;
    assert_eq!(r.body.as_array().unwrap().len(), 12);
    assert!(
        r.header("link")
            .unwrap()
            .ends_with("/api/v1/apps?limit=20>; rel=\"self\"")
    );

    let all = org.collect("/api/v1/apps?limit=5", 5).await;
    let got = ids(&all);
    let unique: BTreeSet<_> = got.iter().cloned().collect();
    assert_eq!(unique.len(), got.len(), "no duplicates");
    let expected: BTreeSet<String> = org.sim().org.read().apps.keys().cloned().collect();
    assert_eq!(unique, expected, "none missing");

    // Seeded labels repeat with a suffix past the seventh app ("Payroll 2"); "Wiki" is the
    // seventh, so with 12 apps exactly one label starts with "wik".
    let r = org.get("/api/v1/apps?q=wik").await;
    let labels: Vec<_> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["label"].clone())
        .collect();
    assert_eq!(labels, vec![json!("Wiki")]);
    // `q` also matches the app's name (`oidc_client`, whatever the label).
    let r = org.get("/api/v1/apps?q=oidc").await;
    let oidc = org
        .sim()
        .org
        .read()
        .apps
        .values()
        .filter(|a| a.name() == "oidc_client")
        .count();
    assert!(oidc >= 2);
    assert_eq!(r.body.as_array().unwrap().len(), oidc);

    let inactive = ids(&all)[3].clone();
    let r = org
        .post(
            &format!("/api/v1/apps/{inactive}/lifecycle/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!((r.status, &r.body), (200, &json!({})));
    let r = org
        .get("/api/v1/apps?filter=status+eq+%22INACTIVE%22")
        .await;
    assert_eq!(ids(r.body.as_array().unwrap()), vec![inactive.clone()]);
    let r = org
        .get("/api/v1/apps?limit=10&filter=status%20eq%20%22ACTIVE%22")
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 10);
    assert!(r.next_link().is_some());

    // Refusals recorded from a real org.
    let r = org
        .get("/api/v1/apps?q=x&after=00u1testcursorvalue&limit=1")
        .await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000029")));
    assert_eq!(r.body["errorCauses"][0]["errorSummary"], "Invalid cursor.");
    let r = org
        .get("/api/v1/apps?limit=10&expand=user/id,group/id")
        .await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000001")));
    assert_eq!(
        r.body["errorSummary"],
        "Api validation failed: RequestParams"
    );
    let r = org.get("/api/v1/apps?filter=label%20eq%20%22Wiki%22").await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000031")));
}

#[tokio::test]
async fn filter_by_assigned_user_with_expand() {
    let org = TestOrg::start().await;
    let uid = active_user(&org, 0);
    let expected: BTreeSet<String> = {
        let state = org.sim().org.read();
        state
            .apps
            .keys()
            .filter(|a| {
                state
                    .app_users
                    .get(*a)
                    .is_some_and(|m| m.contains_key(&uid))
                    || state.app_groups.get(*a).is_some_and(|gs| {
                        gs.keys()
                            .any(|g| state.members.get(g).is_some_and(|m| m.contains(&uid)))
                    })
            })
            .cloned()
            .collect()
    };
    let r = org
        .get(&format!(
            "/api/v1/apps?filter=user.id+eq+%22{uid}%22&expand=user/{uid}"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let got: BTreeSet<String> = ids(r.body.as_array().unwrap()).into_iter().collect();
    assert_eq!(got, expected);
    for a in r.body.as_array().unwrap() {
        assert_eq!(a["_embedded"]["user"]["id"], json!(uid));
    }
}

#[tokio::test]
async fn create_activate_deactivate_delete() {
    let org = TestOrg::start().await;
    let app = create_app(&org, "?activate=false", "AddBookmarkApp").await;
    let id = app["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("0oa") && id.len() == 20);
    assert_eq!(app["status"], "INACTIVE");
    // The key sets of the recorded 2025 create response.
    assert_eq!(
        keys(&app),
        BTreeSet::from([
            "id",
            "orn",
            "name",
            "label",
            "status",
            "lastUpdated",
            "created",
            "accessibility",
            "visibility",
            "features",
            "signOnMode",
            "credentials",
            "universalLogout",
            "settings",
            "_links"
        ])
    );
    assert_eq!(
        keys(&app["_links"]),
        BTreeSet::from([
            "uploadLogo",
            "appLinks",
            "profileEnrollment",
            "activate",
            "policies",
            "groups",
            "logo",
            "accessPolicy",
            "users"
        ])
    );
    assert_eq!(
        keys(&app["settings"]),
        BTreeSet::from([
            "app",
            "notifications",
            "manualProvisioning",
            "implicitAssignment",
            "notes"
        ])
    );
    assert_eq!(
        app["settings"]["app"]["url"],
        "https://example.com/bookmark.htm"
    );
    assert_eq!(app["visibility"]["appLinks"], json!({"login": true}));

    let path = format!("/api/v1/apps/{id}");
    let r = org
        .post(&format!("{path}/lifecycle/activate"), json!({}))
        .await;
    assert_eq!((r.status, &r.body), (200, &json!({})));
    let got = org.get(&path).await.body;
    assert_eq!(got["status"], "ACTIVE");
    assert!(got["_links"].get("deactivate").is_some());

    let r = org.delete(&path).await;
    assert_eq!((r.status, r.error_code()), (403, Some("E0000056")));
    assert_eq!(r.body["errorSummary"], "Delete application forbidden.");
    assert_eq!(
        r.body["errorCauses"],
        json!([{"errorSummary": "The application must be deactivated before deletion."}])
    );
    let r = org
        .post(&format!("{path}/lifecycle/deactivate"), json!({}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(org.delete(&path).await.status, 204);
    let r = org.get(&path).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body["errorSummary"],
        format!("Not found: Resource not found: {id} (AppInstance)")
    );
    assert_eq!(
        org.post(&format!("{path}/lifecycle/activate"), json!({}))
            .await
            .status,
        404
    );

    for t in [
        "application.lifecycle.create",
        "application.lifecycle.activate",
        "application.lifecycle.deactivate",
        "application.lifecycle.delete",
    ] {
        let events = logged(&org, t);
        assert_eq!(events.len(), 1, "{t}");
        assert_eq!(target_types(&events[0]), vec!["AppInstance"]);
        assert_eq!(events[0]["target"][0]["id"], json!(id));
        assert_eq!(events[0]["target"][0]["displayName"], "AddBookmarkApp");
    }
}

#[tokio::test]
async fn create_and_replace_validate_and_keep_unknown_fields() {
    let org = TestOrg::start().await;
    let r = org
        .post("/api/v1/apps", json!({"signOnMode": "BOOKMARK"}))
        .await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000001")));

    let mut body = bookmark("Keeps Fields");
    body["settings"]["app"]["customSetting"] = json!({"nested": [1, 2]});
    body["somethingNew"] = json!("kept");
    let r = org.post("/api/v1/apps", body).await;
    assert_eq!(r.status, 200);
    let id = r.body["id"].as_str().unwrap();
    let got = org.get(&format!("/api/v1/apps/{id}")).await.body;
    assert_eq!(got["somethingNew"], "kept");
    assert_eq!(
        got["settings"]["app"]["customSetting"],
        json!({"nested": [1, 2]})
    );

    let mut replaced = got.clone();
    replaced["label"] = json!("Replaced");
    replaced["name"] = json!("ignored");
    let r = org.put(&format!("/api/v1/apps/{id}"), replaced).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["label"], "Replaced");
    assert_eq!(r.body["name"], "bookmark", "name is immutable");
    assert_eq!(logged(&org, "application.lifecycle.update").len(), 1);

    // OIDC: the client id is the app id; the secret is shown on create only.
    let r = org
        .post(
            "/api/v1/apps",
            json!({"label": "Portal", "signOnMode": "OPENID_CONNECT", "name": "oidc_client"}),
        )
        .await;
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(r.body["credentials"]["oauthClient"]["client_id"], json!(id));
    assert!(r.body["credentials"]["oauthClient"]["client_secret"].is_string());
    let got = org.get(&format!("/api/v1/apps/{id}")).await.body;
    assert!(
        got["credentials"]["oauthClient"]
            .get("client_secret")
            .is_none()
    );
}

#[tokio::test]
async fn app_user_assignment_round_trip() {
    let org = TestOrg::start().await;
    let app = create_app(&org, "", "AddBookmarkApp").await;
    let app_id = app["id"].as_str().unwrap();
    let uid = active_user(&org, 0);
    let base = format!("/api/v1/apps/{app_id}/users");

    let r = org
        .post(
            &base,
            json!({"id": uid, "scope": "USER", "credentials": {"userName": "john.doe"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The recorded AppUser key set.
    assert_eq!(
        keys(&r.body),
        BTreeSet::from([
            "id",
            "externalId",
            "created",
            "lastUpdated",
            "scope",
            "status",
            "statusChanged",
            "passwordChanged",
            "syncState",
            "credentials",
            "profile",
            "_links"
        ])
    );
    assert_eq!(keys(&r.body["_links"]), BTreeSet::from(["app", "user"]));
    assert_eq!(
        (&r.body["scope"], &r.body["status"]),
        (&json!("USER"), &json!("ACTIVE"))
    );
    assert_eq!(r.body["credentials"], json!({"userName": "john.doe"}));

    let one = org.get(&format!("{base}/{uid}")).await;
    assert_eq!(one.body, r.body);

    let r = org
        .post(
            &format!("{base}/{uid}"),
            json!({"credentials": {"userName": "JohnJohnJohn"}, "profile": {"role": "admin"}}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["credentials"]["userName"], "JohnJohnJohn");
    assert_eq!(r.body["profile"], json!({"role": "admin"}));

    let list = org.get(&format!("{base}?expand=user")).await;
    assert!(
        list.header("link")
            .unwrap()
            .contains(&format!("{base}?limit=50&expand=user"))
    );
    assert_eq!(ids(list.body.as_array().unwrap()), vec![uid.clone()]);
    assert_eq!(list.body[0]["_embedded"]["user"]["id"], json!(uid));
    let r = org.get(&format!("{base}?q=johnjohn")).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    let r = org.get(&format!("{base}?q=nobody")).await;
    assert_eq!(r.body, json!([]));

    assert_eq!(org.delete(&format!("{base}/{uid}")).await.status, 204);
    let r = org.get(&format!("{base}/{uid}")).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body["errorSummary"],
        format!("Not found: Resource not found: {uid} (AppUser)")
    );
    assert_eq!(org.get(&base).await.body, json!([]));

    for t in [
        "application.user_membership.add",
        "application.user_membership.update",
        "application.user_membership.remove",
    ] {
        let events = logged(&org, t);
        assert_eq!(events.len(), 1, "{t}");
        assert_eq!(
            target_types(&events[0]),
            vec!["AppUser", "AppInstance", "User"]
        );
        assert_eq!(events[0]["target"][2]["id"], json!(uid));
    }

    // Unknown user, unknown app.
    let r = org.post(&base, json!({"id": "00unobody00000000001"})).await;
    assert_eq!((r.status, r.error_code()), (404, Some("E0000007")));
    let r = org.get("/api/v1/apps/0oanope/users").await;
    assert_eq!((r.status, r.error_code()), (404, Some("E0000007")));
}

#[tokio::test]
async fn group_assignment_grants_app_users_and_pages() {
    let org = TestOrg::start().await;
    let app = create_app(&org, "", "Everyone's App").await;
    let app_id = app["id"].as_str().unwrap();
    let everyone = org.sim().org.read().everyone_group_id.clone();
    let r = org
        .put(
            &format!("/api/v1/apps/{app_id}/groups/{everyone}"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200);

    let all = org
        .collect(&format!("/api/v1/apps/{app_id}/users?limit=7"), 20)
        .await;
    let got = ids(&all);
    let unique: BTreeSet<_> = got.iter().cloned().collect();
    assert_eq!(unique.len(), got.len(), "no duplicates");
    let expected = org.sim().org.read().members[&everyone].clone();
    assert_eq!(unique, expected, "none missing");
    assert!(all.iter().all(|u| u["scope"] == "GROUP"));
    let group_link = all[0]["_links"]["group"]["href"].as_str().unwrap();
    assert!(group_link.ends_with(&everyone));

    // A group-granted assignment cannot be removed user by user.
    let uid = &got[1];
    let r = org
        .delete(&format!("/api/v1/apps/{app_id}/users/{uid}"))
        .await;
    assert_eq!((r.status, r.error_code()), (403, Some("E0000046")));

    // A direct assignment on top: deleting it falls back to the group's.
    let r = org
        .post(&format!("/api/v1/apps/{app_id}/users"), json!({"id": uid}))
        .await;
    assert_eq!(r.body["scope"], "USER");
    assert_eq!(
        org.delete(&format!("/api/v1/apps/{app_id}/users/{uid}"))
            .await
            .status,
        204
    );
    let r = org.get(&format!("/api/v1/apps/{app_id}/users/{uid}")).await;
    assert_eq!((r.status, &r.body["scope"]), (200, &json!("GROUP")));

    // Unassigning the group takes the implied users with it.
    let r = org
        .delete(&format!("/api/v1/apps/{app_id}/groups/{everyone}"))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        org.get(&format!("/api/v1/apps/{app_id}/users")).await.body,
        json!([])
    );
}

#[tokio::test]
async fn app_group_assignment_round_trip() {
    let org = TestOrg::start().await;
    let app = create_app(&org, "", "AddBookmarkApp").await;
    let app_id = app["id"].as_str().unwrap();
    let mut gids = Vec::new();
    for name in ["Group-Target-Test", "Group-Target-Test-2"] {
        let r = org
            .post("/api/v1/groups", json!({"profile": {"name": name}}))
            .await;
        gids.push(r.body["id"].as_str().unwrap().to_string());
    }
    let base = format!("/api/v1/apps/{app_id}/groups");
    for gid in &gids {
        let r = org.put(&format!("{base}/{gid}"), json!({})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            keys(&r.body),
            BTreeSet::from(["id", "lastUpdated", "priority", "profile", "_links"])
        );
        assert_eq!(
            keys(&r.body["_links"]),
            BTreeSet::from(["app", "self", "group"])
        );
        assert_eq!(r.body["priority"], 0);
    }
    // As recorded: the newest assignment takes priority 0 and pushes the other down.
    let one = org.get(&format!("{base}/{}", gids[0])).await;
    assert_eq!(one.body["priority"], 1);

    // limit has a minimum of 20: limit=1 still returns both.
    let list = org.get(&format!("{base}?limit=1")).await;
    assert_eq!(list.body.as_array().unwrap().len(), 2);
    assert!(list.next_link().is_none());
    let list = org
        .get(&format!("{base}?q=group-target-test-&expand=group"))
        .await;
    assert_eq!(ids(list.body.as_array().unwrap()), vec![gids[1].clone()]);
    assert_eq!(list.body[0]["_embedded"]["group"]["id"], json!(gids[1]));

    assert_eq!(org.delete(&format!("{base}/{}", gids[1])).await.status, 204);
    let r = org.get(&format!("{base}/{}", gids[1])).await;
    assert_eq!((r.status, r.error_code()), (404, Some("E0000007")));
    assert_eq!(
        org.get(&format!("{base}/{}", gids[0])).await.body["priority"],
        0
    );
    let r = org.put(&format!("{base}/00gnope"), json!({})).await;
    assert_eq!((r.status, r.error_code()), (404, Some("E0000007")));

    let adds = logged(&org, "group.application_assignment.add");
    assert_eq!(adds.len(), 2);
    assert_eq!(target_types(&adds[0]), vec!["AppInstance", "UserGroup"]);
    let removes = logged(&org, "group.application_assignment.remove");
    assert_eq!(removes.len(), 1);
    assert_eq!(removes[0]["target"][1]["id"], json!(gids[1]));
}

#[tokio::test]
async fn links_follow_the_sign_on_mode() {
    let org = TestOrg::start().await;
    let base = org.server.base_url().to_string();
    let oidc = org
        .post(
            "/api/v1/apps",
            json!({"name": "oidc_client", "label": "Links OIDC", "signOnMode": "OPENID_CONNECT",
                "settings": {"oauthClient": {"grant_types": ["client_credentials"],
                    "response_types": ["token"], "application_type": "service"}}}),
        )
        .await;
    assert_eq!(oidc.status, 200, "{}", oidc.text);
    let id = oidc.body["id"].as_str().unwrap();
    assert_eq!(
        oidc.body["_links"]["clientCredentials"],
        json!([{"name": "secrets", "href": format!("{base}/api/v1/apps/{id}/credentials/secrets")}])
    );
    let saml = org
        .post(
            "/api/v1/apps",
            json!({"name": "okta_org2org", "label": "Links SAML", "signOnMode": "SAML_2_0",
                "settings": {"app": {"baseUrl": "https://example.okta.com"}}}),
        )
        .await;
    assert_eq!(saml.status, 200, "{}", saml.text);
    let id = saml.body["id"].as_str().unwrap();
    let links = &saml.body["_links"];
    assert_eq!(
        links["metadata"],
        json!({"href": format!("{base}/api/v1/apps/{id}/sso/saml/metadata"), "type": "application/xml"})
    );
    assert_eq!(links["help"]["type"], "text/html");
    assert!(links.get("clientCredentials").is_none());
    let bookmark = create_app(&org, "", "Links Bookmark").await;
    for rel in ["clientCredentials", "help", "metadata"] {
        assert!(bookmark["_links"].get(rel).is_none(), "{rel}");
    }
}

/// A client-supplied priority is a position: huge or negative values (i64::MAX used to overflow)
/// land at the ends, for new and existing assignments alike.
#[tokio::test]
async fn group_priorities_are_clamped_to_positions() {
    let org = TestOrg::start().await;
    let app = create_app(&org, "", "Priorities").await;
    let app_id = app["id"].as_str().unwrap().to_string();
    let group_ids: Vec<String> = org
        .sim()
        .org
        .read()
        .groups
        .keys()
        .take(3)
        .cloned()
        .collect();
    let url = |g: &str| format!("/api/v1/apps/{app_id}/groups/{g}");
    let r = org
        .put(&url(&group_ids[0]), json!({"priority": i64::MAX}))
        .await;
    assert_eq!(
        (r.status, r.body["priority"].as_i64()),
        (200, Some(0)),
        "{}",
        r.text
    );
    let r = org
        .put(&url(&group_ids[1]), json!({"priority": i64::MAX}))
        .await;
    assert_eq!(
        (r.status, r.body["priority"].as_i64()),
        (200, Some(1)),
        "{}",
        r.text
    );
    let r = org
        .put(&url(&group_ids[2]), json!({"priority": i64::MIN}))
        .await;
    assert_eq!(
        (r.status, r.body["priority"].as_i64()),
        (200, Some(0)),
        "{}",
        r.text
    );
    // An existing assignment moved past the end is last.
    let r = org
        .put(&url(&group_ids[2]), json!({"priority": i64::MAX}))
        .await;
    assert_eq!(
        (r.status, r.body["priority"].as_i64()),
        (200, Some(2)),
        "{}",
        r.text
    );
    // Another new one at i64::MAX goes after all of them.
    let fourth = org.sim().org.read().groups.keys().nth(3).cloned().unwrap();
    let r = org.put(&url(&fourth), json!({"priority": i64::MAX})).await;
    assert_eq!(
        (r.status, r.body["priority"].as_i64()),
        (200, Some(3)),
        "{}",
        r.text
    );
}

/// Okta never shows an app's password (`password: {}`), and shows an OIDC client secret only in
/// the response that created it.
#[tokio::test]
async fn app_secrets_are_not_echoed() {
    let org = TestOrg::start().await;
    let swa = json!({"label": "Shared SWA", "signOnMode": "BROWSER_PLUGIN", "name": "template_swa",
        "credentials": {"scheme": "SHARED_USERNAME_AND_PASSWORD", "userName": "shared",
                        "password": {"value": "Sup3rSecret!"}}});
    let r = org.post("/api/v1/apps", swa).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["credentials"]["password"], json!({}));
    assert_eq!(r.body["credentials"]["userName"], "shared");
    let got = org.get(&format!("/api/v1/apps/{id}")).await;
    assert_eq!(got.body["credentials"]["password"], json!({}));
    let listed = org.collect("/api/v1/apps?limit=200", 5).await;
    assert!(
        !serde_json::to_string(&listed)
            .unwrap()
            .contains("Sup3rSecret")
    );

    let oidc = json!({"label": "Client", "signOnMode": "OPENID_CONNECT", "name": "oidc_client",
        "credentials": {"oauthClient": {"client_secret": "my-own-secret-value"}}});
    let r = org.post("/api/v1/apps", oidc).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.body["credentials"]["oauthClient"]["client_secret"],
        "my-own-secret-value"
    );
    let got = org.get(&format!("/api/v1/apps/{id}")).await;
    assert_eq!(got.status, 200);
    assert!(
        got.body["credentials"]["oauthClient"]
            .get("client_secret")
            .is_none()
    );
    assert_eq!(
        got.body["credentials"]["oauthClient"]["client_id"],
        id.as_str()
    );
    let mut body = got.body.clone();
    body["credentials"]["oauthClient"]["client_secret"] = json!("replaced-secret");
    let put = org.put(&format!("/api/v1/apps/{id}"), body).await;
    assert_eq!(put.status, 200, "{}", put.text);
    assert!(!put.text.contains("replaced-secret"));
    let got = org.get(&format!("/api/v1/apps/{id}")).await;
    assert!(
        got.body["credentials"]["oauthClient"]
            .get("client_secret")
            .is_none()
    );
}

/// `activate` is read like every other flag (case-insensitively); a query axum's typed extractor
/// would refuse with a text/plain 400 gets an ordinary answer.
#[tokio::test]
async fn create_reads_activate_like_okta() {
    let org = TestOrg::start().await;
    for (query, status) in [
        ("?activate=FALSE", "INACTIVE"),
        ("?activate=false&activate=true", "INACTIVE"),
        ("?activate=True", "ACTIVE"),
        ("?activate=%ZZ", "ACTIVE"),
        ("", "ACTIVE"),
    ] {
        let r = org
            .post(&format!("/api/v1/apps{query}"), bookmark("Flags"))
            .await;
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        assert_eq!(r.body["status"], status, "{query}");
    }
}

/// Nested app objects of the wrong JSON type are Okta's E0000003, not a crash while rendering.
#[tokio::test]
async fn nested_objects_of_the_wrong_type_are_malformed_bodies() {
    let org = TestOrg::start().await;
    for body in [
        json!({"label": "X", "signOnMode": "OPENID_CONNECT", "credentials": 5}),
        json!({"label": "X", "signOnMode": "OPENID_CONNECT", "credentials": {"oauthClient": "x"}}),
        json!({"label": "X", "signOnMode": "BOOKMARK", "visibility": [1]}),
        json!({"label": "X", "signOnMode": "BOOKMARK", "credentials": {"password": "plain"}}),
    ] {
        let r = org.post("/api/v1/apps", body.clone()).await;
        assert_eq!(
            (r.status, r.error_code()),
            (400, Some("E0000003")),
            "{body}: {}",
            r.text
        );
    }
}
