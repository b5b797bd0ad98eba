//! The models against recorded real traffic: every success body of an endpoint a model covers, and
//! every error body, deserializes into its model and serializes back to equal JSON. The fields that
//! only survive in a catch-all are printed, so the team sees what the models do not type.
//!
//! Data: `shared/fixtures/recorded/` (README there): okta-sdk-python's vcrpy cassettes and Panther's
//! System Log test events.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use okta_client::models::{
    AppUser, Application, CatchAll, ErrorBody, Group, LogEvent, Nullable, OutcomeResult,
    SchemaAttribute, Timestamp, Unique, User, UserSchema, UserStatus, UserType,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Cassette loading
// ---------------------------------------------------------------------------------------------

/// Where `shared/` is: `OKTA_SHARED_DIR`, else next to the workspace, else `/work/shared`.
fn shared_dir() -> PathBuf {
    let candidates = [
        std::env::var_os("OKTA_SHARED_DIR").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")),
        Some(PathBuf::from("/work/shared")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|dir| dir.join("fixtures/recorded").is_dir())
        .expect("shared/fixtures/recorded not found (set OKTA_SHARED_DIR)")
}

/// Cassettes the fixtures README (caveat 5) calls hand-written rather than recorded.
const SYNTHETIC: [&str; 4] = [
    "TestApiServiceIntegrationsResource.test_api_service_integration_lifecycle.yaml",
    "TestCrossAppAccessConnectionsResource.test_cross_app_access_connection_lifecycle.yaml",
    "aTestApplicationFeaturesResource.test_application_features_lifecycle.yaml",
    "TestFactorsResource.test_list_factors_signed_nonce.yaml",
];

mod vcr {
    //! The vcrpy YAML, as far as these tests read it.
    use std::collections::BTreeMap;

    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct Cassette {
        pub interactions: Vec<Interaction>,
    }

    #[derive(Deserialize)]
    pub struct Interaction {
        pub request: Request,
        pub response: Response,
    }

    /// The request body (null, a string or a form mapping) is not needed here and is ignored.
    #[derive(Deserialize)]
    pub struct Request {
        pub method: String,
        pub uri: String,
    }

    #[derive(Deserialize)]
    pub struct Response {
        pub status: Status,
        #[serde(default)]
        pub headers: BTreeMap<String, HeaderValue>,
        pub body: Body,
    }

    #[derive(Deserialize)]
    pub struct Status {
        pub code: u16,
    }

    #[derive(Deserialize)]
    pub struct Body {
        #[serde(default)]
        pub string: Option<String>,
    }

    /// 2020 cassettes store `Name: value`, later ones `Name: [value, ...]`.
    #[derive(Deserialize)]
    #[serde(untagged)]
    pub enum HeaderValue {
        One(String),
        Many(Vec<String>),
    }

    impl Response {
        /// The first value of a header, any case.
        pub fn header(&self, name: &str) -> Option<&str> {
            let (_, value) = self
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))?;
            match value {
                HeaderValue::One(v) => Some(v),
                HeaderValue::Many(vs) => vs.first().map(String::as_str),
            }
        }
    }
}

/// One recorded response with a JSON body.
struct Recorded {
    cassette: String,
    method: String,
    /// Path only, `//` collapsed (some requests used `//api/v1/...`).
    path: String,
    status: u16,
    body: Value,
    request_id: Option<String>,
}

/// Every recorded response with a non-empty body, loaded once.
fn recorded() -> &'static [Recorded] {
    static ALL: OnceLock<Vec<Recorded>> = OnceLock::new();
    ALL.get_or_init(|| {
        let root =
            shared_dir().join("fixtures/recorded/okta-sdk-python/tests/integration/cassettes");
        let mut files = Vec::new();
        for dir in std::fs::read_dir(&root).expect("cassettes dir") {
            for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
                files.push(file.unwrap().path());
            }
        }
        files.sort();
        let mut out = Vec::new();
        for file in files {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".yaml") || SYNTHETIC.iter().any(|s| name.ends_with(s)) {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let cassette: vcr::Cassette =
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            for i in cassette.interactions {
                let text = i.response.body.string.as_deref().unwrap_or("");
                if text.trim().is_empty() {
                    continue;
                }
                let body: Value = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("{name}: body is not JSON: {e}"));
                out.push(Recorded {
                    cassette: name.clone(),
                    method: i.request.method.to_uppercase(),
                    path: path_of(&i.request.uri),
                    status: i.response.status.code,
                    request_id: i.response.header("x-okta-request-id").map(str::to_string),
                    body,
                });
            }
        }
        out
    })
}

/// `https://test.okta.com//api/v1/users?limit=1` → `/api/v1/users`.
fn path_of(uri: &str) -> String {
    let after_scheme = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    let path = path.split(['?', '#']).next().unwrap();
    let mut out = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(segment);
    }
    out
}

/// Which model a 2xx body of `method path` is (or a list of), if any.
fn model_of(method: &str, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let ["api", "v1", rest @ ..] = segments.as_slice() else {
        return None;
    };
    let read = method == "GET";
    let write = matches!(method, "POST" | "PUT");
    Some(match rest {
        ["users"] if read || write => "User",
        ["users", _] if read || write => "User",
        ["users", _, "groups"] if read => "Group",
        ["groups"] if read || write => "Group",
        ["groups", "rules", ..] => return None,
        ["groups", _] if read || write => "Group",
        ["groups", _, "users"] if read => "User",
        ["groups", _, "apps"] if read => "Application",
        ["apps"] if read || write => "Application",
        ["apps", _] if read || write => "Application",
        ["apps", _, "users"] if read || write => "AppUser",
        ["apps", _, "users", _] if read || write => "AppUser",
        ["meta", "schemas", "user", "linkedObjects", ..] => return None,
        ["meta", "schemas", "user", _] if read || write => "UserSchema",
        ["meta", "types", "user"] if read || write => "UserType",
        ["meta", "types", "user", _] if read || write || method == "PATCH" => "UserType",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// The round trip
// ---------------------------------------------------------------------------------------------

/// What one model's run found.
#[derive(Default)]
struct Report {
    bodies: usize,
    objects: usize,
    /// Untyped key path → how many objects had it.
    untyped: BTreeMap<String, usize>,
}

/// Deserializes `value` as `T`, checks that serializing gives back equal JSON, and records the
/// untyped fields.
fn round_trip<T>(value: &Value, origin: &str, report: &mut Report) -> T
where
    T: DeserializeOwned + Serialize + CatchAll,
{
    let model: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{origin}: does not deserialize: {e}\n{value:#}"));
    let back = serde_json::to_value(&model).unwrap();
    assert_eq!(&back, value, "{origin}: round trip changed the JSON");
    report.objects += 1;
    for field in BTreeSet::from_iter(model.untyped_fields()) {
        *report.untyped.entry(field).or_default() += 1;
    }
    model
}

/// Every recorded success body of `model` (a list or one object), round-tripped as `T`.
fn check_recorded<T>(model: &str) -> (Report, Vec<T>)
where
    T: DeserializeOwned + Serialize + CatchAll,
{
    let mut report = Report::default();
    let mut parsed = Vec::new();
    for r in recorded() {
        if !(200..300).contains(&r.status) || model_of(&r.method, &r.path) != Some(model) {
            continue;
        }
        report.bodies += 1;
        let origin = format!("{} {} {} ({})", r.method, r.path, r.status, r.cassette);
        match &r.body {
            Value::Array(items) => {
                for item in items {
                    parsed.push(round_trip(item, &origin, &mut report));
                }
            }
            // Lifecycle-like answers on these paths (`{}` after a deactivate) are not resources.
            Value::Object(map) if map.is_empty() => report.bodies -= 1,
            object => parsed.push(round_trip(object, &origin, &mut report)),
        }
    }
    print_report(model, &report);
    (report, parsed)
}

fn print_report(model: &str, report: &Report) {
    println!(
        "{model}: {} bodies, {} objects; fields kept in a catch-all (path: objects):",
        report.bodies, report.objects
    );
    for (field, count) in &report.untyped {
        println!("    {field}: {count}");
    }
}

fn assert_known<E: Debug + PartialEq>(
    values: impl IntoIterator<Item = E>,
    other: impl Fn(&E) -> bool,
) {
    let unknown: Vec<E> = values.into_iter().filter(|v| other(v)).collect();
    assert!(
        unknown.is_empty(),
        "values the enum does not know: {unknown:?}"
    );
}

#[test]
fn recorded_users_round_trip() {
    let (report, users) = check_recorded::<User>("User");
    assert!(
        report.bodies >= 50 && report.objects >= 100,
        "too few users: {}",
        report.objects
    );
    assert!(
        users
            .iter()
            .all(|u| u.login().is_some() && !u.id.is_empty())
    );
    assert_known(users.iter().filter_map(|u| u.status.get()), |s| {
        matches!(s, UserStatus::Other(_))
    });
    // Okta sends `lastLogin: null` for users who never signed in: the null must be kept.
    assert!(users.iter().any(|u| u.last_login.is_null()));
}

#[test]
fn recorded_groups_round_trip() {
    let (report, groups) = check_recorded::<Group>("Group");
    assert!(report.objects >= 30, "too few groups: {}", report.objects);
    assert!(
        groups
            .iter()
            .all(|g| g.name().is_some() && g.group_type.get().is_some())
    );
}

#[test]
fn recorded_apps_round_trip() {
    let (report, apps) = check_recorded::<Application>("Application");
    assert!(report.objects >= 90, "too few apps: {}", report.objects);
    assert!(
        apps.iter()
            .all(|a| a.label.get().is_some() && a.sign_on_mode.get().is_some())
    );
}

#[test]
fn recorded_app_users_round_trip() {
    let (report, app_users) = check_recorded::<AppUser>("AppUser");
    assert!(report.objects >= 5, "too few app users: {}", report.objects);
    assert!(app_users.iter().all(|u| u.scope.get().is_some()));
}

#[test]
fn recorded_user_schemas_round_trip() {
    let (report, schemas) = check_recorded::<UserSchema>("UserSchema");
    assert!(report.objects >= 2, "too few schemas: {}", report.objects);
    for schema in &schemas {
        let login = schema.attribute("login").expect("login attribute");
        assert_eq!(login.required.get(), Some(&true));
        assert!(schema.base_attributes().count() >= 20);
    }
}

#[test]
fn recorded_user_types_round_trip() {
    let (report, types) = check_recorded::<UserType>("UserType");
    assert!(
        report.objects >= 10,
        "too few user types: {}",
        report.objects
    );
    assert!(types.iter().all(|t| t.schema_id().is_some()));
}

/// Every error body anywhere: E-code bodies, OAuth errors and the bare `{"status","message"}` 404.
#[test]
fn recorded_error_bodies_round_trip() {
    let mut report = Report::default();
    let mut codes = BTreeMap::<String, usize>::new();
    let mut with_request_id = 0;
    for r in recorded().iter().filter(|r| r.status >= 400) {
        report.bodies += 1;
        let origin = format!("{} {} {} ({})", r.method, r.path, r.status, r.cassette);
        let body: ErrorBody = round_trip(&r.body, &origin, &mut report);
        let code = body.error_code.clone().or_else(|| {
            // The two other shapes: OAuth's `error`, and a bare `{"status":404,"message":...}`.
            let other = body.extra.get("error").or(body.extra.get("message"))?;
            Some(other.as_str()?.to_string())
        });
        let code = code.unwrap_or_else(|| panic!("{origin}: no error code or message: {}", r.body));
        *codes.entry(code).or_default() += 1;
        with_request_id += usize::from(r.request_id.is_some());
    }
    print_report("ErrorBody", &report);
    println!("    codes: {codes:?}; with X-Okta-Request-Id: {with_request_id}");
    assert!(
        report.bodies >= 380,
        "too few error bodies: {}",
        report.bodies
    );
    assert!(codes["E0000007"] >= 200);
    assert!(codes.contains_key("Resource not found"));
    assert!(codes.contains_key("use_dpop_nonce"));
}

/// Panther's 38 System Log test events (curated, not byte-exact API output: see the README).
#[test]
fn panther_log_events_round_trip() {
    let path = shared_dir()
        .join("fixtures/recorded/panther-system-log/okta_systemlog_test_events.camelcase.ndjson");
    let mut report = Report::default();
    let mut events = Vec::new();
    for (n, line) in std::fs::read_to_string(path).unwrap().lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record: Value = serde_json::from_str(line).unwrap();
        report.bodies += 1;
        let event: LogEvent = round_trip(&record["log"], &format!("line {}", n + 1), &mut report);
        events.push(event);
    }
    print_report("LogEvent", &report);
    assert_eq!(events.len(), 38);
    assert!(
        events
            .iter()
            .all(|e| !e.event_type.is_empty() && e.actor.get().is_some())
    );
    assert_eq!(events.iter().filter(|e| e.uuid().is_some()).count(), 30);
    assert!(events.iter().any(|e| e.targets().len() > 1));
    assert!(
        events
            .iter()
            .any(|e| e.result() == Some(&OutcomeResult::Failure))
    );
    let request_uris = events
        .iter()
        .filter_map(|e| e.debug_context.get()?.get("requestUri"))
        .count();
    assert!(
        request_uris >= 10,
        "debugData.requestUri on {request_uris} events"
    );
    let lat = events.iter().find_map(|e| {
        e.client
            .get()?
            .geographical_context
            .get()?
            .geolocation
            .get()?
            .lat
            .get()
    });
    assert!(lat.is_some_and(|lat| lat.as_f64().is_some()));
}

// ---------------------------------------------------------------------------------------------
// The building blocks
// ---------------------------------------------------------------------------------------------

#[test]
fn null_and_absent_stay_distinct() {
    let input = json!({"id": "00u1", "lastLogin": null, "profile": {"login": "a@example.com", "mobilePhone": null}});
    let user: User = serde_json::from_value(input.clone()).unwrap();
    assert!(user.last_login.is_null());
    assert!(user.activated.is_absent());
    assert!(user.profile.mobile_phone.is_null());
    assert_eq!(serde_json::to_value(&user).unwrap(), input);
}

#[test]
fn unknown_enum_values_parse_and_round_trip() {
    let input = json!({"id": "00u1", "status": "SOMETHING_NEW", "profile": {}});
    let user: User = serde_json::from_value(input.clone()).unwrap();
    assert_eq!(
        user.status.get(),
        Some(&UserStatus::Other("SOMETHING_NEW".into()))
    );
    assert_eq!(serde_json::to_value(&user).unwrap(), input);
    let active: User =
        serde_json::from_value(json!({"id": "x", "status": "ACTIVE", "profile": {}})).unwrap();
    assert_eq!(active.status.get(), Some(&UserStatus::Active));
}

#[test]
fn custom_profile_attributes_are_kept_and_readable() {
    let input = json!({"id": "00u1", "profile": {"login": "a@b.c", "employeeId": "E000001",
        "clearanceLevel": 3, "isContractor": true, "skills": ["rust"]}});
    let user: User = serde_json::from_value(input.clone()).unwrap();
    assert_eq!(user.login(), Some("a@b.c"));
    assert_eq!(user.profile.custom_str("employeeId"), Some("E000001"));
    assert_eq!(user.profile.custom_i64("clearanceLevel"), Some(3));
    assert_eq!(user.profile.custom_bool("isContractor"), Some(true));
    let mut untyped = user.untyped_fields();
    untyped.sort();
    assert_eq!(
        untyped,
        [
            "profile.clearanceLevel",
            "profile.employeeId",
            "profile.isContractor",
            "profile.skills"
        ]
    );
    assert_eq!(serde_json::to_value(&user).unwrap(), input);
}

#[test]
fn schema_unique_accepts_string_and_bool() {
    let okta: SchemaAttribute =
        serde_json::from_value(json!({"unique": "UNIQUE_VALIDATED"})).unwrap();
    let spec: SchemaAttribute = serde_json::from_value(json!({"unique": false})).unwrap();
    assert_eq!(
        okta.unique.get(),
        Some(&Unique::Text("UNIQUE_VALIDATED".into()))
    );
    assert!(okta.unique.get().unwrap().is_unique());
    assert!(!spec.unique.get().unwrap().is_unique());
    assert_eq!(
        serde_json::to_value(&spec).unwrap(),
        json!({"unique": false})
    );
    // An integral `maximum` stays an integer.
    let max: SchemaAttribute = serde_json::from_value(json!({"maximum": 5})).unwrap();
    assert_eq!(serde_json::to_string(&max).unwrap(), r#"{"maximum":5}"#);
}

#[test]
fn timestamps_keep_okta_text_and_parse() {
    let ts = Timestamp("2024-05-02T18:46:21.121Z".into());
    assert_eq!(
        serde_json::to_string(&ts).unwrap(),
        r#""2024-05-02T18:46:21.121Z""#
    );
    assert_eq!(ts.parse().unwrap().unix_timestamp(), 1_714_675_581);
    assert!(
        Timestamp("2024-05-02 18:46:21.121000000".into())
            .parse()
            .is_none()
    );
    assert_eq!(Nullable::Value(ts.clone()).get(), Some(&ts));
}
