//! The org's user profile schema as input rules, against recorded real schemas and against the
//! in-process simulator: the connector's reading of a bad profile must agree with the org's.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use okta_client::models::UserSchema;
use okta_client::{Auth, Client, ClientConfig, ManualClock, Query, SecretString};
use okta_connector::profile_schema::{
    DEFAULT_TTL, Mode, ProfileSchema, REFRESH_COOLDOWN, SchemaCache, ValidationFailure,
};
use okta_sim::{SimConfig, SimServer};
use reqwest::Method;
use serde_json::{Map, Value, json};

const SCHEMA_ROUTE: &str = "GET /api/v1/meta/schemas/user/{schema_id}";

async fn sim() -> (SimServer, Client) {
    let server = okta_sim::spawn(SimConfig::small(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let config = ClientConfig::new(
        server.base_url().parse().unwrap(),
        Auth::ApiToken(SecretString::new(server.api_token())),
    );
    let client = Client::new(config).unwrap();
    (server, client)
}

fn schema_fetches(server: &SimServer) -> u64 {
    server.sim().counters.count(SCHEMA_ROUTE)
}

fn profile(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// Wrong in every way the simulator's seeded schema allows, plus an unknown attribute.
fn bad_profile() -> Map<String, Value> {
    profile(json!({
        "login": "ada.lovelace@example.com",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada.lovelace@example.com",
        "clearanceLevel": 9,
        "isContractor": "yes",
        "region": "MARS",
        "skills": "rust",
        "startDate": "1815-12-1",
    }))
}

#[tokio::test]
async fn the_cache_fetches_once_and_a_good_profile_passes() {
    let (server, client) = sim().await;
    let cache = SchemaCache::new(DEFAULT_TTL);
    let schema = cache.get(&client).await.unwrap();
    for name in [
        "login",
        "employeeId",
        "clearanceLevel",
        "isContractor",
        "region",
        "skills",
        "startDate",
    ] {
        assert!(schema.attribute(name).is_some(), "{name}");
    }
    let good = profile(json!({
        "login": "ada.lovelace@example.com", "firstName": "Ada", "lastName": "Lovelace",
        "email": "ada.lovelace@example.com", "employeeId": "E123456", "clearanceLevel": 5,
        "isContractor": false, "region": "EMEA", "skills": ["math"], "startDate": "1833-06-05",
    }));
    // Many concurrent validations, as a bulk run makes them: one fetch.
    let runs = (0..200).map(|_| cache.validate_profile(&client, &good, Mode::Create));
    for r in futures_util::future::join_all(runs).await {
        r.unwrap();
    }
    assert_eq!(schema_fetches(&server), 1);
    // The org agrees: it creates the user.
    let created: Value = client
        .json(
            Method::POST,
            "/api/v1/users",
            &Query::new().push("activate", "false"),
            Some(&json!({"profile": good})),
        )
        .await
        .unwrap();
    assert_eq!(created["status"], "STAGED");
    server.shutdown().await;
}

#[tokio::test]
async fn a_bad_profile_names_the_fields_the_org_refuses() {
    let (server, client) = sim().await;
    let cache = SchemaCache::new(DEFAULT_TTL);
    let bad = bad_profile();
    let Err(ValidationFailure::Invalid(errors)) =
        cache.validate_profile(&client, &bad, Mode::Create).await
    else {
        panic!("a bad profile passed");
    };
    let ours: BTreeSet<&str> = errors.fields().into_iter().collect();
    assert_eq!(
        ours,
        BTreeSet::from([
            "employeeId",
            "clearanceLevel",
            "isContractor",
            "region",
            "skills",
            "startDate"
        ]),
        "{errors}"
    );
    assert!(
        errors
            .to_string()
            .contains("profile.clearanceLevel: 9 is above the maximum 5"),
        "{errors}"
    );

    let refused = client
        .json::<Value, _>(
            Method::POST,
            "/api/v1/users",
            &Query::new(),
            Some(&json!({"profile": bad})),
        )
        .await
        .unwrap_err();
    let body = refused.body.expect("Okta's error body");
    assert_eq!(body.error_code.as_deref(), Some("E0000001"));
    let theirs: BTreeSet<String> = body
        .error_causes
        .unwrap_or_default()
        .iter()
        .filter_map(|c| Some(c.error_summary.as_deref()?.split_once(':')?.0.to_string()))
        .collect();
    assert_eq!(
        theirs,
        ours.iter().map(|s| s.to_string()).collect(),
        "{errors}"
    );

    // An unknown attribute is named too (the simulator, like Okta, names it only when nothing
    // else is wrong).
    let mut unknown = bad_profile();
    unknown.insert("nickname".into(), json!("Ada"));
    let errors = cache
        .get(&client)
        .await
        .unwrap()
        .validate(&unknown, Mode::Create)
        .unwrap_err();
    assert!(
        errors.to_string().contains(
            "profile.nickname: not an attribute of this org's user profile (did you mean nickName?"
        ),
        "{errors}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_schema_is_fetched_again_after_the_ttl() {
    let (server, client) = sim().await;
    let clock = ManualClock::new();
    let cache = SchemaCache::with_clock(Duration::from_secs(60), Arc::new(clock.clone()));
    let first = cache.get(&client).await.unwrap();
    clock.advance(Duration::from_secs(59));
    assert!(Arc::ptr_eq(&first, &cache.get(&client).await.unwrap()));
    assert_eq!(schema_fetches(&server), 1);
    clock.advance(Duration::from_secs(1));
    assert!(!Arc::ptr_eq(&first, &cache.get(&client).await.unwrap()));
    assert_eq!(schema_fetches(&server), 2);
    cache.refresh(&client).await.unwrap();
    assert_eq!(schema_fetches(&server), 3);
    // A TTL of zero fetches every time.
    cache.set_ttl(Duration::ZERO);
    cache.get(&client).await.unwrap();
    assert_eq!(schema_fetches(&server), 4);
    server.shutdown().await;
}

#[tokio::test]
async fn an_attribute_added_since_the_schema_was_cached_is_found_by_one_refresh() {
    let (server, client) = sim().await;
    let clock = ManualClock::new();
    let cache = SchemaCache::with_clock(DEFAULT_TTL, Arc::new(clock.clone()));
    cache.get(&client).await.unwrap();
    let _: Value = client
        .json(
            Method::POST,
            "/api/v1/meta/schemas/user/default",
            &Query::new(),
            Some(&json!({
                "definitions": {"custom": {"id": "#custom", "type": "object", "properties": {
                    "costCode": {"title": "Cost code", "type": "string", "maxLength": 8}}}}
            })),
        )
        .await
        .unwrap();
    let update = profile(json!({"costCode": "CC-1"}));
    // Within the cooldown the cached schema is trusted: a file full of one misspelt attribute
    // must not fetch once per line.
    for _ in 0..5 {
        let Err(ValidationFailure::Invalid(e)) =
            cache.validate_profile(&client, &update, Mode::Update).await
        else {
            panic!("passed before the schema was fetched again");
        };
        assert_eq!(e.fields(), ["costCode"]);
    }
    assert_eq!(schema_fetches(&server), 1);
    clock.advance(REFRESH_COOLDOWN);
    cache
        .validate_profile(&client, &update, Mode::Update)
        .await
        .unwrap();
    cache
        .validate_profile(&client, &update, Mode::Update)
        .await
        .unwrap();
    assert_eq!(schema_fetches(&server), 2);
    // The new attribute's rules apply.
    let long = profile(json!({"costCode": "CC-123456"}));
    let Err(ValidationFailure::Invalid(e)) =
        cache.validate_profile(&client, &long, Mode::Update).await
    else {
        panic!("too long passed");
    };
    assert_eq!(
        e.to_string(),
        "profile.costCode: 9 characters, above the maximum length 8"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_json_schema_shows_the_orgs_custom_fields() {
    let (server, client) = sim().await;
    let schema = SchemaCache::new(DEFAULT_TTL).get(&client).await.unwrap();
    let j = schema.to_json_schema();
    assert_eq!(
        j["properties"]["region"]["oneOf"][0],
        json!({"const": "AMER", "title": "Americas"})
    );
    assert_eq!(j["properties"]["clearanceLevel"]["maximum"], 5);
    assert_eq!(j["properties"]["skills"]["items"]["type"], "string");
    assert!(
        j["required"]
            .as_array()
            .unwrap()
            .contains(&json!("employeeId"))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_process_wide_cache_serves_the_free_function() {
    let (server, client) = sim().await;
    let p = profile(json!({"clearanceLevel": 2}));
    for _ in 0..3 {
        okta_connector::profile_schema::validate_profile(&client, &p, Mode::Update)
            .await
            .unwrap();
    }
    assert_eq!(schema_fetches(&server), 1);
    assert!(Arc::ptr_eq(
        &okta_connector::profile_schema::cache()
            .get(&client)
            .await
            .unwrap(),
        &okta_connector::profile_schema::cache()
            .get(&client)
            .await
            .unwrap()
    ));
    server.shutdown().await;
}

// --- recorded real schemas -----------------------------------------------------------------------

fn cassettes_dir() -> PathBuf {
    let shared = std::env::var_os("OKTA_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join("fixtures/recorded/okta-sdk-python/tests/integration/cassettes");
    if dir.is_dir() {
        dir
    } else {
        PathBuf::from("/work/shared/fixtures/recorded/okta-sdk-python/tests/integration/cassettes")
    }
}

/// Every recorded 2xx response body whose request path passes `wanted`, as JSON.
fn recorded(wanted: impl Fn(&str, &str) -> bool) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cassettes_dir())
        .expect("the recorded fixtures")
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut bodies = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let cassette: serde_yaml::Value =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for i in cassette["interactions"].as_sequence().into_iter().flatten() {
            let method = i["request"]["method"].as_str().unwrap_or_default();
            let uri = i["request"]["uri"].as_str().unwrap_or_default();
            let path = uri.split_once(".com").map_or(uri, |(_, p)| p);
            let path = path.split('?').next().unwrap_or_default();
            let ok = i["response"]["status"]["code"]
                .as_u64()
                .is_some_and(|c| (200..300).contains(&c));
            if ok
                && wanted(method, path)
                && let Some(body) = i["response"]["body"]["string"].as_str()
                && let Ok(json) = serde_json::from_str::<Value>(body)
            {
                bodies.push(json);
            }
        }
    }
    bodies
}

#[test]
fn every_recorded_user_schema_builds_and_recorded_users_validate_against_it() {
    let schemas: Vec<ProfileSchema> = recorded(|_, p| p == "/api/v1/meta/schemas/user/default")
        .into_iter()
        .map(|v| ProfileSchema::from_user_schema(&serde_json::from_value::<UserSchema>(v).unwrap()))
        .collect();
    assert!(schemas.len() >= 3, "{}", schemas.len());
    for s in &schemas {
        assert!(
            s.attribute("login")
                .is_some_and(|a| a.required && a.min_length == Some(5))
        );
        assert!(
            s.attributes().iter().any(|a| a.custom),
            "the recorded org has custom attributes"
        );
        assert!(s.to_json_schema()["properties"]["customAttr"]["x-okta-custom"] == true);
    }
    // The recordings come from several orgs (every host was rewritten to test.okta.com), so a
    // recorded user cannot be tied to the schema's org by its custom attributes. Okta's base
    // attributes are the same in every org: each recorded user's base profile must be a valid new
    // profile under each recorded schema.
    let users: Vec<Map<String, Value>> = recorded(|m, p| {
        m != "DELETE" && p.starts_with("/api/v1/users") && p.matches('/').count() <= 4
    })
    .into_iter()
    .flat_map(|v| match v {
        Value::Array(items) => items,
        one => vec![one],
    })
    .filter_map(|u| u.get("profile")?.as_object().cloned())
    .filter(|p| p.contains_key("login"))
    .collect();
    assert!(users.len() >= 50, "{}", users.len());
    for s in &schemas {
        for user in &users {
            let base: Map<String, Value> = user
                .iter()
                .filter(|(k, _)| s.attribute(k).is_some_and(|a| !a.custom))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if let Err(e) = s.validate(&base, Mode::Create) {
                panic!("{e}\n{user:?}");
            }
        }
    }
}
