//! Loader for the recorded real Okta traffic (vcrpy cassettes from okta-sdk-python).
//!
//! Data: `<shared>/fixtures/recorded/okta-sdk-python/tests/integration/cassettes/**/*.yaml`.
//! The format and its quirks are described in `<shared>/fixtures/recorded/README.md`; the
//! comments below refer to its caveats by number.
//!
//! Test-support code: loading failures panic with the file name, since a broken fixture
//! should fail the test run loudly rather than be skipped.

// Test-support module: not every test binary uses every helper.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

/// Default location of `shared/`, relative to the crate's manifest dir. In the project the
/// crate is `<root>/crates/okta-sim` and the data is `<root>/../shared`.
pub const SHARED_DIR_RELATIVE_TO_MANIFEST: &str = "../../../shared";

/// Where `shared/` lives on this machine.
///
/// Order: the `OKTA_SHARED_DIR` env var (read at run time, for other layouts), then
/// `CARGO_MANIFEST_DIR/../../../shared`, then `/work/shared`. The result is canonicalised
/// when it exists.
pub fn shared_dir() -> PathBuf {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("OKTA_SHARED_DIR") {
        candidates.push(PathBuf::from(dir));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join(SHARED_DIR_RELATIVE_TO_MANIFEST));
    candidates.push(PathBuf::from("/work/shared"));
    for dir in &candidates {
        if let Ok(found) = dir.canonicalize() {
            return found;
        }
    }
    // Nothing exists: return the preferred candidate so the caller's error names it.
    candidates.swap_remove(0)
}

/// The directory holding the 59 per-test-module cassette folders.
pub fn cassettes_dir() -> PathBuf {
    shared_dir().join("fixtures/recorded/okta-sdk-python/tests/integration/cassettes")
}

/// Cassettes that README caveat 5 identifies as hand-written rather than recorded (made-up
/// ids, round timestamps, fake request ids). They are not evidence of Okta behaviour, so
/// `load_all` leaves them out. Paths are relative to `cassettes_dir()`.
pub const SYNTHETIC_CASSETTES: [&str; 4] = [
    "test_api_service_integrations_it/TestApiServiceIntegrationsResource.test_api_service_integration_lifecycle.yaml",
    "test_application_cross_app_access_connections_it/TestApplicationCrossAppAccessConnectionsResource.test_cross_app_access_connection_lifecycle.yaml",
    "test_application_features_it/aTestApplicationFeaturesResource.test_application_features_lifecycle.yaml",
    "test_factors_it/TestFactorsResource.test_list_factors_signed_nonce.yaml",
];

/// True for the hand-written cassettes of README caveat 5. Accepts a path relative to the
/// cassettes dir or any path ending in one (components are compared, not strings).
pub fn is_synthetic(path: impl AsRef<Path>) -> bool {
    let path = path.as_ref();
    SYNTHETIC_CASSETTES.iter().any(|s| path.ends_with(s))
}

// ---------------------------------------------------------------------------------------
// Public model
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Cassette {
    /// Relative to `cassettes_dir()`, e.g. `test_users_it/TestUsersResource.test_user_pagination.yaml`.
    pub path: PathBuf,
    pub interactions: Vec<Interaction>,
}

#[derive(Debug, Clone)]
pub struct Interaction {
    /// Upper-case HTTP method.
    pub method: String,
    /// The request URI as recorded (host always `https://test.okta.com`, caveat 1).
    pub uri: String,
    /// Path only, runs of `/` collapsed (caveat 4: some requests used `//api/v1/...`).
    /// Not percent-decoded (no recorded path needs it).
    pub path: String,
    /// Query pairs in recorded order, percent- and `+`-decoded.
    pub query: Vec<(String, String)>,
    pub request_headers: Headers,
    pub request_body: RequestBody,
    pub status: u16,
    pub response_headers: Headers,
    /// Parsed body when `response_text` is JSON; `None` when empty (or, never seen, not JSON).
    pub response_body: Option<Value>,
    /// `body.string` as recorded: already decoded text even when `Content-Encoding: gzip`
    /// (caveat 2).
    pub response_text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RequestBody {
    None,
    Json(Value),
    Text(String),
    /// The `POST /oauth2/v1/token` requests store their form fields as a YAML mapping.
    Form(Vec<(String, String)>),
}

impl Interaction {
    /// First value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All `Link` response headers, parsed.
    pub fn links(&self) -> Vec<Link> {
        self.response_headers
            .get_all("link")
            .into_iter()
            .flat_map(parse_link_header)
            .collect()
    }

    /// `errorCode` of an Okta E-code body, if any.
    pub fn error_code(&self) -> Option<&str> {
        self.response_body.as_ref()?.get("errorCode")?.as_str()
    }
}

/// Case-insensitive header multimap that keeps the recorded order and name spelling.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

impl Headers {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.entries.push((name.into(), value.into()));
    }

    /// First value for `name` (any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value for `name` (any case), in recorded order.
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Distinct header names, lower-cased.
    pub fn names(&self) -> BTreeSet<String> {
        self.entries
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect()
    }

    /// `(name as recorded, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// One entry of an RFC 8288 `Link` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    pub rel: String,
}

/// Parses `<url>; rel="next"` entries; one header value may hold several, comma-separated.
/// Commas inside `<...>` are part of the URL.
pub fn parse_link_header(value: &str) -> Vec<Link> {
    let mut links = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>').map(|e| start + e) else {
            break;
        };
        let url = rest[start + 1..end].to_string();
        let params_end = rest[end..].find('<').map_or(rest.len(), |n| end + n);
        let params = &rest[end + 1..params_end];
        let rel = params
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("rel"))
            .map(|(_, v)| {
                v.trim()
                    .trim_end_matches(',')
                    .trim()
                    .trim_matches('"')
                    .to_string()
            })
            .unwrap_or_default();
        links.push(Link { url, rel });
        rest = &rest[params_end..];
    }
    links
}

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

/// All recorded cassettes except the synthetic ones (see `SYNTHETIC_CASSETTES`), sorted by path.
pub fn load_all() -> Vec<Cassette> {
    load_dir(&cassettes_dir(), false)
}

/// `load_all()`, parsed once per test binary (parsing 8 MiB of YAML takes a moment).
pub fn cached() -> &'static [Cassette] {
    static ALL: OnceLock<Vec<Cassette>> = OnceLock::new();
    ALL.get_or_init(load_all)
}

/// Loads every `*.yaml` under `dir` (recursively), sorted by path; synthetic cassettes are
/// dropped unless `include_synthetic`. Panics if the dir has no cassettes or one fails to parse.
pub fn load_dir(dir: &Path, include_synthetic: bool) -> Vec<Cassette> {
    let mut files = Vec::new();
    collect_yaml_files(dir, &mut files);
    files.sort();
    files.retain(|f| include_synthetic || !is_synthetic(f));
    assert!(
        !files.is_empty(),
        "no cassettes under {} (set OKTA_SHARED_DIR?)",
        dir.display()
    );

    // Parse on all cores: serde_yaml is the slow part, and files are independent.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = files.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|f| load_file(dir, f)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("cassette loader thread panicked"))
            .collect()
    })
}

/// Loads one cassette; `file` is absolute (or relative to the cwd), `dir` is what `path`
/// is made relative to.
pub fn load_file(dir: &Path, file: &Path) -> Cassette {
    let text =
        std::fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
    let raw: RawCassette =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", file.display()));
    Cassette {
        path: file.strip_prefix(dir).unwrap_or(file).to_path_buf(),
        interactions: raw
            .interactions
            .into_iter()
            .map(Interaction::from_raw)
            .collect(),
    }
}

fn collect_yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

// Raw vcrpy shape. Header maps and request bodies stay as YAML values because their type
// varies by recording year (README "Format").
#[derive(Deserialize)]
struct RawCassette {
    interactions: Vec<RawInteraction>,
}

#[derive(Deserialize)]
struct RawInteraction {
    request: RawRequest,
    response: RawResponse,
}

#[derive(Deserialize)]
struct RawRequest {
    method: String,
    uri: String,
    #[serde(default)]
    headers: serde_yaml::Mapping,
    #[serde(default)]
    body: serde_yaml::Value,
}

#[derive(Deserialize)]
struct RawResponse {
    status: RawStatus,
    #[serde(default)]
    headers: serde_yaml::Mapping,
    #[serde(default)]
    body: RawBody,
}

#[derive(Deserialize)]
struct RawStatus {
    code: u16,
}

#[derive(Deserialize, Default)]
struct RawBody {
    #[serde(default)]
    string: Option<String>,
}

impl Interaction {
    fn from_raw(raw: RawInteraction) -> Self {
        let RawInteraction { request, response } = raw;
        let (path, query) = split_uri(&request.uri);
        let request_headers = headers_from_yaml(&request.headers);
        let request_body = request_body_from_yaml(request.body, &request_headers);
        let response_text = response.body.string.unwrap_or_default();
        let response_body = if response_text.trim().is_empty() {
            None
        } else {
            serde_json::from_str(&response_text).ok()
        };
        Interaction {
            method: request.method.to_ascii_uppercase(),
            uri: request.uri,
            path,
            query,
            request_headers,
            request_body,
            status: response.status.code,
            response_headers: headers_from_yaml(&response.headers),
            response_body,
            response_text,
        }
    }
}

/// 2020 cassettes store `Name: value`, later ones `Name: [value, ...]` (one entry per
/// repeated header line); both become one `Headers` entry per value.
fn headers_from_yaml(map: &serde_yaml::Mapping) -> Headers {
    let mut headers = Headers::new();
    for (name, value) in map {
        let name = yaml_scalar_to_string(name);
        match value {
            serde_yaml::Value::Sequence(values) => {
                for v in values {
                    headers.push(name.clone(), yaml_scalar_to_string(v));
                }
            }
            other => headers.push(name, yaml_scalar_to_string(other)),
        }
    }
    headers
}

fn yaml_scalar_to_string(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Null => String::new(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim_end()
            .to_string(),
    }
}

/// Request body: null, a string (JSON in every recording), or a mapping of form fields.
fn request_body_from_yaml(body: serde_yaml::Value, headers: &Headers) -> RequestBody {
    match body {
        serde_yaml::Value::Null => RequestBody::None,
        serde_yaml::Value::String(s) if s.is_empty() => RequestBody::None,
        serde_yaml::Value::String(s) => {
            if let Ok(json) = serde_json::from_str(&s) {
                RequestBody::Json(json)
            } else if headers
                .get("content-type")
                .is_some_and(|ct| ct.contains("x-www-form-urlencoded"))
            {
                RequestBody::Form(parse_query(&s))
            } else {
                RequestBody::Text(s)
            }
        }
        serde_yaml::Value::Mapping(map) => {
            let mut fields = Vec::new();
            for (k, v) in &map {
                let key = yaml_scalar_to_string(k);
                match v {
                    serde_yaml::Value::Sequence(vs) => {
                        fields.extend(vs.iter().map(|v| (key.clone(), yaml_scalar_to_string(v))))
                    }
                    v => fields.push((key, yaml_scalar_to_string(v))),
                }
            }
            RequestBody::Form(fields)
        }
        other => RequestBody::Text(yaml_scalar_to_string(&other)),
    }
}

/// Splits an absolute or relative URI into (normalised path, decoded query pairs).
fn split_uri(uri: &str) -> (String, Vec<(String, String)>) {
    // Drop `scheme://authority`; the authority ends at the first '/', '?' or '#'.
    let rest = match uri.split_once("://") {
        Some((_, after)) => &after[after.find(['/', '?', '#']).unwrap_or(after.len())..],
        None => uri,
    };
    let rest = rest.split('#').next().unwrap_or("");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    (normalize_path(path), parse_query(query))
}

/// Collapses runs of `/` and makes the path start with `/`.
pub fn normalize_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Parses `a=1&b=x+y%22` into decoded pairs (`+` is a space, as the SDK and Okta use it).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Form-style percent decoding; malformed escapes are kept literally.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------
// Path templates
// ---------------------------------------------------------------------------------------

/// Path segments that contain digits but are API words, not ids.
const LITERAL_WITH_DIGITS: [&str; 3] = ["v1", "oauth2", "office365"];

/// Word parts that mark a made-up id in the 2025 tests (caveat 4), e.g. `test_group_id`,
/// `non-existent-role-id`, `invalid-pool-id-12345`. Only used for multi-part segments,
/// so the API word `test` stays literal.
const PLACEHOLDER_PARTS: [&str; 11] = [
    "test",
    "tests",
    "invalid",
    "nonexistent",
    "existent",
    "fake",
    "dummy",
    "mock",
    "sample",
    "example",
    "placeholder",
];

/// Turns a concrete Okta path into a template by replacing id-like segments with `{id}`:
/// `/api/v1/users/00u1abcd.../lifecycle/activate` -> `/api/v1/users/{id}/lifecycle/activate`.
/// Query strings are dropped and `//` collapsed. Enum-like words (`SUPER_ADMIN`,
/// `USER_PROVISIONING`, `welcome`) stay literal: they name things but are not ids.
pub fn template_of(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut out = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        if is_id_segment(segment) {
            out.push_str("{id}");
        } else {
            out.push_str(segment);
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Heuristic for "this path segment is an id, login or placeholder, not an API word".
pub fn is_id_segment(segment: &str) -> bool {
    if LITERAL_WITH_DIGITS.contains(&segment) {
        return false;
    }
    // Already a template, a login/email, or anything with a digit: Okta ids (`00u...`,
    // `0oa...`, `00T...`), UUIDs, session ids, key ids, `..._12345` placeholders.
    if segment.starts_with('{')
        || segment.contains('@')
        || segment.bytes().any(|b| b.is_ascii_digit())
    {
        return true;
    }
    let parts: Vec<String> = segment
        .split(['-', '_', '.'])
        .map(|p| p.to_ascii_lowercase())
        .collect();
    if parts.len() > 1
        && parts
            .iter()
            .any(|p| PLACEHOLDER_PARTS.contains(&p.as_str()))
    {
        return true;
    }
    // Letter-only random ids, e.g. feature ids `ftrBBUMpPWbXqutKZYcW`: long and with many
    // capitals, unlike camelCase API words such as `authorizationServers`.
    let alnum = segment.bytes().all(|b| b.is_ascii_alphanumeric());
    let uppers = segment.bytes().filter(u8::is_ascii_uppercase).count();
    let lowers = segment.bytes().filter(u8::is_ascii_lowercase).count();
    alnum && segment.len() >= 16 && uppers >= 3 && lowers >= 3
}

// ---------------------------------------------------------------------------------------
// JSON key sets, for comparing simulator bodies with recorded ones
// ---------------------------------------------------------------------------------------

/// The objects to look at: the value itself, or every element of an array.
fn objects(v: &Value) -> Vec<&serde_json::Map<String, Value>> {
    match v {
        Value::Object(map) => vec![map],
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    }
}

/// Top-level keys (union over elements for an array of objects).
pub fn top_level_keys(v: &Value) -> BTreeSet<String> {
    objects(v)
        .into_iter()
        .flat_map(|m| m.keys().cloned())
        .collect()
}

/// Keys of the object under `field` (union over elements for an array of objects).
pub fn keys_under(v: &Value, field: &str) -> BTreeSet<String> {
    objects(v)
        .into_iter()
        .filter_map(|m| m.get(field))
        .flat_map(top_level_keys)
        .collect()
}

/// Sub-objects whose key sets matter for fidelity (the rest vary per resource).
pub const KEY_PATH_FIELDS: [&str; 3] = ["profile", "credentials", "_links"];

/// Top-level keys plus `profile.x`, `credentials.x` and `_links.x` (union over elements
/// for an array of objects), e.g. `{"id", "profile", "profile.login", "_links.self"}`.
pub fn json_key_paths(v: &Value) -> BTreeSet<String> {
    let mut paths = top_level_keys(v);
    for field in KEY_PATH_FIELDS {
        paths.extend(
            keys_under(v, field)
                .into_iter()
                .map(|k| format!("{field}.{k}")),
        );
    }
    paths
}

/// Every key path down to `max_depth` levels, arrays written as `[]`, e.g.
/// `credentials.emails[].value`. Union over array elements.
pub fn deep_key_paths(v: &Value, max_depth: usize) -> BTreeSet<String> {
    fn walk(v: &Value, prefix: &str, depth: usize, max: usize, out: &mut BTreeSet<String>) {
        if depth >= max {
            return;
        }
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    out.insert(p.clone());
                    walk(child, &p, depth + 1, max, out);
                }
            }
            Value::Array(items) => {
                let p = format!("{prefix}[]");
                for item in items {
                    walk(item, &p, depth, max, out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(v, "", 0, max_depth, &mut out);
    out
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn full_set() -> &'static [Cassette] {
        static FULL: OnceLock<Vec<Cassette>> = OnceLock::new();
        FULL.get_or_init(|| load_dir(&cassettes_dir(), true))
    }

    fn find<'a>(set: &'a [Cassette], rel: &str) -> &'a Cassette {
        set.iter()
            .find(|c| c.path == Path::new(rel))
            .unwrap_or_else(|| panic!("cassette {rel} not loaded"))
    }

    fn status_counts<'a>(it: impl Iterator<Item = &'a Interaction>) -> BTreeMap<u16, usize> {
        let mut counts = BTreeMap::new();
        for i in it {
            *counts.entry(i.status).or_insert(0) += 1;
        }
        counts
    }

    #[test]
    fn full_set_matches_readme_counts() {
        let all = full_set();
        assert_eq!(all.len(), 444);
        let interactions: Vec<&Interaction> = all.iter().flat_map(|c| &c.interactions).collect();
        assert_eq!(interactions.len(), 2304);

        let expected: BTreeMap<u16, usize> = [
            (200, 1365),
            (201, 81),
            (202, 1),
            (204, 472),
            (400, 90),
            (401, 19),
            (403, 6),
            (404, 263),
            (405, 4),
            (429, 3),
        ]
        .into();
        assert_eq!(status_counts(interactions.iter().copied()), expected);

        let mut methods = BTreeMap::new();
        for i in &interactions {
            *methods.entry(i.method.as_str()).or_insert(0) += 1;
        }
        let expected: BTreeMap<&str, usize> = [
            ("DELETE", 442),
            ("GET", 912),
            ("PATCH", 3),
            ("POST", 847),
            ("PUT", 100),
        ]
        .into();
        assert_eq!(methods, expected);

        // Request bodies: 1,904 null, 360 strings (all JSON), 40 form mappings.
        let count = |f: fn(&RequestBody) -> bool| {
            interactions.iter().filter(|i| f(&i.request_body)).count()
        };
        assert_eq!(count(|b| matches!(b, RequestBody::None)), 1904);
        assert_eq!(count(|b| matches!(b, RequestBody::Json(_))), 360);
        assert_eq!(count(|b| matches!(b, RequestBody::Form(_))), 40);
        assert_eq!(count(|b| matches!(b, RequestBody::Text(_))), 0);

        // Response bodies: 1,816 non-empty (all JSON), 488 empty.
        let nonempty = interactions
            .iter()
            .filter(|i| !i.response_text.is_empty())
            .count();
        let json = interactions
            .iter()
            .filter(|i| i.response_body.is_some())
            .count();
        assert_eq!((nonempty, json), (1816, 1816));

        // Header counts from the README table.
        let with = |name: &str| {
            interactions
                .iter()
                .filter(|i| i.response_headers.contains(name))
                .count()
        };
        assert_eq!(with("Date"), 2304);
        assert_eq!(with("x-okta-request-id"), 2256);
        assert_eq!(with("X-RATE-LIMIT-RESET"), 2248);
        assert_eq!(with("link"), 224);
        assert_eq!(with("dpop-nonce"), 39);
        let gzip = interactions
            .iter()
            .filter(|i| i.response_headers.get("content-encoding") == Some("gzip"))
            .count();
        assert_eq!(gzip, 1556);
        let rel_count = |rel: &str| {
            interactions
                .iter()
                .filter(|i| i.links().iter().any(|l| l.rel == rel))
                .count()
        };
        assert_eq!(rel_count("self"), 219);
        assert_eq!(rel_count("next"), 45);

        // Caveat 4: `//api/v1/...` requests come out normalised.
        assert_eq!(
            interactions
                .iter()
                .filter(|i| i.uri.contains(".com//"))
                .count(),
            31
        );
        assert!(interactions.iter().all(|i| !i.path.contains("//")));

        // The third error-body shape: 26 plain `{"status":404,"message":...}` bodies.
        let plain_404 = interactions
            .iter()
            .filter(|i| {
                i.status == 404
                    && i.response_body
                        .as_ref()
                        .is_some_and(|b| b.get("message").is_some())
            })
            .count();
        assert_eq!(plain_404, 26);
    }

    #[test]
    fn load_all_skips_the_synthetic_cassettes() {
        let all = cached();
        assert_eq!(all.len(), 444 - SYNTHETIC_CASSETTES.len());
        assert!(all.iter().all(|c| !is_synthetic(&c.path)));
        let full = full_set();
        let synthetic: Vec<&Cassette> = full.iter().filter(|c| is_synthetic(&c.path)).collect();
        assert_eq!(synthetic.len(), 4, "every listed synthetic cassette exists");
        let synthetic_interactions: usize = synthetic.iter().map(|c| c.interactions.len()).sum();
        assert_eq!(synthetic_interactions, 29);
        let n: usize = all.iter().map(|c| c.interactions.len()).sum();
        assert_eq!(n, 2304 - synthetic_interactions);

        // README status counts minus the synthetic ones' (16×200, 5×204, 3×201, 3×400, 2×404).
        let expected: BTreeMap<u16, usize> = [
            (200, 1349),
            (201, 78),
            (202, 1),
            (204, 467),
            (400, 87),
            (401, 19),
            (403, 6),
            (404, 261),
            (405, 4),
            (429, 3),
        ]
        .into();
        assert_eq!(
            status_counts(all.iter().flat_map(|c| &c.interactions)),
            expected
        );

        assert!(is_synthetic(cassettes_dir().join(SYNTHETIC_CASSETTES[0])));
        assert!(!is_synthetic(
            "test_users_it/TestUsersResource.test_user_pagination.yaml"
        ));
    }

    #[test]
    fn both_header_forms_parse() {
        let all = cached();
        // 2020 form: `Name: value`.
        let old = find(
            all,
            "test_users_it/TestUsersResource.test_user_pagination.yaml",
        );
        let first = &old.interactions[0];
        assert_eq!(
            first.response_headers.get("X-Rate-Limit-Limit"),
            Some("600")
        );
        assert_eq!(
            first.response_headers.get("x-okta-request-id"),
            Some("X0f5Q6AoDBK-RJXuMfz8oQAABMs")
        );
        assert_eq!(
            first.response_headers.get("content-type"),
            Some("application/json;charset=UTF-8")
        );
        assert_eq!(
            first.request_headers.get("authorization"),
            Some("SSWS myAPIToken")
        );
        assert!(
            first
                .response_headers
                .names()
                .contains("x-rate-limit-reset")
        );
        // Folded multi-line YAML scalars come back as one line.
        assert!(
            !first
                .response_headers
                .get("content-security-policy-report-only")
                .unwrap()
                .contains('\n')
        );

        // Later form: `Name: [value, ...]`, with two separate `Link` lines.
        let two_links = all
            .iter()
            .flat_map(|c| &c.interactions)
            .find(|i| i.response_headers.get_all("LINK").len() == 2)
            .expect("a response with two Link lines");
        let rels: Vec<String> = two_links.links().into_iter().map(|l| l.rel).collect();
        assert_eq!(rels, ["self", "next"]);

        // Both forms occur across the set.
        // Both forms occur: 134 cassettes are from 2020 (README "Counts").
        let from_2020 = all
            .iter()
            .filter(|c| {
                c.interactions[0]
                    .response_headers
                    .get("date")
                    .is_some_and(|d| d.contains(" 2020 "))
            })
            .count();
        assert_eq!(from_2020, 134);
    }

    #[test]
    fn pagination_cassette_links() {
        let c = find(
            cached(),
            "test_users_it/TestUsersResource.test_user_pagination.yaml",
        );
        assert_eq!(c.interactions.len(), 9);
        let page1 = &c.interactions[2];
        let page2 = &c.interactions[3];
        assert_eq!(
            (page1.method.as_str(), page1.path.as_str()),
            ("GET", "/api/v1/users")
        );
        assert_eq!(page1.query, [("limit".to_string(), "1".to_string())]);
        assert_eq!(page2.query_param("after"), Some("000usfdsyqnIjEmHNm4x6"));

        // Caveat 6: in 2020 a repeated header kept one value, so only rel="next" survived.
        let links1 = page1.links();
        assert_eq!(
            links1,
            [Link {
                url: "https://test.okta.com/api/v1/users?after=000usfdsyqnIjEmHNm4x6&limit=1"
                    .into(),
                rel: "next".into()
            }]
        );
        assert_eq!(page2.links()[0].rel, "next");
        assert!(page2.links()[0].url.contains("after=000usfgmn9xhwtA6f74x6"));

        // Ends with DELETE, DELETE (deactivate, delete) and a 404 E0000007.
        assert_eq!(c.interactions[8].status, 404);
        assert_eq!(c.interactions[8].error_code(), Some("E0000007"));
    }

    #[test]
    fn link_header_parser() {
        let v = r#"<https://x.okta.com/api/v1/users?limit=2>; rel="self", <https://x.okta.com/api/v1/users?after=a,b&limit=2>; rel="next""#;
        let links = parse_link_header(v);
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].rel, "self");
        assert_eq!(
            links[1].url,
            "https://x.okta.com/api/v1/users?after=a,b&limit=2"
        );
        assert_eq!(links[1].rel, "next");
    }

    #[test]
    fn the_three_429s() {
        let found: Vec<(String, usize, &Interaction)> = cached()
            .iter()
            .flat_map(|c| {
                c.interactions
                    .iter()
                    .enumerate()
                    .map(move |(n, i)| (c.path.display().to_string(), n, i))
            })
            .filter(|(_, _, i)| i.status == 429)
            .collect();
        let keys: Vec<(&str, usize)> = found.iter().map(|(p, n, _)| (p.as_str(), *n)).collect();
        assert_eq!(
            keys,
            [
                (
                    "test_agent_pools_it/TestAgentPoolsResource.test_list_agent_pools_with_multiple_pool_types.yaml",
                    1
                ),
                (
                    "test_application_features_it/TestApplicationFeaturesResource.test_comprehensive_coverage_push.yaml",
                    18
                ),
                (
                    "test_application_features_it/TestApplicationFeaturesResource.test_comprehensive_coverage_push.yaml",
                    69
                ),
            ]
        );
        for (_, _, i) in &found {
            assert_eq!(i.error_code(), Some("E0000047"));
            assert_eq!(i.response_headers.get("x-rate-limit-remaining"), Some("0"));
        }
        let first = found[0].2;
        assert_eq!(first.path, "/api/v1/agentPools");
        assert_eq!(first.query_param("poolType"), Some("Radius"));
        assert_eq!(
            first.response_headers.get("x-rate-limit-reset"),
            Some("1757607758")
        );
    }

    #[test]
    fn form_and_json_request_bodies() {
        let all = cached();
        let token = all
            .iter()
            .flat_map(|c| &c.interactions)
            .find(|i| i.path == "/oauth2/v1/token")
            .unwrap();
        let RequestBody::Form(fields) = &token.request_body else {
            panic!(
                "token request body should be a form: {:?}",
                token.request_body
            );
        };
        assert!(fields.contains(&("grant_type".to_string(), "client_credentials".to_string())));
        let create_user = all
            .iter()
            .flat_map(|c| &c.interactions)
            .find(|i| {
                i.method == "POST"
                    && i.path == "/api/v1/users"
                    && i.request_body != RequestBody::None
            })
            .unwrap();
        assert!(
            matches!(&create_user.request_body, RequestBody::Json(v) if v.get("profile").is_some())
        );
    }

    #[test]
    fn uri_splitting_and_query_decoding() {
        let (path, query) = split_uri(
            "https://test.okta.com//api/v1/apps?filter=status+eq+%22INACTIVE%22&limit=10&x",
        );
        assert_eq!(path, "/api/v1/apps");
        assert_eq!(
            query,
            [
                ("filter".to_string(), "status eq \"INACTIVE\"".to_string()),
                ("limit".to_string(), "10".to_string()),
                ("x".to_string(), String::new()),
            ]
        );
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(percent_decode("bGRh%3D%3D"), "bGRh==");
        assert_eq!(split_uri("https://test.okta.com").0, "/");
    }

    #[test]
    fn template_examples() {
        let cases = [
            (
                "/api/v1/users/00usfgmn9xhwtA6f74x6/lifecycle/activate",
                "/api/v1/users/{id}/lifecycle/activate",
            ),
            (
                "//api/v1/users/00ur85gurieOrHqe71d7?x=1",
                "/api/v1/users/{id}",
            ),
            (
                "/api/v1/users/John.Doe-Get@example.com",
                "/api/v1/users/{id}",
            ),
            ("/api/v1/groups/test_group_id", "/api/v1/groups/{id}"),
            ("/api/v1/groups/rules", "/api/v1/groups/rules"),
            (
                "/api/v1/meta/schemas/user/default",
                "/api/v1/meta/schemas/user/default",
            ),
            (
                "/api/v1/meta/types/user/otysfhf84Msnoxvde4x6",
                "/api/v1/meta/types/user/{id}",
            ),
            (
                "/api/v1/users/00u1/credentials/forgot_password",
                "/api/v1/users/{id}/credentials/forgot_password",
            ),
            (
                "/api/v1/sessions/102etAqRbcPRXGtoDMIRXgWOQ",
                "/api/v1/sessions/{id}",
            ),
            (
                "/api/v1/iam/roles/non-existent-role-id",
                "/api/v1/iam/roles/{id}",
            ),
            (
                "/api/v1/apps/0oa1/features/USER_PROVISIONING",
                "/api/v1/apps/{id}/features/USER_PROVISIONING",
            ),
            (
                "/api/v1/org/privacy/oktaSupport/extend",
                "/api/v1/org/privacy/oktaSupport/extend",
            ),
            (
                "/api/v1/authorizationServers",
                "/api/v1/authorizationServers",
            ),
            (
                "/api/v1/features/ftrBBUMpPWbXqutKZYcW",
                "/api/v1/features/{id}",
            ),
            (
                "/api/v1/devices/guooooy45xtYQeCmC1d7",
                "/api/v1/devices/{id}",
            ),
            ("/oauth2/v1/token", "/oauth2/v1/token"),
            (
                "/api/v1/principal-rate-limits",
                "/api/v1/principal-rate-limits",
            ),
            ("/api/v1/logs", "/api/v1/logs"),
            (
                "/api/v1/domains/1786ac2d-25ee-44a4-95a6-5e61336ff7e7",
                "/api/v1/domains/{id}",
            ),
        ];
        for (path, want) in cases {
            assert_eq!(template_of(path), want, "template_of({path})");
        }
    }

    #[test]
    fn templates_over_every_recorded_path() {
        let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
        for i in cached().iter().flat_map(|c| &c.interactions) {
            let t = template_of(&i.path);
            assert!(t.starts_with('/') && !t.contains("//"), "{t}");
            // No segment that still looks like an Okta id (3-char prefix + 17 chars).
            for seg in t.split('/') {
                assert!(
                    !(seg.len() == 20 && seg.bytes().any(|b| b.is_ascii_digit())),
                    "{} -> {t}",
                    i.path
                );
            }
            *counts.entry((t, i.method.clone())).or_insert(0) += 1;
        }
        let distinct: BTreeSet<&String> = counts.keys().map(|(t, _)| t).collect();
        println!(
            "{} distinct path templates ({} method+template)",
            distinct.len(),
            counts.len()
        );
        for family in [
            "/api/v1/users",
            "/api/v1/groups",
            "/api/v1/apps",
            "/api/v1/meta",
            "/api/v1/logs",
        ] {
            let rows: Vec<_> = counts
                .iter()
                .filter(|((t, _), _)| t == family || t.starts_with(&format!("{family}/")))
                .collect();
            let total: usize = rows.iter().map(|(_, n)| **n).sum();
            println!(
                "== {family}: {} method+template, {total} interactions",
                rows.len()
            );
            for ((t, m), n) in rows {
                println!("  {n:4}  {m:6} {t}");
            }
        }
        // Spot checks against the README's endpoint table.
        let get = |t: &str, m: &str| {
            counts
                .get(&(t.to_string(), m.to_string()))
                .copied()
                .unwrap_or(0)
        };
        assert_eq!(get("/api/v1/users/{id}", "DELETE"), 66);
        assert_eq!(get("/api/v1/users/{id}/lifecycle/deactivate", "POST"), 62);
        assert_eq!(get("/api/v1/groups/{id}", "DELETE"), 22);
        assert_eq!(
            get("/api/v1/logs", "GET"),
            0,
            "README: no System Log traffic"
        );
    }

    #[test]
    fn key_path_helpers() {
        let user = serde_json::json!({
            "id": "00u1", "status": "ACTIVE",
            "profile": {"login": "a@b.c", "email": "a@b.c"},
            "credentials": {"provider": {"type": "OKTA"}},
            "_links": {"self": {"href": "x"}}
        });
        let paths = json_key_paths(&user);
        for p in [
            "id",
            "status",
            "profile",
            "profile.login",
            "credentials.provider",
            "_links.self",
        ] {
            assert!(paths.contains(p), "{p} in {paths:?}");
        }
        let list = serde_json::json!([{"id": "1", "profile": {"a": 1}}, {"id": "2", "profile": {"b": 2}, "x": true}]);
        let want: BTreeSet<String> = ["id", "profile", "x", "profile.a", "profile.b"]
            .map(String::from)
            .into();
        assert_eq!(json_key_paths(&list), want);
        assert_eq!(keys_under(&list, "profile").len(), 2);
        let deep = deep_key_paths(
            &serde_json::json!({"c": {"emails": [{"value": 1}, {"type": 2}]}}),
            5,
        );
        let want: BTreeSet<String> = ["c", "c.emails", "c.emails[].value", "c.emails[].type"]
            .map(String::from)
            .into();
        assert_eq!(deep, want);
        assert!(json_key_paths(&Value::Null).is_empty());
    }

    #[test]
    fn shared_dir_is_found() {
        let dir = shared_dir();
        assert!(
            dir.join("fixtures/recorded/README.md").is_file(),
            "{}",
            dir.display()
        );
    }
}
