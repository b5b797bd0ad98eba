//! `/api/v1/meta`: the profile schemas (read and partial update) and user types.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::TestOrg;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const SCHEMA_KEYS: &[&str] = &[
    "id",
    "$schema",
    "name",
    "title",
    "description",
    "lastUpdated",
    "created",
    "definitions",
    "type",
    "properties",
    "_links",
];

#[tokio::test]
async fn schemas_have_the_recorded_shape() {
    let org = TestOrg::start().await;
    let base = org.server.base_url().to_string();
    let user = org.get("/api/v1/meta/schemas/user/default").await;
    assert_eq!(user.status, 200);
    assert_eq!(keys(&user.body), set(SCHEMA_KEYS));
    assert_eq!(user.body["id"], format!("{base}/meta/schemas/user/default"));
    assert_eq!(keys(&user.body["_links"]), set(&["self", "type"]));
    let type_href = user.body["_links"]["type"]["href"].as_str().unwrap();
    assert!(type_href.starts_with(&format!("{base}/api/v1/meta/types/user/oty")));
    assert_eq!(
        user.body["definitions"]["base"]["required"],
        json!(["login", "firstName", "lastName", "email"])
    );
    let group = org.get("/api/v1/meta/schemas/group/default").await;
    assert_eq!(keys(&group.body), set(SCHEMA_KEYS));
    assert_eq!(keys(&group.body["_links"]), set(&["self"]));
}

#[tokio::test]
async fn custom_attributes_are_added_changed_and_removed() {
    let org = TestOrg::start().await;
    let url = "/api/v1/meta/schemas/user/default";
    let add = json!({"definitions": {"custom": {"id": "#custom", "type": "object", "properties": {
        "badgeNumber": {"title": "Badge number", "type": "string", "minLength": 1, "maxLength": 6}
    }}}});
    let r = org.post(url, add).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let custom = &r.body["definitions"]["custom"]["properties"];
    assert_eq!(custom["badgeNumber"]["mutability"], "READ_WRITE");
    assert_eq!(custom["badgeNumber"]["scope"], "NONE");
    assert!(custom["badgeNumber"]["permissions"].is_array());
    // Attributes left out of the request are kept.
    assert!(custom.get("employeeId").is_some() && custom.get("region").is_some());

    // The new attribute now validates user profiles.
    let login = "badge.holder@example.com";
    let mut profile = json!({"login": login, "email": login, "firstName": "B", "lastName": "H",
        "employeeId": "E800001", "badgeNumber": "TOO-LONG-BADGE"});
    let r = org
        .post("/api/v1/users?activate=false", json!({"profile": profile}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errorSummary"], "Api validation failed: badgeNumber");
    profile["badgeNumber"] = json!("B-12");
    let r = org
        .post("/api/v1/users?activate=false", json!({"profile": profile}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Changing a definition merges over it.
    let change =
        json!({"definitions": {"custom": {"properties": {"badgeNumber": {"maxLength": 20}}}}});
    let r = org.post(url, change).await;
    assert_eq!(
        r.body["definitions"]["custom"]["properties"]["badgeNumber"]["maxLength"],
        20
    );
    assert_eq!(
        r.body["definitions"]["custom"]["properties"]["badgeNumber"]["title"],
        "Badge number"
    );

    // `null` removes it.
    let remove = json!({"definitions": {"custom": {"properties": {"badgeNumber": null}}}});
    let r = org.post(url, remove).await;
    assert!(
        r.body["definitions"]["custom"]["properties"]
            .get("badgeNumber")
            .is_none()
    );
    let again = org.get(url).await;
    assert!(
        again.body["definitions"]["custom"]["properties"]
            .get("badgeNumber")
            .is_none()
    );
}

#[tokio::test]
async fn bad_schema_changes_are_refused() {
    let org = TestOrg::start().await;
    let url = "/api/v1/meta/schemas/user/default";
    let no_type = json!({"definitions": {"custom": {"properties": {"x": {"title": "X"}}}}});
    let r = org.post(url, no_type).await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000001")));
    let drop_base = json!({"definitions": {"base": {"properties": {"login": null}}}});
    let r = org.post(url, drop_base).await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000001")));
    let r = org.get(url).await;
    assert!(
        r.body["definitions"]["base"]["properties"]
            .get("login")
            .is_some()
    );
}

#[tokio::test]
async fn user_types_list_and_get() {
    let org = TestOrg::start().await;
    let base = org.server.base_url().to_string();
    let r = org.get("/api/v1/meta/types/user").await;
    assert_eq!(r.status, 200);
    let types = r.body.as_array().unwrap();
    assert_eq!(types.len(), 1);
    let t = &types[0];
    assert_eq!(
        keys(t),
        set(&[
            "id",
            "displayName",
            "name",
            "description",
            "createdBy",
            "lastUpdatedBy",
            "created",
            "lastUpdated",
            "default",
            "_links"
        ])
    );
    assert_eq!(t["default"], true);
    let id = t["id"].as_str().unwrap();
    assert_eq!(
        t["_links"]["self"],
        json!({"rel": "self", "href": format!("{base}/api/v1/meta/types/user/{id}"), "method": "GET"})
    );
    assert_eq!(
        t["_links"]["schema"]["href"],
        format!("{base}/api/v1/meta/schemas/user/osc{}", &id[3..])
    );
    let one = org.get(&format!("/api/v1/meta/types/user/{id}")).await;
    assert_eq!(one.body, *t);
    let missing = org.get("/api/v1/meta/types/user/otyNOPE").await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body["errorSummary"],
        "Not found: Resource not found: otyNOPE (CVDType)"
    );
}

#[tokio::test]
async fn user_types_are_created_updated_replaced_and_deleted() {
    let org = TestOrg::start().await;
    let base = org.server.base_url().to_string();
    let admin = org.sim().admin.id.clone();
    let create = json!({"name": "contractor", "displayName": "Contractor",
                        "description": "Non-employees"});
    let r = org.post("/api/v1/meta/types/user", create.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = r.body.clone();
    let id = t["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("oty") && id.len() == 20);
    assert_eq!(
        (&t["default"], &t["createdBy"], &t["lastUpdatedBy"]),
        (&json!(false), &json!(admin), &json!(admin))
    );
    // Its own schema id (`osc` + the type id's suffix), as recorded.
    let schema = format!("{base}/api/v1/meta/schemas/user/osc{}", &id[3..]);
    assert_eq!(t["_links"]["schema"]["href"], schema);
    let s = org.get(&schema).await;
    assert_eq!(s.status, 200);
    assert_eq!(
        s.body["id"],
        format!("{base}/meta/schemas/user/osc{}", &id[3..])
    );
    assert_eq!(
        s.body["_links"]["type"]["href"],
        format!("{base}/api/v1/meta/types/user/{id}")
    );
    let default_schema = org.get("/api/v1/meta/schemas/user/default").await;
    assert_eq!(s.body["definitions"], default_schema.body["definitions"]);
    let r = org.post(&schema, json!({"definitions": {}})).await;
    assert_eq!((r.status, r.error_code()), (404, Some("E0000008")));
    assert_eq!(
        org.get("/api/v1/meta/schemas/user/oscNOPE")
            .await
            .error_code(),
        Some("E0000007")
    );

    // Refusals: a taken name, a missing name, a malformed one.
    let r = org.post("/api/v1/meta/types/user", create).await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000001")));
    let r = org
        .post("/api/v1/meta/types/user", json!({"displayName": "No name"}))
        .await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000001")));
    let r = org
        .post(
            "/api/v1/meta/types/user",
            json!({"name": "9lives", "displayName": "Bad"}),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000001")));

    // POST is partial; the name can't change; PUT needs name, displayName and description.
    let url = format!("/api/v1/meta/types/user/{id}");
    let r = org
        .post(&url, json!({"displayName": "Contractor (updated)"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (&r.body["displayName"], &r.body["description"]),
        (&json!("Contractor (updated)"), &json!("Non-employees"))
    );
    let r = org.post(&url, json!({"name": "renamed"})).await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000001")));
    let r = org
        .put(&url, json!({"name": "contractor", "displayName": "C"}))
        .await;
    assert_eq!((r.status, r.error_code()), (400, Some("E0000001")));
    let r = org
        .put(
            &url,
            json!({"name": "contractor", "displayName": "C", "description": "replaced"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(org.get(&url).await.body["description"], "replaced");
    let list = org.get("/api/v1/meta/types/user").await;
    assert_eq!(list.body.as_array().unwrap().len(), 2);

    // `default` names the default type, which can't be deleted; nor can a type users have.
    let default = org.get("/api/v1/meta/types/user/default").await;
    assert_eq!(default.body["default"], true);
    let r = org.delete("/api/v1/meta/types/user/default").await;
    assert_eq!((r.status, r.error_code()), (403, Some("E0000142")));
    let r = org
        .post(
            "/api/v1/users?activate=false",
            json!({"type": {"id": id}, "profile": {"firstName": "Con", "lastName": "Tractor",
                "email": "con.tractor@example.com", "login": "con.tractor@example.com",
                "employeeId": "E777777"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let user = r.body["id"].as_str().unwrap().to_string();
    let r = org.delete(&url).await;
    assert_eq!((r.status, r.error_code()), (403, Some("E0000142")));
    org.delete(&format!("/api/v1/users/{user}")).await;
    org.delete(&format!("/api/v1/users/{user}")).await;
    assert_eq!(org.delete(&url).await.status, 204);
    let gone = org.get(&url).await;
    assert_eq!((gone.status, gone.error_code()), (404, Some("E0000007")));
    assert_eq!(org.get(&schema).await.status, 404);
}

/// A pattern that makes a backtracking matcher take exponential time (`a*` forty times, then a
/// `b` that never comes) is answered at once; a pattern past the length cap is refused.
#[tokio::test]
async fn patterns_are_bounded() {
    let org = TestOrg::start().await;
    let url = "/api/v1/meta/schemas/user/default";
    let pattern = format!("^{}b$", "a*".repeat(40));
    let body = json!({"definitions": {"custom": {"properties": {"slow": {
        "title": "Slow", "type": "string", "pattern": pattern}}}}});
    let r = org.post(url, body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let login = "pat.tern@example.com";
    let user = json!({"profile": {"login": login, "email": login, "firstName": "Pat",
        "lastName": "Tern", "employeeId": "E123456", "slow": "a".repeat(60)}});
    let r = org.post("/api/v1/users", user).await;
    assert_eq!(
        (r.status, r.error_code()),
        (400, Some("E0000001")),
        "{}",
        r.text
    );
    assert_eq!(
        r.body["errorCauses"][0]["errorSummary"],
        "slow: Does not match required pattern"
    );

    let long = json!({"definitions": {"custom": {"properties": {"slow": {
        "pattern": "a".repeat(257)}}}}});
    let r = org.post(url, long).await;
    assert_eq!(
        (r.status, r.error_code()),
        (400, Some("E0000001")),
        "{}",
        r.text
    );
    assert_eq!(
        r.body["errorCauses"][0]["errorSummary"],
        "slow: The pattern is too long (maximum length is 256)"
    );
}

/// Base attributes accept the changes the spec lists (permissions, whether firstName/lastName are
/// required, the login pattern) and refuse any other change; repeating the schema as read (what
/// the SDKs do) is accepted.
#[tokio::test]
async fn base_attributes_take_only_the_allowed_changes() {
    let org = TestOrg::start().await;
    let url = "/api/v1/meta/schemas/user/default";
    let schema = org.get(url).await.body;
    let r = org.post(url, schema.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["definitions"]["base"], schema["definitions"]["base"]);

    let allowed = json!({"definitions": {"base": {"properties": {
        "firstName": {"required": false,
                      "permissions": [{"principal": "SELF", "action": "READ_WRITE"}]},
        "login": {"pattern": "[^\\s]+"}}}}});
    let r = org.post(url, allowed).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let base = &r.body["definitions"]["base"];
    assert_eq!(base["properties"]["firstName"]["required"], false);
    assert_eq!(
        base["properties"]["firstName"]["permissions"][0]["action"],
        "READ_WRITE"
    );
    assert_eq!(base["properties"]["login"]["pattern"], "[^\\s]+");
    assert_eq!(base["required"], json!(["login", "lastName", "email"]));
    // firstName is now optional for new users.
    let login = "no.first@example.com";
    let r = org
        .post(
            "/api/v1/users",
            json!({"profile": {"login": login, "email": login, "lastName": "Only",
                   "employeeId": "E654321"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    for refused in [
        json!({"login": {"minLength": 1}}),
        json!({"email": {"required": false}}),
        json!({"firstName": {"type": "integer"}}),
    ] {
        let body = json!({"definitions": {"base": {"properties": refused}}});
        let r = org.post(url, body).await;
        assert_eq!(
            (r.status, r.error_code()),
            (400, Some("E0000001")),
            "{refused}"
        );
    }
    let after = org.get(url).await.body;
    assert_eq!(
        after["definitions"]["base"]["properties"]["login"]["minLength"],
        5
    );
}

/// A path segment that is not UTF-8 gets Okta's 404 E0000008 body, not axum's text/plain 400.
#[tokio::test]
async fn undecodable_path_segments_get_okta_errors() {
    let org = TestOrg::start().await;
    for path in [
        "/api/v1/users/%FF",
        "/api/v1/groups/%FF/users",
        "/api/v1/apps/%FF",
        "/api/v1/meta/types/user/%FF",
        "/api/v1/meta/schemas/user/%FF",
    ] {
        let r = org.get(path).await;
        assert_eq!(
            (r.status, r.error_code()),
            (404, Some("E0000008")),
            "{path}: {}",
            r.text
        );
    }
}
