//! Replays the recorded real Okta traffic against the simulator and compares the answers.
//!
//! Each cassette that touches an endpoint the simulator serves is replayed, in order, against a fresh
//! simulator. Ids the recording got back from Okta are mapped to the ids the simulator returns for
//! the same objects, and later requests are rewritten with that map. Each answer is compared with the
//! recorded one: status (and E-code), which of the rate-limit / request-id / `Link` headers are
//! present (and the `rel`s), and the JSON key sets at the top level and in `profile`, `credentials`
//! and `_links` (`cassettes::json_key_paths`).
//!
//! Rules of the comparison, each explained where it is defined:
//! - the simulator may send a key the recording lacks only if another recording of the same
//!   operation shows it (Okta added keys over the years); it may omit one only via
//!   `ALLOWED_OMISSIONS`;
//! - interactions that cannot be compared (they depend on an endpoint the simulator does not serve,
//!   on an object of the recording org, or are listed in `EXCLUSIONS`) are tallied with the reason.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use okta_sim::SimConfig;
use serde_json::{Value, json};

use super::cassettes::{
    self, Cassette, Interaction, RequestBody, is_id_segment, json_key_paths, parse_link_header,
    template_of,
};
use super::{is_unserved, send, tiny_config, with_query};
use crate::support::{Resp, TestOrg};

/// Recorded orgs had no required custom attribute, so neither may the replay org.
fn replay_config() -> SimConfig {
    SimConfig {
        require_custom_attributes: false,
        ..tiny_config()
    }
}

/// Keys the simulator may leave out although the recording has them: (method, template, key path,
/// why). `*` matches any method or template.
const ALLOWED_OMISSIONS: &[(&str, &str, &str, &str)] = &[];

/// Recorded interactions that are not evidence of what the simulator should answer.
struct Exclusion {
    /// A cassette path suffix (`""` = any cassette).
    cassette: &'static str,
    /// The interaction's 0-based index in the cassette (`None` = any).
    index: Option<usize>,
    /// `"METHOD template"` (`""` = any).
    operation: &'static str,
    /// Recorded status (`0` = any).
    status: u16,
    /// Recorded in this year (`0` = any).
    year: u16,
    /// The request never reached Okta's API (so replaying it would change the org as Okta's
    /// didn't): it is not sent at all.
    not_sent: bool,
    reason: &'static str,
}

const EXCLUSIONS: &[Exclusion] = &[
    Exclusion {
        cassette: "",
        index: None,
        operation: "POST /api/v1/users/{id}/lifecycle/deactivate",
        status: 204,
        year: 2020,
        not_sent: false,
        reason: "Okta answered deactivate with 204 in 2020; every later recording shows today's 200 {}",
    },
    Exclusion {
        cassette: "test_users_it/TestUsersResource.test_forgot_password.yaml",
        index: None,
        operation: "POST /api/v1/users",
        status: 404,
        year: 0,
        not_sent: true,
        reason: "the plain {\"status\":404,\"message\"} answer, without request id or rate-limit headers, \
                 came from the recording org's front end, not from the Users API",
    },
    Exclusion {
        cassette: "test_applications_it/TestApplicationsResource.test_list_applications_pagination_with_after.yaml",
        index: Some(1),
        operation: "POST /api/v1/apps",
        status: 400,
        year: 0,
        not_sent: false,
        reason: "the recording org had reached its quota of app instances (E0000001 \"Cannot create \
                 application instance. Maximum number of instances has been reached.\"); the \
                 simulator has no such quota",
    },
    Exclusion {
        cassette: "test_authorization_server_clients_it/TestAuthorizationServerClientsResource.test_auth_server_clients_lifecycle.yaml",
        index: Some(1),
        operation: "POST /api/v1/apps",
        status: 400,
        year: 0,
        not_sent: false,
        reason: "the recording org had reached its quota of app instances (E0000001 \"Cannot create \
                 application instance. Maximum number of instances has been reached.\"); the \
                 simulator has no such quota",
    },
    Exclusion {
        cassette: "",
        index: None,
        operation: "POST /oauth2/v1/token",
        status: 0,
        year: 0,
        not_sent: true,
        reason: "token requests carry the recording org's client ids and sanitized signatures \
                 (SANITIZED_SIG), which no org accepts; the OAuth tests cover the token endpoint \
                 with real signatures",
    },
];

/// Sign-on modes the simulator's apps support; recorded apps of other modes are not comparable.
const SIMULATED_SIGN_ON_MODES: &[&str] = &[
    "BASIC_AUTH",
    "BOOKMARK",
    "BROWSER_PLUGIN",
    "OPENID_CONNECT",
    "SAML_2_0",
    "SECURE_PASSWORD_STORE",
];

/// The headers whose presence must match (values differ by nature).
const COMPARED_HEADERS: [&str; 5] = [
    "x-rate-limit-limit",
    "x-rate-limit-remaining",
    "x-rate-limit-reset",
    "x-okta-request-id",
    "link",
];

#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    NotServed,
    NotComparable(String),
    Matched,
    Mismatch(String),
}

struct Row {
    cassette: &'static Path,
    index: usize,
    /// `"METHOD template"`.
    operation: String,
    verdict: Verdict,
    /// Method, path and query as sent to the simulator, for the defect list.
    sent: String,
}

fn operation_of(i: &Interaction) -> String {
    format!("{} {}", i.method, template_of(&i.path))
}

fn year_of(i: &Interaction) -> u16 {
    i.response_headers
        .get("date")
        .and_then(|d| d.split_whitespace().nth(3))
        .and_then(|y| y.parse().ok())
        .unwrap_or(0)
}

/// The kind of object an operation returns, by the last literal path segment: `GET /api/v1/apps`,
/// `GET /api/v1/apps/{id}` and `GET /api/v1/groups/{id}/apps` all return apps.
/// Users are the exception: lifecycle calls (`expire_password`) and group member lists return
/// them too, so any user-shaped body (a `00u` id with `profile` and `type`) is of kind `users`.
fn object_kind<'a>(operation: &'a str, body: Option<&Value>) -> &'a str {
    let first = match body {
        Some(Value::Array(items)) => items.first(),
        other => other,
    };
    let is_user = first.is_some_and(|v| {
        v.get("id")
            .and_then(Value::as_str)
            .is_some_and(|id| id.starts_with("00u"))
            && v.get("profile").is_some()
            && v.get("type").is_some()
    });
    if is_user {
        return "users";
    }
    operation
        .rsplit('/')
        .find(|s| !s.starts_with('{'))
        .unwrap_or(operation)
}

/// The union of key paths Okta sent per (object kind, status class) across all recordings: a key
/// the simulator sends that some recording of the same kind of object also has is one Okta really
/// sends (Okta added keys over the years, so a 2020 answer lacks keys a 2025 one has).
fn known_keys() -> &'static HashMap<(String, u16), BTreeSet<String>> {
    static KNOWN: OnceLock<HashMap<(String, u16), BTreeSet<String>>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let mut known: HashMap<(String, u16), BTreeSet<String>> = HashMap::new();
        for i in cassettes::cached().iter().flat_map(|c| &c.interactions) {
            if let Some(body) = &i.response_body {
                known
                    .entry((
                        object_kind(&operation_of(i), Some(body)).to_string(),
                        i.status / 100,
                    ))
                    .or_default()
                    .extend(json_key_paths(body));
            }
        }
        known
    })
}

/// Which recorded operations the simulator serves, probed once each on one org with the first
/// recorded concrete path (no body): an answer other than 404 E0000008 / 405 E0000022 means served.
async fn served_operations() -> BTreeMap<String, bool> {
    let mut first_path: BTreeMap<String, (&str, &str)> = BTreeMap::new();
    for i in cassettes::cached().iter().flat_map(|c| &c.interactions) {
        first_path
            .entry(operation_of(i))
            .or_insert((i.method.as_str(), i.path.as_str()));
    }
    let org = TestOrg::with(replay_config()).await;
    let mut served = BTreeMap::new();
    for (op, (method, path)) in first_path {
        let resp = send(&org, method, path, None, None).await;
        served.insert(op, !is_unserved(&resp));
    }
    served
}

/// An Okta-style object id inside a string (`00u...`, `0oa...`, `oty...`: 20 mixed-case alphanumerics).
fn okta_ids_in(s: &str) -> Vec<&str> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| {
            t.len() == 20
                && t.bytes().any(|b| b.is_ascii_digit())
                && t.bytes().any(|b| b.is_ascii_lowercase())
                && t.bytes().any(|b| b.is_ascii_uppercase())
        })
        .collect()
}

fn strings_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|x| strings_in(x, out)),
        Value::Object(map) => map.values().for_each(|x| strings_in(x, out)),
        _ => {}
    }
}

/// The strings of a request body Okta reads: the read-only `_links`, `_embedded` and `orn` a
/// client echoes back from a fetched object are ignored, so their ids refer to nothing.
fn request_strings_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "_links" | "_embedded" | "orn"))
            .for_each(|(_, x)| request_strings_in(x, out)),
        Value::Array(items) => items.iter().for_each(|x| request_strings_in(x, out)),
        other => strings_in(other, out),
    }
}

/// Every `id` (and user `login`) string anywhere in a body: what later requests refer to.
fn ids_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => items.iter().for_each(|x| ids_in(x, out)),
        Value::Object(map) => {
            for (k, x) in map {
                match (k.as_str(), x) {
                    ("id" | "login", Value::String(s)) => out.push(s.clone()),
                    _ => ids_in(x, out),
                }
            }
        }
        _ => {}
    }
}

/// What identifies an object when ids differ: the user's login, the group's name, the app's label.
fn natural_key(v: &Value) -> Option<String> {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str);
    s("/profile/login")
        .map(|l| format!("login:{}", l.to_ascii_lowercase()))
        .or_else(|| s("/profile/name").map(|n| format!("name:{n}")))
        .or_else(|| s("/label").map(|n| format!("label:{n}")))
        .or_else(|| s("/name").map(|n| format!("name:{n}")))
}

/// Request bodies the 2020 recordings left out (vcrpy did not store them then), rebuilt from the
/// recorded answer: what the client must have sent to get that object back.
fn reconstructed_body(operation: &str, recorded: &Value) -> Option<Value> {
    let non_null = |v: &Value| -> Value {
        match v.as_object() {
            Some(m) => Value::Object(
                m.iter()
                    .filter(|(_, x)| !x.is_null())
                    .map(|(k, x)| (k.clone(), x.clone()))
                    .collect(),
            ),
            None => json!({}),
        }
    };
    match operation {
        "POST /api/v1/users" | "POST /api/v1/users/{id}" | "PUT /api/v1/users/{id}" => {
            let mut body = json!({"profile": non_null(&recorded["profile"])});
            let creds = &recorded["credentials"];
            if creds.get("password").is_some() && operation == "POST /api/v1/users" {
                body["credentials"]["password"] = json!({"value": "Replay-Passw0rd!x"});
            }
            if let Some(q) = creds.pointer("/recovery_question/question") {
                body["credentials"]["recovery_question"] =
                    json!({"question": q, "answer": "replayed answer"});
            }
            Some(body)
        }
        "POST /api/v1/groups" | "PUT /api/v1/groups/{id}" => {
            Some(json!({"profile": non_null(&recorded["profile"])}))
        }
        "POST /api/v1/apps" | "PUT /api/v1/apps/{id}" => {
            let mut body = recorded.as_object()?.clone();
            for read_only in [
                "id",
                "created",
                "lastUpdated",
                "status",
                "_links",
                "_embedded",
            ] {
                body.remove(read_only);
            }
            Some(Value::Object(body))
        }
        "POST /api/v1/apps/{id}/users" | "POST /api/v1/apps/{id}/users/{id}" => {
            let mut body = json!({});
            for k in ["id", "scope", "credentials", "profile"] {
                if let Some(v) = recorded.get(k).filter(|v| !v.is_null()) {
                    body[k] = v.clone();
                }
            }
            if operation.ends_with("{id}/users/{id}") {
                body.as_object_mut()?.remove("id");
                body.as_object_mut()?.remove("scope");
            }
            Some(body)
        }
        "PUT /api/v1/apps/{id}/groups/{id}" => {
            let mut body = json!({});
            for k in ["priority", "profile"] {
                if let Some(v) = recorded.get(k).filter(|v| !v.is_null()) {
                    body[k] = v.clone();
                }
            }
            Some(body)
        }
        "POST /api/v1/meta/types/user"
        | "POST /api/v1/meta/types/user/{id}"
        | "PUT /api/v1/meta/types/user/{id}" => {
            let mut body = json!({});
            for k in ["name", "displayName", "description"] {
                if let Some(v) = recorded.get(k).filter(|v| !v.is_null()) {
                    body[k] = v.clone();
                }
            }
            Some(body)
        }
        // The password the reconstructed `POST /api/v1/users` set (above) proves the user.
        "POST /api/v1/users/{id}/credentials/change_password" => Some(json!({
            "oldPassword": {"value": "Replay-Passw0rd!x"},
            "newPassword": {"value": "Replay-Passw0rd!y2"},
        })),
        "POST /api/v1/users/{id}/credentials/change_recovery_question" => Some(json!({
            "password": {"value": "Replay-Passw0rd!x"},
            "recovery_question": {
                "question": recorded.pointer("/recovery_question/question")?,
                "answer": "replayed answer",
            },
        })),
        "POST /api/v1/eventHooks" | "PUT /api/v1/eventHooks/{id}" => {
            let mut body = json!({});
            for k in ["name", "description", "events", "channel"] {
                if let Some(v) = recorded.get(k).filter(|v| !v.is_null()) {
                    body[k] = v.clone();
                }
            }
            // The secret is never returned, so any value stands for the one the test sent.
            if let Some(auth) = body.pointer_mut("/channel/config/authScheme") {
                auth["value"] = json!("replayed-secret");
            }
            Some(body)
        }
        "POST /api/v1/meta/schemas/user/default" | "POST /api/v1/meta/schemas/group/default" => {
            Some(json!({"definitions": {"custom": recorded.pointer("/definitions/custom")?}}))
        }
        _ => None,
    }
}

/// The state of one cassette's replay.
struct Replay {
    org: TestOrg,
    /// Recorded id (or cursor) -> the simulator's.
    ids: HashMap<String, String>,
    /// Recorded ids the replay could not map -> the operation whose recorded answer carried them.
    produced: HashMap<String, String>,
}

impl Replay {
    fn rewrite(&self, s: &str) -> String {
        let mut pairs: Vec<(&String, &String)> = self.ids.iter().collect();
        pairs.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        let mut out = s.to_string();
        for (from, to) in pairs {
            if out.contains(from.as_str()) {
                out = out.replace(from.as_str(), to);
            }
        }
        out
    }

    fn rewrite_json(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.rewrite(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|x| self.rewrite_json(x)).collect())
            }
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), self.rewrite_json(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Why the interaction cannot be replayed faithfully, if it refers to a recorded object the
    /// simulator does not have.
    fn unresolved(&self, i: &Interaction, body: Option<&Value>) -> Option<String> {
        let recorded_ok = (200..300).contains(&i.status);
        let mut refs: Vec<String> = i
            .path
            .split('/')
            .filter(|s| is_id_segment(s))
            .map(str::to_string)
            .collect();
        let mut texts: Vec<String> = i
            .query
            .iter()
            .filter(|(k, _)| k != "after")
            .map(|(_, v)| v.clone())
            .collect();
        if let Some(b) = body {
            request_strings_in(b, &mut texts);
        }
        refs.extend(
            texts
                .iter()
                .flat_map(|t| okta_ids_in(t))
                .map(str::to_string),
        );
        for r in &refs {
            if self.ids.contains_key(r) {
                continue;
            }
            if let Some(source) = self.produced.get(r) {
                return Some(format!("depends on an object from {source}"));
            }
            if recorded_ok {
                return Some(
                    "refers to an object of the recording org (pre-existing, or a placeholder id)"
                        .into(),
                );
            }
        }
        if let Some(after) = i.query_param("after")
            && !self.ids.contains_key(after)
            && recorded_ok
        {
            return Some("follows a cursor of a page the replay did not reproduce".into());
        }
        None
    }

    /// Maps recorded ids to the simulator's by walking both answers in parallel.
    fn learn(&mut self, recorded: &Value, simulated: &Value) {
        match (recorded, simulated) {
            (Value::Object(r), Value::Object(s)) => {
                // Users are addressed by login as well as by id (`GET /users/{login}`).
                for key in ["id", "login"] {
                    if let (Some(Value::String(rid)), Some(Value::String(sid))) =
                        (r.get(key), s.get(key))
                    {
                        self.ids.entry(rid.clone()).or_insert_with(|| sid.clone());
                    }
                }
                for (k, rv) in r {
                    if k == "id" || k == "_links" {
                        continue;
                    }
                    if let Some(sv) = s.get(k)
                        && (rv.is_object() || rv.is_array())
                    {
                        self.learn(rv, sv);
                    }
                }
            }
            (Value::Array(r), Value::Array(s)) => {
                for (rv, sv) in self.pairs(r, s) {
                    self.learn(rv, sv);
                }
            }
            _ => {}
        }
    }

    /// Pairs list elements that stand for the same object: by mapped id, else by natural key
    /// (unique on both sides). Elements of the recording org or of the seed stay unpaired.
    fn pairs<'v>(
        &self,
        recorded: &'v [Value],
        simulated: &'v [Value],
    ) -> Vec<(&'v Value, &'v Value)> {
        let id = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_string);
        let unique_key = |items: &'v [Value]| -> HashMap<String, &'v Value> {
            let mut seen: HashMap<String, (usize, &'v Value)> = HashMap::new();
            for v in items {
                if let Some(k) = natural_key(v) {
                    seen.entry(k).or_insert((0, v)).0 += 1;
                }
            }
            seen.into_iter()
                .filter(|(_, (n, _))| *n == 1)
                .map(|(k, (_, v))| (k, v))
                .collect()
        };
        let sim_by_id: HashMap<String, &Value> =
            simulated.iter().filter_map(|v| Some((id(v)?, v))).collect();
        let sim_by_key = unique_key(simulated);
        let rec_by_key = unique_key(recorded);
        let mut out = Vec::new();
        for rv in recorded {
            let by_id = id(rv)
                .and_then(|r| self.ids.get(&r))
                .and_then(|s| sim_by_id.get(s).copied());
            let by_key = || {
                let k = natural_key(rv)?;
                rec_by_key.get(&k)?;
                sim_by_key.get(&k).copied()
            };
            if let Some(sv) = by_id.or_else(by_key) {
                out.push((rv, sv));
            }
        }
        out
    }

    async fn step(
        &mut self,
        cassette: &'static Cassette,
        index: usize,
        served: &BTreeMap<String, bool>,
    ) -> Row {
        let i = &cassette.interactions[index];
        let operation = operation_of(i);
        let recorded_json = match &i.request_body {
            RequestBody::Json(v) => Some(v.clone()),
            RequestBody::None => i
                .response_body
                .as_ref()
                .filter(|_| (200..300).contains(&i.status))
                .and_then(|r| reconstructed_body(&operation, r)),
            RequestBody::Form(_) | RequestBody::Text(_) => None,
        };
        let path: Vec<String> = i.path.split('/').map(|s| self.rewrite(s)).collect();
        let query: Vec<(String, String)> = i
            .query
            .iter()
            .map(|(k, v)| (k.clone(), self.rewrite(v)))
            .collect();
        let sent_path = with_query(&path.join("/"), &query);
        let sent = format!("{} {sent_path}", i.method);
        let row = |verdict| Row {
            cassette: cassette.path.as_path(),
            index,
            operation: operation.clone(),
            verdict,
            sent: sent.clone(),
        };
        if !served.get(&operation).copied().unwrap_or(false) {
            self.remember_unmapped(i, &operation);
            return row(Verdict::NotServed);
        }
        if let Some(e) = exclusion(cassette, index, i).filter(|e| e.not_sent) {
            self.remember_unmapped(i, &operation);
            return row(Verdict::NotComparable(format!("excluded: {}", e.reason)));
        }
        let unresolved = self.unresolved(i, recorded_json.as_ref());
        let body = recorded_json.as_ref().map(|b| self.rewrite_json(b));
        let resp = send(&self.org, &i.method, &sent_path, body.as_ref(), None).await;
        let verdict = if let Some(reason) = unresolved {
            Verdict::NotComparable(reason)
        } else if let Some(e) = exclusion(cassette, index, i) {
            Verdict::NotComparable(format!("excluded: {}", e.reason))
        } else if let Some(mode) = unsimulated_sign_on_mode(&operation, recorded_json.as_ref()) {
            Verdict::NotComparable(format!("sign-on mode {mode} is not simulated"))
        } else {
            match self.compare(i, &operation, &resp) {
                Ok(()) => Verdict::Matched,
                Err(diff) => Verdict::Mismatch(diff),
            }
        };
        if (200..300).contains(&i.status) && resp.status == i.status {
            if let Some(rec) = &i.response_body {
                self.learn(rec, &resp.body);
            }
            self.learn_cursor(i, &resp);
        }
        self.remember_unmapped(i, &operation);
        row(verdict)
    }

    fn remember_unmapped(&mut self, i: &Interaction, operation: &str) {
        let mut found = Vec::new();
        if let Some(b) = &i.response_body {
            ids_in(b, &mut found);
        }
        for id in found {
            if !self.ids.contains_key(&id) {
                self.produced
                    .entry(id)
                    .or_insert_with(|| operation.to_string());
            }
        }
    }

    /// The recorded `next` cursor stands for the simulator's `next` cursor of the same page.
    fn learn_cursor(&mut self, i: &Interaction, resp: &Resp) {
        let after = |url: &str| {
            let query = url.split_once('?')?.1;
            cassettes::parse_query(query)
                .into_iter()
                .find(|(k, _)| k == "after")
                .map(|(_, v)| v)
        };
        let recorded = i.links().into_iter().find(|l| l.rel == "next");
        let simulated = sim_links(resp).into_iter().find(|l| l.rel == "next");
        if let (Some(r), Some(s)) = (recorded, simulated)
            && let (Some(ra), Some(sa)) = (after(&r.url), after(&s.url))
        {
            self.ids.entry(ra).or_insert(sa);
        }
    }

    fn compare(&self, i: &Interaction, operation: &str, resp: &Resp) -> Result<(), String> {
        if resp.status != i.status {
            return Err(format!(
                "status {} (recorded) vs {} {} (simulator)",
                i.status,
                resp.status,
                resp.error_code().unwrap_or("")
            )
            .trim_end()
            .to_string());
        }
        if let Some(code) = i.error_code()
            && resp.error_code() != Some(code)
        {
            return Err(format!(
                "errorCode {code} (recorded) vs {:?} (simulator)",
                resp.error_code()
            ));
        }
        let recorded_headers: BTreeSet<&str> = COMPARED_HEADERS
            .into_iter()
            .filter(|h| i.response_headers.contains(h))
            .collect();
        let sim_headers: BTreeSet<&str> = COMPARED_HEADERS
            .into_iter()
            .filter(|h| resp.headers.contains_key(*h))
            .collect();
        if recorded_headers != sim_headers {
            return Err(format!(
                "headers {recorded_headers:?} (recorded) vs {sim_headers:?} (simulator)"
            ));
        }
        // Whether a page has a `next` depends on how many objects each org holds, so only `self`
        // is compared: present whenever Okta sent a Link (the 2020 recordings kept only the last
        // Link line, README caveat 6), and the simulator sends no rel but `self` and `next`.
        let sim_rels: Vec<String> = sim_links(resp).into_iter().map(|l| l.rel).collect();
        let recorded_linked = !i.links().is_empty();
        if recorded_linked != sim_rels.iter().any(|r| r == "self")
            || sim_rels.iter().any(|r| r != "self" && r != "next")
        {
            let recorded: Vec<String> = i.links().into_iter().map(|l| l.rel).collect();
            return Err(format!(
                "Link rels {recorded:?} (recorded) vs {sim_rels:?} (simulator)"
            ));
        }
        self.compare_bodies(i, operation, resp)
    }

    fn compare_bodies(&self, i: &Interaction, operation: &str, resp: &Resp) -> Result<(), String> {
        let sim_empty = resp.text.trim().is_empty();
        let Some(recorded) = &i.response_body else {
            return if sim_empty {
                Ok(())
            } else {
                Err(format!(
                    "the simulator sent a body where Okta sent none: {}",
                    short(&resp.text)
                ))
            };
        };
        if sim_empty || resp.body.is_null() {
            return Err("Okta sent a JSON body, the simulator none".into());
        }
        let known = known_keys().get(&(
            object_kind(operation, Some(recorded)).to_string(),
            i.status / 100,
        ));
        let check = |rec: &Value, sim: &Value| -> Result<(), String> {
            let rec_keys = json_key_paths(rec);
            let sim_keys = json_key_paths(sim);
            let missing: Vec<&String> = rec_keys
                .difference(&sim_keys)
                .filter(|k| !omission_allowed(&i.method, &template_of(&i.path), k))
                .collect();
            let extra: Vec<&String> = sim_keys
                .difference(&rec_keys)
                .filter(|k| !known.is_some_and(|known| known.contains(*k)))
                .collect();
            match (missing.is_empty(), extra.is_empty()) {
                (true, true) => Ok(()),
                _ => Err(format!(
                    "keys missing {missing:?}, keys Okta never sends {extra:?}"
                )),
            }
        };
        match (recorded, &resp.body) {
            (Value::Object(_), Value::Object(_)) => check(recorded, &resp.body),
            (Value::Array(r), Value::Array(s)) => {
                for (rv, sv) in self.pairs(r, s) {
                    check(rv, sv).map_err(|e| {
                        format!("list element {}: {e}", natural_key(rv).unwrap_or_default())
                    })?;
                }
                Ok(())
            }
            (r, s) => Err(format!(
                "body is {} (recorded) vs {} (simulator)",
                kind(r),
                kind(s)
            )),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
        _ => "a scalar",
    }
}

fn short(s: &str) -> String {
    s.chars().take(120).collect()
}

fn sim_links(resp: &Resp) -> Vec<cassettes::Link> {
    resp.headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_link_header)
        .collect()
}

fn omission_allowed(method: &str, template: &str, key: &str) -> bool {
    ALLOWED_OMISSIONS.iter().any(|(m, t, k, _)| {
        (*m == "*" || *m == method) && (*t == "*" || *t == template) && *k == key
    })
}

fn exclusion(cassette: &Cassette, index: usize, i: &Interaction) -> Option<&'static Exclusion> {
    let operation = operation_of(i);
    EXCLUSIONS.iter().find(|e| {
        (e.cassette.is_empty() || cassette.path.ends_with(e.cassette))
            && e.index.is_none_or(|n| n == index)
            && (e.operation.is_empty() || e.operation == operation)
            && (e.status == 0 || e.status == i.status)
            && (e.year == 0 || e.year == year_of(i))
    })
}

fn unsimulated_sign_on_mode(operation: &str, body: Option<&Value>) -> Option<String> {
    if !matches!(operation, "POST /api/v1/apps" | "PUT /api/v1/apps/{id}") {
        return None;
    }
    let mode = body?.get("signOnMode")?.as_str()?;
    (!SIMULATED_SIGN_ON_MODES.contains(&mode)).then(|| mode.to_string())
}

async fn replay_cassette(
    cassette: &'static Cassette,
    served: Arc<BTreeMap<String, bool>>,
) -> Vec<Row> {
    let mut replay = Replay {
        org: TestOrg::with(replay_config()).await,
        ids: HashMap::new(),
        produced: HashMap::new(),
    };
    let mut rows = Vec::with_capacity(cassette.interactions.len());
    for index in 0..cassette.interactions.len() {
        rows.push(replay.step(cassette, index, &served).await);
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_traffic_replays_against_the_simulator() {
    let all = cassettes::cached();
    let served = Arc::new(served_operations().await);
    let total: usize = all.iter().map(|c| c.interactions.len()).sum();

    // Only cassettes with a served operation need a simulator; the rest count as not served.
    let mut tasks = tokio::task::JoinSet::new();
    let mut rows: Vec<Row> = Vec::new();
    for cassette in all {
        let touches_served = cassette
            .interactions
            .iter()
            .any(|i| served.get(&operation_of(i)).copied().unwrap_or(false));
        if !touches_served {
            continue;
        }
        let served = served.clone();
        tasks.spawn(replay_cassette(cassette, served));
    }
    while let Some(done) = tasks.join_next().await {
        rows.extend(done.expect("replay task"));
    }
    rows.sort_by(|a, b| (a.cassette, a.index).cmp(&(b.cassette, b.index)));

    let on_served: Vec<&Row> = rows
        .iter()
        .filter(|r| r.verdict != Verdict::NotServed)
        .collect();
    let mut not_comparable: BTreeMap<&str, usize> = BTreeMap::new();
    let mut mismatches: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    let mut matched = 0;
    for r in &on_served {
        match &r.verdict {
            Verdict::NotComparable(reason) => *not_comparable.entry(reason).or_default() += 1,
            Verdict::Matched => matched += 1,
            Verdict::Mismatch(_) => mismatches.entry(&r.operation).or_default().push(r),
            Verdict::NotServed => {}
        }
    }
    let comparable = on_served.len() - not_comparable.values().sum::<usize>();
    let served_ops: Vec<&String> = served.iter().filter(|(_, s)| **s).map(|(k, _)| k).collect();

    println!(
        "replay: {total} recorded interactions, {} on served endpoints ({} served operations), \
         {comparable} comparable, {matched} matched",
        on_served.len(),
        served_ops.len()
    );
    println!("not comparable, by reason:");
    for (reason, n) in &not_comparable {
        println!("  {n:5}  {reason}");
    }
    println!("mismatches per operation (count, first difference):");
    for (op, rows) in &mismatches {
        let first = rows[0];
        let Verdict::Mismatch(diff) = &first.verdict else {
            unreachable!()
        };
        println!(
            "  {:3}  {op}\n        {}#{}: {}\n        sent: {}",
            rows.len(),
            first.cassette.display(),
            first.index,
            diff,
            first.sent
        );
    }
    assert!(
        !on_served.is_empty(),
        "the simulator serves none of the recorded operations"
    );
    assert_eq!(
        matched, comparable,
        "every comparable recorded interaction must match (see the table above)"
    );
}
