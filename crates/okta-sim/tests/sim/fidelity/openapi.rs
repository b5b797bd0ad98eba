//! Validate JSON response bodies against Okta's official OpenAPI 3.0.3 spec.
//!
//! Spec files: `<shared>/okta/spec/management-minimal.yaml` (485 paths) and
//! `oauth-minimal.yaml` (see `<shared>/okta/FACTS.md` §1). The validator implements the
//! subset of OpenAPI 3.0 schema keywords that the Okta spec uses for response bodies:
//! `$ref`, `type`, `nullable`, `required`, `properties`, `additionalProperties`, `items`,
//! `enum`, `allOf`, `oneOf`/`anyOf` (+ `discriminator`), and `format: date-time`.
//! Everything else (`minLength`, `pattern`, `readOnly`, examples, ...) is ignored.
//!
//! Test-support code: `Spec::load` panics on unreadable files.

// Test-support module: not every test binary uses every helper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The management spec, parsed once per test binary.
pub fn management() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load(management_spec_path()))
}

/// The OAuth/OIDC spec (`/oauth2/v1/*`), parsed once per test binary.
pub fn oauth() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load(oauth_spec_path()))
}

pub fn management_spec_path() -> PathBuf {
    super::cassettes::shared_dir().join("okta/spec/management-minimal.yaml")
}

pub fn oauth_spec_path() -> PathBuf {
    super::cassettes::shared_dir().join("okta/spec/oauth-minimal.yaml")
}

/// Schema steps (refs, compositions, nesting) before giving up: guards recursive schemas.
const MAX_DEPTH: usize = 128;
/// Stop collecting after this many errors for one body.
const MAX_ERRORS: usize = 100;

/// How strict to be where the spec and real Okta data are known to disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Accept `null` for a property that is not `required` even when the spec does not say
    /// `nullable` (real Okta sends e.g. `"description": null`, `"loginRedirectUrl": null`).
    pub allow_null_for_optional: bool,
    /// Report values missing from `enum` lists (some Okta enums are incomplete, e.g. the
    /// token response's `token_type` lacks `DPoP`).
    pub check_enums: bool,
}

impl Options {
    /// Exactly what the spec says.
    pub const STRICT: Options = Options {
        allow_null_for_optional: false,
        check_enums: true,
    };
    /// Tolerates the two common spec-vs-reality gaps above.
    pub const LENIENT: Options = Options {
        allow_null_for_optional: true,
        check_enums: false,
    };
}

impl Default for Options {
    fn default() -> Self {
        Options::STRICT
    }
}

/// A parsed OpenAPI document plus an index of its path templates.
pub struct Spec {
    doc: Value,
    paths: Vec<PathTemplate>,
}

struct PathTemplate {
    template: String,
    /// `Some(literal)` or `None` for a `{param}` segment.
    segments: Vec<Option<String>>,
}

/// One operation of the spec, matched from a concrete request.
#[derive(Debug, Clone, Copy)]
pub struct OperationRef<'a> {
    /// Lower-case key in the path item (`get`, `post`, ...).
    pub method: &'a str,
    /// The spec's path, e.g. `/api/v1/users/{id}/lifecycle/activate`.
    pub path_template: &'a str,
    pub operation_id: Option<&'a str>,
    /// The raw operation object.
    pub operation: &'a Value,
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

impl Spec {
    /// Reads and parses a spec file. Panics with the path on failure.
    pub fn load(path: impl AsRef<Path>) -> Spec {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("reading OpenAPI spec {}: {e}", path.display()));
        Spec::from_yaml(&text)
            .unwrap_or_else(|e| panic!("parsing OpenAPI spec {}: {e}", path.display()))
    }

    /// Parses spec text. Only `paths` and `components` (minus `components.examples`) are
    /// kept: that is all validation needs, and skipping the rest cuts the management spec's
    /// parse time by about a quarter in unoptimised builds (~400 -> ~300 ms). Building the
    /// YAML crates with `opt-level = 3` helps far more (~120 ms), see the crate's Cargo.toml.
    pub fn from_yaml(text: &str) -> Result<Spec, String> {
        let trimmed = keep_validation_sections(text);
        let doc: Value = match serde_yaml::from_str::<Value>(&trimmed) {
            Ok(doc) if doc.get("paths").is_some() => doc,
            // The line-based trimming assumes block-style YAML; fall back to the whole text.
            _ => serde_yaml::from_str(text).map_err(|e| e.to_string())?,
        };
        Spec::from_value(doc)
    }

    /// Builds a spec from an already parsed document (JSON or YAML).
    pub fn from_value(doc: Value) -> Result<Spec, String> {
        let paths = doc
            .get("paths")
            .and_then(Value::as_object)
            .ok_or("spec has no `paths` object")?
            .keys()
            .map(|template| PathTemplate {
                template: template.clone(),
                segments: split_path(template)
                    .map(|s| (!is_template_segment(s)).then(|| s.to_string()))
                    .collect(),
            })
            .collect();
        Ok(Spec { doc, paths })
    }

    /// The spec's path templates (sorted: serde_json maps do not keep document order).
    pub fn path_templates(&self) -> impl Iterator<Item = &str> {
        self.paths.iter().map(|p| p.template.as_str())
    }

    /// Matches a concrete request path (query and `//` tolerated) to the spec operation.
    /// When several templates match, the one with a literal segment at the first point of
    /// difference wins (`/api/v1/groups/rules` over `/api/v1/groups/{groupId}`). Templates
    /// without the method are skipped, so a method only defined on a less specific
    /// template still resolves.
    pub fn operation_for(&self, method: &str, concrete_path: &str) -> Option<OperationRef<'_>> {
        let method = method.to_ascii_lowercase();
        // Path items also hold `parameters`, `summary`, ...: only HTTP methods are operations.
        if !METHODS.contains(&method.as_str()) {
            return None;
        }
        let path = concrete_path.split(['?', '#']).next().unwrap_or("");
        let segments: Vec<&str> = split_path(path).collect();
        let path_items = self.doc.get("paths")?.as_object()?;

        let mut best: Option<(Vec<bool>, &PathTemplate, &str, &Value)> = None;
        for candidate in &self.paths {
            if candidate.segments.len() != segments.len() {
                continue;
            }
            let matches = candidate
                .segments
                .iter()
                .zip(&segments)
                .all(|(t, s)| t.as_deref().is_none_or(|lit| lit == *s));
            if !matches {
                continue;
            }
            let Some((key, op)) = path_items
                .get(&candidate.template)
                .and_then(Value::as_object)
                .and_then(|item| item.get_key_value(method.as_str()))
            else {
                continue;
            };
            let specificity: Vec<bool> = candidate.segments.iter().map(Option::is_some).collect();
            if best.as_ref().is_none_or(|(b, ..)| specificity > *b) {
                best = Some((specificity, candidate, key.as_str(), op));
            }
        }
        let (_, template, key, operation) = best?;
        Some(OperationRef {
            method: key,
            path_template: &template.template,
            operation_id: operation.get("operationId").and_then(Value::as_str),
            operation,
        })
    }

    /// True when the operation exists and lists `status`, its `NXX` range, or `default`.
    pub fn has_response(&self, method: &str, concrete_path: &str, status: u16) -> bool {
        self.operation_for(method, concrete_path)
            .and_then(|op| self.response_for(op, status))
            .is_some()
    }

    /// The response object for `status` (exact, then `4XX`-style range, then `default`),
    /// with `$ref`s to `components/responses` resolved. Returns the matched key too.
    pub fn response_for<'a>(
        &'a self,
        op: OperationRef<'a>,
        status: u16,
    ) -> Option<(&'a str, &'a Value)> {
        let responses = op.operation.get("responses")?.as_object()?;
        let exact = status.to_string();
        let range_upper = format!("{}XX", status / 100);
        let range_lower = format!("{}xx", status / 100);
        let (key, response) = [exact.as_str(), &range_upper, &range_lower, "default"]
            .into_iter()
            .find_map(|k| responses.get_key_value(k))?;
        Some((key.as_str(), self.deref(response)?))
    }

    /// The JSON schema of the response (possibly a `$ref`), or `None` when the spec has no
    /// such response, declares no content (e.g. `content: {}`), or no JSON media type.
    pub fn response_schema(
        &self,
        method: &str,
        concrete_path: &str,
        status: u16,
    ) -> Option<&Value> {
        let op = self.operation_for(method, concrete_path)?;
        let (_, response) = self.response_for(op, status)?;
        json_media(response.get("content")?.as_object()?)?
            .1
            .get("schema")
    }

    /// Validates `body` against the response schema for `status`. `Err` holds one message
    /// per problem, each naming the JSON path and the schema it came from, e.g.
    /// `$.profile.login: expected string, got null (in UserProfile)`. A response the spec
    /// declares without content, or content without a schema, accepts any body.
    pub fn validate_response(
        &self,
        method: &str,
        concrete_path: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), Vec<String>> {
        self.validate_response_with(method, concrete_path, status, body, Options::STRICT)
    }

    /// `validate_response` with explicit strictness options.
    pub fn validate_response_with(
        &self,
        method: &str,
        concrete_path: &str,
        status: u16,
        body: &Value,
        options: Options,
    ) -> Result<(), Vec<String>> {
        let op = self.operation_for(method, concrete_path).ok_or_else(|| {
            vec![format!(
                "spec has no operation for {method} {concrete_path}"
            )]
        })?;
        let where_ = format!("{} {}", op.method.to_ascii_uppercase(), op.path_template);
        let (key, response) = self.response_for(op, status).ok_or_else(|| {
            vec![format!(
                "spec has no response for status {status} of {where_}"
            )]
        })?;
        let content = match response.get("content").and_then(Value::as_object) {
            Some(c) if !c.is_empty() => c,
            _ => return Ok(()),
        };
        let Some((_, media)) = json_media(content) else {
            let types: Vec<&String> = content.keys().collect();
            return Err(vec![format!(
                "{where_} {key} declares only non-JSON content {types:?}, got a JSON body"
            )]);
        };
        let Some(schema) = media.get("schema") else {
            return Ok(());
        };
        let origin = format!("{where_} {key}");
        self.validate_schema(schema, body, &origin, options)
    }

    /// Validates `value` against any schema of this spec, e.g.
    /// `spec.validate_schema(&json!({"$ref": "#/components/schemas/User"}), &body, "User", Options::STRICT)`.
    /// `origin` names the schema in messages until the first `$ref`.
    pub fn validate_schema(
        &self,
        schema: &Value,
        value: &Value,
        origin: &str,
        options: Options,
    ) -> Result<(), Vec<String>> {
        let mut v = Validator::new(self, options);
        v.check(schema, value, "$", origin, 0, &[]);
        v.finish()
    }

    /// Resolves a local `$ref` (`#/components/...`) to its target.
    pub fn resolve_ref(&self, reference: &str) -> Option<&Value> {
        let pointer = reference.strip_prefix('#')?;
        self.doc.pointer(pointer)
    }

    /// Follows `$ref` chains (bounded, in case of a cycle).
    fn deref<'a>(&'a self, mut v: &'a Value) -> Option<&'a Value> {
        for _ in 0..16 {
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) => v = self.resolve_ref(r)?,
                None => return Some(v),
            }
        }
        None
    }
}

/// `application/json`, else the first (alphabetically) media type that mentions JSON,
/// e.g. `application/scim+json`.
fn json_media(content: &Map<String, Value>) -> Option<(&String, &Value)> {
    content
        .get_key_value("application/json")
        .or_else(|| content.iter().find(|(k, _)| k.contains("json")))
}

fn split_path(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn is_template_segment(s: &str) -> bool {
    s.starts_with('{') && s.ends_with('}')
}

/// Keeps the top-level `openapi`, `paths` and `components` sections and drops
/// `components.examples`, working on lines: in block-style YAML a line indented by exactly
/// N spaces with a key is a key at that level (block scalars are always indented deeper).
fn keep_validation_sections(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut keep = false;
    let mut in_components = false;
    let mut skipping_child = false;
    for line in text.split_inclusive('\n') {
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        let is_key_line = !content.trim().is_empty() && !content.starts_with('#');
        if is_key_line && indent == 0 {
            let key = content.split(':').next().unwrap_or("");
            keep = matches!(key, "openapi" | "paths" | "components");
            in_components = key == "components";
            skipping_child = false;
        } else if is_key_line && indent == 2 && in_components {
            skipping_child = content.starts_with("examples:");
        }
        if keep && !skipping_child {
            out.push_str(line);
        }
    }
    out
}

/// Last component of a `$ref`, used to name schemas in messages.
fn ref_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(expected: &str, v: &Value) -> bool {
    match expected {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        // Unknown type names (none in the Okta spec): do not guess.
        _ => true,
    }
}

/// Loose ISO-8601 check: `YYYY-MM-DDTHH:MM:SS`, optional fraction, optional `Z`/offset.
pub fn looks_like_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    let basic = b.len() >= 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !basic {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest.as_bytes() {
        [] | [b'Z' | b'z'] => true,
        [b'+' | b'-', tz @ ..] => {
            let tz: Vec<u8> = tz.iter().copied().filter(|c| *c != b':').collect();
            tz.len() == 4 && tz.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

/// `$.a.b[3]`, with `["..."]` for keys that are not simple identifiers.
fn child_path(parent: &str, key: &str) -> String {
    let simple = !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c == b'-');
    if simple {
        format!("{parent}.{key}")
    } else {
        format!("{parent}[{}]", Value::String(key.to_string()))
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        format!(
            "{}...",
            &s[..s.char_indices().nth(57).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

/// How close a failed `oneOf` branch came: (error count, deepest error path).
type Score = (usize, std::cmp::Reverse<usize>);

struct Validator<'s> {
    spec: &'s Spec,
    options: Options,
    errors: Vec<String>,
    /// `path: message` already reported, so the same failure seen through two schemas
    /// (e.g. both halves of an `allOf` saying "expected object") is reported once.
    seen: std::collections::HashSet<String>,
    truncated: bool,
}

impl<'s> Validator<'s> {
    fn new(spec: &'s Spec, options: Options) -> Self {
        Validator {
            spec,
            options,
            errors: Vec::new(),
            seen: Default::default(),
            truncated: false,
        }
    }

    fn error(&mut self, at: &str, origin: &str, msg: impl std::fmt::Display) {
        let key = format!("{at}: {msg}");
        if self.errors.len() >= MAX_ERRORS {
            self.truncated = true;
        } else if self.seen.insert(key.clone()) {
            self.errors.push(format!("{key} (in {origin})"));
        }
    }

    fn finish(mut self) -> Result<(), Vec<String>> {
        if self.truncated {
            self.errors
                .push(format!("... stopped after {MAX_ERRORS} errors"));
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }

    /// Checks `value` at JSON path `at` against `schema`. `origin` names the nearest named
    /// schema. `here` lists the `$ref`s already entered for this same JSON value: a ref met
    /// again at the same place (a subtype's `allOf` pointing back at the base that
    /// dispatched to it, or a cycle) is already being checked by an outer frame.
    fn check(
        &mut self,
        schema: &'s Value,
        value: &Value,
        at: &str,
        origin: &str,
        depth: usize,
        here: &[&'s str],
    ) {
        if depth > MAX_DEPTH {
            self.error(
                at,
                origin,
                format_args!("schema nested deeper than {MAX_DEPTH} steps (recursive schema?)"),
            );
            return;
        }
        let Some(s) = schema.as_object() else {
            return; // `true` or a non-schema: accepts anything
        };

        // OpenAPI 3.0: siblings of `$ref` are ignored.
        if let Some(reference) = s.get("$ref").and_then(Value::as_str) {
            if here.contains(&reference) {
                return;
            }
            let Some(target) = self.spec.resolve_ref(reference) else {
                self.error(at, origin, format_args!("unresolvable $ref {reference}"));
                return;
            };
            let mut here = here.to_vec();
            here.push(reference);
            self.check(target, value, at, ref_name(reference), depth + 1, &here);
            return;
        }

        if value.is_null() && s.get("nullable").and_then(Value::as_bool) == Some(true) {
            return;
        }

        if let Some(expected) = s.get("type") {
            let ok = match expected {
                Value::String(t) => type_matches(t, value),
                Value::Array(ts) => ts
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|t| type_matches(t, value)),
                _ => true,
            };
            if !ok {
                self.error(
                    at,
                    origin,
                    format_args!(
                        "expected {}, got {}",
                        short(expected).trim_matches('"'),
                        kind_of(value)
                    ),
                );
                return;
            }
        }

        let allowed = s.get("enum").and_then(Value::as_array);
        if let Some(allowed) = allowed.filter(|a| self.options.check_enums && !a.contains(value)) {
            let shown: Vec<String> = allowed.iter().take(12).map(short).collect();
            let more = if allowed.len() > 12 { ", ..." } else { "" };
            self.error(
                at,
                origin,
                format_args!(
                    "value {} not in enum [{}{more}]",
                    short(value),
                    shown.join(", ")
                ),
            );
        }

        let is_date_time = s.get("format").and_then(Value::as_str) == Some("date-time");
        if is_date_time && value.as_str().is_some_and(|t| !looks_like_datetime(t)) {
            self.error(
                at,
                origin,
                format_args!("{} is not an ISO-8601 date-time", short(value)),
            );
        }

        if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
            for part in parts {
                self.check(part, value, at, origin, depth + 1, here);
            }
        }
        for keyword in ["oneOf", "anyOf"] {
            if let Some(branches) = s.get(keyword).and_then(Value::as_array) {
                self.check_alternatives(
                    keyword,
                    branches,
                    s.get("discriminator"),
                    value,
                    at,
                    origin,
                    depth,
                    here,
                );
            }
        }
        // A discriminator on a base schema without oneOf/anyOf (the "minimal" spec's
        // inheritance style, e.g. Application -> BookmarkApplication): also check the subtype.
        let has_alternatives = s.contains_key("oneOf") || s.contains_key("anyOf");
        let subtype = if has_alternatives {
            None
        } else {
            self.mapped_subtype(s.get("discriminator"), value)
                .filter(|sub| !here.contains(sub))
        };
        if let Some(sub) = subtype {
            match self.spec.resolve_ref(sub) {
                Some(target) => {
                    let mut here = here.to_vec();
                    here.push(sub);
                    self.check(target, value, at, ref_name(sub), depth + 1, &here);
                }
                None => self.error(
                    at,
                    origin,
                    format_args!("unresolvable discriminator mapping {sub}"),
                ),
            }
        }

        match value {
            Value::Object(obj) => self.check_object(s, obj, at, origin, depth),
            Value::Array(items) => {
                if let Some(item_schema) = s.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.check(
                            item_schema,
                            item,
                            &format!("{at}[{i}]"),
                            origin,
                            depth + 1,
                            &[],
                        );
                    }
                }
            }
            _ => {}
        }
    }

    fn check_object(
        &mut self,
        s: &'s Map<String, Value>,
        obj: &Map<String, Value>,
        at: &str,
        origin: &str,
        depth: usize,
    ) {
        let props = s.get("properties").and_then(Value::as_object);
        let required: Vec<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(props) = props {
            for (key, prop_schema) in props {
                let Some(child) = obj.get(key) else { continue };
                if child.is_null()
                    && self.options.allow_null_for_optional
                    && !required.contains(&key.as_str())
                {
                    continue;
                }
                self.check(
                    prop_schema,
                    child,
                    &child_path(at, key),
                    origin,
                    depth + 1,
                    &[],
                );
            }
        }
        for &key in &required {
            // OpenAPI 3.0: a required writeOnly property is required in requests only.
            let write_only = props
                .and_then(|p| p.get(key))
                .and_then(|p| self.spec.deref(p))
                .and_then(|p| p.get("writeOnly"))
                .and_then(Value::as_bool)
                == Some(true);
            if !obj.contains_key(key) && !write_only {
                self.error(
                    at,
                    origin,
                    format_args!("missing required property `{key}`"),
                );
            }
        }
        match s.get("additionalProperties") {
            Some(Value::Bool(false)) => {
                for key in obj.keys() {
                    if !props.is_some_and(|p| p.contains_key(key)) {
                        self.error(
                            &child_path(at, key),
                            origin,
                            "unexpected property (additionalProperties: false)",
                        );
                    }
                }
            }
            Some(extra @ Value::Object(_)) => {
                for (key, child) in obj {
                    if !props.is_some_and(|p| p.contains_key(key)) {
                        self.check(extra, child, &child_path(at, key), origin, depth + 1, &[]);
                    }
                }
            }
            _ => {}
        }
    }

    /// The `$ref` that `discriminator.mapping` (or the implicit schema-name rule) picks for
    /// this value, if any.
    fn mapped_subtype(&self, discriminator: Option<&'s Value>, value: &Value) -> Option<&'s str> {
        let d = discriminator?;
        let tag = value.get(d.get("propertyName")?.as_str()?)?.as_str()?;
        d.get("mapping")?.get(tag)?.as_str()
    }

    /// `oneOf`/`anyOf`: at least one branch must match. With a discriminator, only the
    /// branch it names is checked, so its errors are reported directly.
    #[allow(clippy::too_many_arguments)]
    fn check_alternatives(
        &mut self,
        keyword: &str,
        branches: &'s [Value],
        discriminator: Option<&'s Value>,
        value: &Value,
        at: &str,
        origin: &str,
        depth: usize,
        here: &[&'s str],
    ) {
        let picked = self.mapped_subtype(discriminator, value).or_else(|| {
            // Implicit mapping: the tag is a schema name among the branches.
            let prop = discriminator?.get("propertyName")?.as_str()?;
            let tag = value.get(prop)?.as_str()?;
            branches
                .iter()
                .filter_map(|b| b.get("$ref").and_then(Value::as_str))
                .find(|r| ref_name(r) == tag)
        });
        if let Some(target) = picked {
            if here.contains(&target) {
                return;
            }
            match self.spec.resolve_ref(target) {
                Some(resolved) => {
                    let mut here = here.to_vec();
                    here.push(target);
                    self.check(resolved, value, at, ref_name(target), depth + 1, &here);
                }
                None => self.error(
                    at,
                    origin,
                    format_args!("unresolvable discriminator mapping {target}"),
                ),
            }
            return;
        }

        // Closest branch: fewest errors, ties going to the one whose errors sit deepest in
        // the value (it matched more before failing).
        let mut closest: Option<(Score, usize, Vec<String>)> = None;
        for (index, branch) in branches.iter().enumerate() {
            let mut trial = Validator::new(self.spec, self.options);
            trial.check(branch, value, at, origin, depth + 1, here);
            if trial.errors.is_empty() {
                return;
            }
            let deepest = trial
                .errors
                .iter()
                .map(|e| e.split(": ").next().unwrap_or("").len())
                .max()
                .unwrap_or(0);
            let score = (trial.errors.len(), std::cmp::Reverse(deepest));
            if closest.as_ref().is_none_or(|(best, ..)| score < *best) {
                closest = Some((score, index, trial.errors));
            }
        }
        let branch_name = |b: &Value| {
            b.get("$ref")
                .and_then(Value::as_str)
                .map_or("inline", ref_name)
                .to_string()
        };
        if let Some((_, index, errors)) = closest {
            let names: Vec<String> = branches.iter().map(branch_name).collect();
            let name = &names[index];
            self.error(
                at,
                origin,
                format_args!(
                    "matches no {keyword} branch [{}]; closest is {name}, whose errors follow",
                    names.join(", ")
                ),
            );
            for e in errors {
                if self.errors.len() >= MAX_ERRORS {
                    self.truncated = true;
                    break;
                }
                self.errors.push(format!("  {e}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn spec() -> &'static Spec {
        management()
    }

    fn errors(r: Result<(), Vec<String>>) -> Vec<String> {
        r.err().unwrap_or_default()
    }

    /// Asserts that some error mentions all of `needles`.
    fn assert_reported(errs: &[String], needles: &[&str]) {
        assert!(
            errs.iter().any(|e| needles.iter().all(|n| e.contains(n))),
            "no error containing {needles:?} in {errs:#?}"
        );
    }

    fn user() -> Value {
        json!({
            "id": "00usfgmn9xhwtA6f74x6",
            "status": "STAGED",
            "created": "2020-08-27T18:19:47.000Z",
            "activated": null,
            "statusChanged": null,
            "lastLogin": null,
            "lastUpdated": "2020-08-27T18:19:47.000Z",
            "passwordChanged": "2020-08-27T18:19:47.000Z",
            "type": {"id": "otyc04qb2rUDcq2YA4x6"},
            "profile": {
                "firstName": "John", "lastName": "Doe", "mobilePhone": null, "secondEmail": null,
                "login": "john.doe@example.com", "email": "john.doe@example.com",
                "customAttribute": 42
            },
            "credentials": {
                "password": {},
                "emails": [{"value": "john.doe@example.com", "status": "VERIFIED", "type": "PRIMARY"}],
                "provider": {"type": "OKTA", "name": "OKTA"}
            },
            "_links": {
                "self": {"href": "https://test.okta.com/api/v1/users/00usfgmn9xhwtA6f74x6"},
                "activate": {"href": "https://test.okta.com/api/v1/users/00usfgmn9xhwtA6f74x6/lifecycle/activate", "method": "POST"}
            }
        })
    }

    fn group() -> Value {
        json!({
            "id": "00gsfet1hDVA13epS4x6",
            "created": "2020-08-27T18:19:47.000Z",
            "lastUpdated": "2020-08-27T18:19:47.000Z",
            "lastMembershipUpdated": "2020-08-27T18:19:47.000Z",
            "objectClass": ["okta:user_group"],
            "type": "OKTA_GROUP",
            "profile": {"name": "Group-Member API Test Group", "description": "members"},
            "_links": {
                "logo": [{"name": "medium", "href": "https://op1static.oktacdn.com/assets/img/logos/groups/okta-medium.png", "type": "image/png"}],
                "users": {"href": "https://test.okta.com/api/v1/groups/00gsfet1hDVA13epS4x6/users"},
                "apps": {"href": "https://test.okta.com/api/v1/groups/00gsfet1hDVA13epS4x6/apps"}
            }
        })
    }

    fn log_event() -> Value {
        json!({
            "uuid": "dc9fd3c0-598c-11ef-8478-2b7584bf8d5a",
            "published": "2024-08-13T15:58:20.353Z",
            "eventType": "user.session.start",
            "version": "0",
            "severity": "INFO",
            "legacyEventType": "core.user_auth.login_success",
            "displayMessage": "User login to Okta",
            "actor": {"id": "00u1qw1mqitPHM8AJ0g7", "type": "User", "alternateId": "admin@example.com", "displayName": "Admin"},
            "client": {
                "userAgent": {"rawUserAgent": "Mozilla/5.0", "os": "Mac OS X", "browser": "CHROME"},
                "zone": "null", "device": "Computer", "ipAddress": "10.0.0.1",
                "geographicalContext": {"city": "San Francisco", "state": "California", "country": "United States", "postalCode": "94105",
                    "geolocation": {"lat": 37.7852, "lon": -122.3874}}
            },
            "outcome": {"result": "SUCCESS"},
            "target": [{"id": "0oa1", "type": "AppInstance", "alternateId": "Okta Admin Console", "displayName": "Okta Admin Console"}],
            "transaction": {"type": "WEB", "id": "ZrvzbHJ1kSNYtEdKkNS3wAAAD0Q", "detail": {}},
            "debugContext": {"debugData": {"requestUri": "/idp/idx/authenticators/poll", "url": "/idp/idx/authenticators/poll?"}},
            "authenticationContext": {"authenticationStep": 0, "externalSessionId": "102abc"},
            "securityContext": {"asNumber": 394089, "asOrg": "okta", "isp": "okta", "domain": "okta.com", "isProxy": false},
            "request": {"ipChain": [{"ip": "10.0.0.1", "version": "V4",
                "geographicalContext": {"city": "San Francisco", "geolocation": {"lat": 37.7852, "lon": -122.3874}}}]}
        })
    }

    #[test]
    fn loads_the_management_spec() {
        let t = std::time::Instant::now();
        let fresh = Spec::load(management_spec_path());
        println!("management spec parsed in {:?}", t.elapsed());
        assert_eq!(fresh.path_templates().count(), 485);
        assert!(fresh.resolve_ref("#/components/schemas/User").is_some());
        assert!(
            fresh
                .resolve_ref("#/components/responses/ErrorTooManyRequests429")
                .is_some()
        );
        assert!(
            fresh
                .resolve_ref("#/components/schemas/NoSuchSchema")
                .is_none()
        );
        assert_eq!(oauth().path_templates().count(), 33);
    }

    #[test]
    fn trimmed_parse_keeps_everything_validation_needs() {
        // The line-based trimming must not change paths or components other than examples.
        let text = std::fs::read_to_string(management_spec_path()).unwrap();
        let full: Value = serde_yaml::from_str(&text).unwrap();
        let trimmed = spec();
        assert_eq!(full["paths"], trimmed.doc["paths"]);
        for part in [
            "schemas",
            "responses",
            "parameters",
            "requestBodies",
            "securitySchemes",
        ] {
            assert_eq!(
                full["components"][part], trimmed.doc["components"][part],
                "components.{part}"
            );
        }
        assert!(trimmed.doc["components"].get("examples").is_none());
    }

    #[test]
    fn matches_concrete_paths_to_templates() {
        let s = spec();
        let tpl = |m: &str, p: &str| s.operation_for(m, p).map(|o| o.path_template);
        assert_eq!(
            tpl("POST", "/api/v1/users/00u1abc/lifecycle/activate"),
            Some("/api/v1/users/{id}/lifecycle/activate")
        );
        assert_eq!(
            tpl("GET", "/api/v1/groups/rules"),
            Some("/api/v1/groups/rules")
        );
        assert_eq!(
            tpl("GET", "/api/v1/groups/00g1abc"),
            Some("/api/v1/groups/{groupId}")
        );
        assert_eq!(
            tpl("GET", "/api/v1/groups/rules/0pr1abc"),
            Some("/api/v1/groups/rules/{groupRuleId}")
        );
        assert_eq!(
            tpl("GET", "//api/v1/users/00u1?expand=blocks"),
            Some("/api/v1/users/{id}")
        );
        assert_eq!(
            tpl("get", "/api/v1/meta/schemas/user/default"),
            Some("/api/v1/meta/schemas/user/{schemaId}")
        );
        assert_eq!(
            tpl("GET", "/api/v1/meta/schemas/user/linkedObjects"),
            Some("/api/v1/meta/schemas/user/linkedObjects")
        );
        assert_eq!(tpl("GET", "/api/v1/logs"), Some("/api/v1/logs"));
        assert_eq!(tpl("GET", "/api/v1/nothing-here"), None);
        assert_eq!(
            tpl("PATCH", "/api/v1/users/00u1/lifecycle/activate"),
            None,
            "no such method"
        );
        let op = s.operation_for("GET", "/api/v1/users/00u1").unwrap();
        assert_eq!((op.method, op.operation_id), ("get", Some("getUser")));
        assert_eq!(
            oauth()
                .operation_for("POST", "/oauth2/v1/token")
                .map(|o| o.path_template),
            Some("/oauth2/v1/token")
        );
        assert_eq!(
            oauth()
                .operation_for("POST", "/oauth2/aus1abc/v1/token")
                .map(|o| o.path_template),
            Some("/oauth2/{authorizationServerId}/v1/token")
        );
    }

    #[test]
    fn user_bodies() {
        let s = spec();
        let path = "/api/v1/users/00usfgmn9xhwtA6f74x6";
        assert_eq!(s.validate_response("GET", path, 200, &user()), Ok(()));

        let mut bad = user();
        bad["profile"]["login"] = Value::Null;
        bad["status"] = json!("BOGUS");
        bad["created"] = json!(12345);
        bad["lastUpdated"] = json!("last tuesday");
        bad["_links"]["self"] = json!({"method": "GET"});
        let errs = errors(s.validate_response("GET", path, 200, &bad));
        println!("{errs:#?}");
        assert_reported(
            &errs,
            &["$.profile.login: expected string, got null", "UserProfile"],
        );
        assert_reported(
            &errs,
            &["$.status: value \"BOGUS\" not in enum", "UserStatus"],
        );
        assert_reported(&errs, &["$.created: expected string, got integer", "User"]);
        assert_reported(
            &errs,
            &["$.lastUpdated: \"last tuesday\" is not an ISO-8601 date-time"],
        );
        assert_reported(&errs, &["$._links.self: missing required property `href`"]);
        assert_eq!(errs.len(), 5, "{errs:#?}");

        let errs = errors(s.validate_response("GET", path, 200, &json!([user()])));
        assert_eq!(
            errs,
            ["$: expected object, got array (in User)"],
            "reported once, not per allOf part"
        );
    }

    #[test]
    fn group_list_bodies() {
        let s = spec();
        assert_eq!(
            s.validate_response("GET", "/api/v1/groups", 200, &json!([group(), group()])),
            Ok(())
        );
        assert_eq!(
            s.validate_response("GET", "/api/v1/groups", 200, &json!([])),
            Ok(())
        );

        let mut bad = group();
        bad["type"] = json!("SOCIAL_GROUP");
        bad["objectClass"] = json!("okta:user_group");
        let errs =
            errors(s.validate_response("GET", "/api/v1/groups", 200, &json!([group(), bad])));
        println!("{errs:#?}");
        assert_reported(
            &errs,
            &["$[1].type: value \"SOCIAL_GROUP\" not in enum", "GroupType"],
        );
        assert_reported(
            &errs,
            &["$[1].objectClass: expected array, got string", "Group"],
        );
        let errs = errors(s.validate_response("GET", "/api/v1/groups", 200, &group()));
        assert_reported(&errs, &["$: expected array, got object"]);
    }

    #[test]
    fn log_event_bodies() {
        let s = spec();
        assert_eq!(
            s.validate_response("GET", "/api/v1/logs", 200, &json!([log_event()])),
            Ok(())
        );

        let mut bad = log_event();
        bad["severity"] = json!("LOUD");
        bad["published"] = json!("2024-05-02 18:46:21.121000000");
        bad["outcome"]["result"] = json!(true);
        bad["client"]["geographicalContext"]["geolocation"]["lat"] = json!("37.7");
        let errs = errors(s.validate_response(
            "GET",
            "/api/v1/logs?since=2024-01-01T00:00:00Z",
            200,
            &json!([bad]),
        ));
        println!("{errs:#?}");
        assert_reported(
            &errs,
            &["$[0].severity: value \"LOUD\" not in enum", "LogSeverity"],
        );
        assert_reported(&errs, &["$[0].published:", "not an ISO-8601 date-time"]);
        assert_reported(
            &errs,
            &[
                "$[0].outcome.result: expected string, got boolean",
                "LogOutcome",
            ],
        );
        assert_reported(
            &errs,
            &["$[0].client.geographicalContext.geolocation.lat: expected number, got string"],
        );
    }

    #[test]
    fn error_bodies() {
        let s = spec();
        let body = json!({
            "errorCode": "E0000007",
            "errorSummary": "Not found: Resource not found: 00u1 (User)",
            "errorLink": "E0000007",
            "errorId": "oaeW8MGqn8VQHOmpGXBpIkBIA",
            "errorCauses": []
        });
        assert_eq!(
            s.validate_response("GET", "/api/v1/users/00u1", 404, &body),
            Ok(())
        );
        // 429 is a components/responses $ref on every operation.
        assert_eq!(
            s.validate_response("GET", "/api/v1/users", 429, &body),
            Ok(())
        );
        let bad = json!({"errorCode": 7, "errorCauses": [{"errorSummary": 1}]});
        let errs = errors(s.validate_response("GET", "/api/v1/users/00u1", 404, &bad));
        assert_reported(
            &errs,
            &["$.errorCode: expected string, got integer (in Error)"],
        );
        assert_reported(
            &errs,
            &["$.errorCauses[0].errorSummary: expected string, got integer (in ErrorCause)"],
        );
    }

    #[test]
    fn activation_token_bodies() {
        let s = spec();
        let path = "/api/v1/users/00u1/lifecycle/activate";
        let good = json!({"activationUrl": "https://test.okta.com/welcome/XE6wE17zmphl3KqAPFxO", "activationToken": "XE6wE17zmphl3KqAPFxO"});
        assert_eq!(s.validate_response("POST", path, 200, &good), Ok(()));
        let errs = errors(s.validate_response("POST", path, 200, &json!({"activationUrl": null})));
        assert_reported(
            &errs,
            &[
                "$.activationUrl: expected string, got null",
                "UserActivationToken",
            ],
        );
        // Deactivate declares `content: {}`: any body (real Okta sends `{}`) is accepted.
        assert_eq!(
            s.validate_response(
                "POST",
                "/api/v1/users/00u1/lifecycle/deactivate",
                200,
                &json!({})
            ),
            Ok(())
        );
    }

    #[test]
    fn unknown_status_or_operation() {
        let s = spec();
        assert!(s.has_response("GET", "/api/v1/users/00u1", 200));
        assert!(s.has_response("GET", "/api/v1/users/00u1", 429));
        assert!(!s.has_response("GET", "/api/v1/users/00u1", 418));
        assert!(!s.has_response("GET", "/api/v1/unknown", 200));
        let errs = errors(s.validate_response("GET", "/api/v1/users/00u1", 418, &json!({})));
        assert_eq!(
            errs,
            ["spec has no response for status 418 of GET /api/v1/users/{id}"]
        );
        let errs = errors(s.validate_response("GET", "/api/v1/unknown", 200, &json!({})));
        assert_eq!(errs.len(), 1);
        assert!(
            s.response_schema("GET", "/api/v1/users/00u1", 200)
                .is_some()
        );
        assert!(
            s.response_schema("DELETE", "/api/v1/users/00u1", 204)
                .is_none()
        );
    }

    #[test]
    fn date_time_shapes() {
        for ok in [
            "2020-08-27T18:19:47.000Z",
            "2020-08-27T18:19:47Z",
            "2020-08-27T18:19:47+05:30",
            "2020-08-27T18:19:47.1-0800",
            "2020-08-27T18:19:47",
        ] {
            assert!(looks_like_datetime(ok), "{ok}");
        }
        for bad in [
            "2020-08-27",
            "2020-08-27 18:19:47",
            "2020-08-27T18:19:47.Z",
            "27/08/2020T18:19:47",
            "2020-08-27T18:19:47+5",
            "",
        ] {
            assert!(!looks_like_datetime(bad), "{bad}");
        }
    }

    /// Keyword semantics on a tiny hand-written spec.
    fn mini() -> &'static Spec {
        static MINI: OnceLock<Spec> = OnceLock::new();
        MINI.get_or_init(|| {
            Spec::from_yaml(
                r##"
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /things/{id}:
    get:
      responses:
        '200':
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Base'}
        4XX:
          $ref: '#/components/responses/Err'
        default:
          content:
            application/xml:
              schema: {type: string}
  /nodes:
    get:
      responses:
        '200':
          content:
            application/scim+json:
              schema: {$ref: '#/components/schemas/Node'}
  /pets:
    get:
      responses:
        '200':
          content:
            application/json:
              schema:
                type: array
                items:
                  oneOf:
                    - $ref: '#/components/schemas/Cat'
                    - $ref: '#/components/schemas/Dog'
                  discriminator:
                    propertyName: kind
                    mapping: {cat: '#/components/schemas/Cat', dog: '#/components/schemas/Dog'}
  /shapes:
    get:
      responses:
        '200':
          content:
            application/json:
              schema:
                anyOf:
                  - {type: object, required: [radius], properties: {radius: {type: number}}}
                  - {type: object, required: [side], properties: {side: {type: integer}}}
components:
  examples:
    Big: {value: {a: 1}}
  responses:
    Err:
      content:
        application/json:
          schema: {type: object, required: [code], properties: {code: {type: string}}}
  schemas:
    Base:
      type: object
      required: [kind]
      properties:
        kind: {type: string}
        secret: {type: string, writeOnly: true}
        tags:
          type: object
          additionalProperties: {type: integer}
      discriminator:
        propertyName: kind
        mapping: {special: '#/components/schemas/Special', base: '#/components/schemas/Base'}
    Special:
      allOf:
        - $ref: '#/components/schemas/Base'
        - type: object
          required: [power, secret]
          additionalProperties: false
          properties:
            power: {type: integer, nullable: true}
            kind: {type: string}
            secret: {type: string}
    Node:
      type: object
      properties:
        name: {type: string}
        children: {type: array, items: {$ref: '#/components/schemas/Node'}}
    Loop:
      allOf: [{$ref: '#/components/schemas/Loop'}]
    Cat: {type: object, required: [meow], properties: {kind: {type: string}, meow: {type: boolean}}}
    Dog: {type: object, required: [bark], properties: {kind: {type: string}, bark: {type: boolean}}}
"##,
            )
            .unwrap()
        })
    }

    #[test]
    fn discriminator_on_a_base_schema_checks_the_subtype() {
        let s = mini();
        assert_eq!(
            s.validate_response(
                "GET",
                "/things/1",
                200,
                &json!({"kind": "base", "tags": {"a": 1}})
            ),
            Ok(())
        );
        assert_eq!(
            s.validate_response("GET", "/things/1", 200, &json!({"kind": "other"})),
            Ok(())
        );
        assert_eq!(
            s.validate_response(
                "GET",
                "/things/1",
                200,
                &json!({"kind": "special", "power": null, "secret": "s"})
            ),
            Ok(())
        );
        let mut errs = errors(s.validate_response(
            "GET",
            "/things/1",
            200,
            &json!({"kind": "special", "power": 1.5, "tags": {"a": "x"}}),
        ));
        errs.sort();
        assert_eq!(
            errs,
            [
                "$.power: expected integer, got number (in Special)",
                "$.tags.a: expected integer, got string (in Base)",
                "$.tags: unexpected property (additionalProperties: false) (in Special)",
                "$: missing required property `secret` (in Special)",
            ]
        );
        // Base's own required check still applies; writeOnly `secret` is not required there.
        let errs = errors(s.validate_response("GET", "/things/1", 200, &json!({})));
        assert_eq!(errs, ["$: missing required property `kind` (in Base)"]);
    }

    #[test]
    fn ranges_refs_and_media_types() {
        let s = mini();
        assert!(s.has_response("GET", "/things/x", 404));
        let errs = errors(s.validate_response("GET", "/things/x", 404, &json!({})));
        assert_eq!(
            errs,
            ["$: missing required property `code` (in GET /things/{id} 4XX)"]
        );
        let errs = errors(s.validate_response("GET", "/things/x", 500, &json!({})));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("non-JSON content"), "{errs:?}");
        assert_eq!(
            s.validate_response("GET", "/nodes", 200, &json!({"name": "a", "children": []})),
            Ok(())
        );
    }

    #[test]
    fn recursive_schemas_terminate() {
        let s = mini();
        // Data-driven recursion is fine at any realistic depth.
        let mut node = json!({"name": "leaf"});
        for i in 0..20 {
            node = json!({"name": format!("n{i}"), "children": [node]});
        }
        assert_eq!(s.validate_response("GET", "/nodes", 200, &node), Ok(()));
        node["children"][0]["children"][0]["name"] = json!(1);
        let errs = errors(s.validate_response("GET", "/nodes", 200, &node));
        assert_eq!(
            errs,
            ["$.children[0].children[0].name: expected string, got integer (in Node)"]
        );
        // A schema that refers to itself at the same place does not loop.
        let looped = s.validate_schema(
            &json!({"$ref": "#/components/schemas/Loop"}),
            &json!({}),
            "Loop",
            Options::STRICT,
        );
        assert_eq!(looped, Ok(()));
    }

    #[test]
    fn one_of_and_any_of() {
        let s = mini();
        let pets = json!([{"kind": "cat", "meow": true}, {"kind": "dog", "bark": false}]);
        assert_eq!(s.validate_response("GET", "/pets", 200, &pets), Ok(()));
        // The discriminator picks Dog, so Dog's error is reported directly.
        let errs = errors(s.validate_response(
            "GET",
            "/pets",
            200,
            &json!([{"kind": "dog", "meow": true}]),
        ));
        assert_eq!(errs, ["$[0]: missing required property `bark` (in Dog)"]);
        // No usable discriminator value: at least one branch must match.
        assert_eq!(
            s.validate_response("GET", "/pets", 200, &json!([{"meow": true}])),
            Ok(())
        );
        let errs = errors(s.validate_response("GET", "/pets", 200, &json!([{"kind": "cow"}])));
        assert!(
            errs[0].starts_with("$[0]: matches no oneOf branch [Cat, Dog]"),
            "{errs:?}"
        );
        assert_eq!(
            s.validate_response("GET", "/shapes", 200, &json!({"side": 2})),
            Ok(())
        );
        let errs = errors(s.validate_response("GET", "/shapes", 200, &json!({"side": 2.5})));
        assert!(errs[0].contains("matches no anyOf branch"), "{errs:?}");
        assert_reported(&errs, &["$.side: expected integer, got number"]);
    }

    #[test]
    fn lenient_options() {
        let s = spec();
        let mut body = group();
        body["profile"]["description"] = Value::Null; // real Okta does this
        body["type"] = json!("NEW_KIND");
        let path = "/api/v1/groups/00g1";
        let strict = errors(s.validate_response("GET", path, 200, &body));
        assert_reported(
            &strict,
            &["$.profile.description: expected string, got null"],
        );
        assert_reported(&strict, &["$.type: value \"NEW_KIND\" not in enum"]);
        assert_eq!(
            s.validate_response_with("GET", path, 200, &body, Options::LENIENT),
            Ok(())
        );
        // Lenient still checks types of non-null values.
        body["profile"]["name"] = json!(5);
        let errs = errors(s.validate_response_with("GET", path, 200, &body, Options::LENIENT));
        assert_reported(&errs, &["$.profile.name: expected string, got integer"]);
    }

    /// Tally of validating many bodies.
    #[derive(Default)]
    struct Tally {
        ok: usize,
        failed: usize,
        /// User / Group endpoints: (ok, total).
        users: (usize, usize),
        groups: (usize, usize),
        /// Distinct message (array indices erased) -> number of bodies it occurred in.
        messages: BTreeMap<String, usize>,
        /// "METHOD template" -> (ok, failed).
        per_operation: BTreeMap<String, (usize, usize)>,
    }

    /// Every recorded 2xx JSON body whose operation the specs know, validated strictly and
    /// leniently. Prints a summary; real Okta data does not always match the spec, so only
    /// floors are asserted.
    #[test]
    fn recorded_bodies_against_the_spec() {
        use super::super::cassettes;
        // Endpoints whose bodies are Users or Groups (or lists of them).
        let user_ops = [
            "/api/v1/users",
            "/api/v1/users/{id}",
            "/api/v1/groups/{groupId}/users",
        ];
        let group_ops = [
            "/api/v1/groups",
            "/api/v1/groups/{groupId}",
            "/api/v1/users/{id}/groups",
        ];
        let mut bodies = 0;
        let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
        let mut no_response: BTreeMap<String, usize> = BTreeMap::new();
        let mut strict = Tally::default();
        let mut lenient = Tally::default();
        for i in cassettes::cached().iter().flat_map(|c| &c.interactions) {
            let Some(body) = &i.response_body else {
                continue;
            };
            if !(200..300).contains(&i.status) {
                continue;
            }
            bodies += 1;
            let Some((s, op)) = [spec(), oauth()]
                .into_iter()
                .find_map(|s| s.operation_for(&i.method, &i.path).map(|op| (s, op)))
            else {
                *unknown
                    .entry(format!("{} {}", i.method, cassettes::template_of(&i.path)))
                    .or_default() += 1;
                continue;
            };
            let key = format!("{} {}", i.method, op.path_template);
            if s.response_for(op, i.status).is_none() {
                *no_response
                    .entry(format!("{key} -> {}", i.status))
                    .or_default() += 1;
                continue;
            }

            for (tally, options) in [
                (&mut strict, Options::STRICT),
                (&mut lenient, Options::LENIENT),
            ] {
                let result = s.validate_response_with(&i.method, &i.path, i.status, body, options);
                let entry = tally.per_operation.entry(key.clone()).or_default();
                match &result {
                    Ok(()) => {
                        tally.ok += 1;
                        entry.0 += 1;
                    }
                    Err(errs) => {
                        tally.failed += 1;
                        entry.1 += 1;
                        let distinct: std::collections::BTreeSet<String> =
                            errs.iter().map(|e| erase_indices(e.trim_start())).collect();
                        for e in distinct {
                            *tally.messages.entry(e).or_default() += 1;
                        }
                    }
                }
                let family = if user_ops.contains(&op.path_template) {
                    Some(&mut tally.users)
                } else if group_ops.contains(&op.path_template) {
                    Some(&mut tally.groups)
                } else {
                    None
                };
                if let Some((ok, total)) = family {
                    *total += 1;
                    *ok += usize::from(result.is_ok());
                }
            }
        }

        println!("recorded 2xx JSON bodies: {bodies}");
        println!(
            "  operation in neither spec: {} {unknown:?}",
            unknown.values().sum::<usize>()
        );
        println!(
            "  spec lists no response for the status: {} {no_response:?}",
            no_response.values().sum::<usize>()
        );
        for (name, t) in [("STRICT", &strict), ("LENIENT", &lenient)] {
            println!(
                "{name}: validated {} -> ok {}, failed {}; User bodies {}/{} ok, Group bodies {}/{} ok",
                t.ok + t.failed,
                t.ok,
                t.failed,
                t.users.0,
                t.users.1,
                t.groups.0,
                t.groups.1,
            );
            let mut top: Vec<(&String, &usize)> = t.messages.iter().collect();
            top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            println!("  most common errors (bodies affected):");
            for (msg, n) in top.iter().take(20) {
                println!("    {n:4}  {msg}");
            }
            println!("  operations with failures (ok/failed):");
            for (op, (good, bad)) in t.per_operation.iter().filter(|(_, (_, bad))| *bad > 0) {
                println!("    {good:3}/{bad:<3} {op}");
            }
        }

        let validated = strict.ok + strict.failed;
        assert!(
            validated > 1000,
            "most recorded bodies should be validated, got {validated}"
        );
        assert!(
            strict.ok * 10 >= validated * 6,
            "strict: only {}/{validated} ok",
            strict.ok
        );
        assert!(
            lenient.ok * 10 >= validated * 9,
            "lenient: only {}/{validated} ok",
            lenient.ok
        );
        // Proof that the validator accepts real data: at least 80% of the recorded User and
        // Group bodies pass strictly. Groups alone mostly fail strictly, all on Okta sending
        // `"description": null` where the spec says string, so they get a lenient floor.
        let (core_ok, core_total) = (
            strict.users.0 + strict.groups.0,
            strict.users.1 + strict.groups.1,
        );
        assert!(core_total >= 100, "{core_total}");
        assert!(
            core_ok * 10 >= core_total * 8,
            "only {core_ok}/{core_total} User/Group bodies validate"
        );
        assert!(
            strict.users.0 * 10 >= strict.users.1 * 8,
            "User bodies: {:?}",
            strict.users
        );
        assert!(
            lenient.groups.0 * 10 >= lenient.groups.1 * 8,
            "Group bodies: {:?}",
            lenient.groups
        );
    }

    fn erase_indices(msg: &str) -> String {
        let mut out = String::with_capacity(msg.len());
        let mut chars = msg.chars().peekable();
        while let Some(c) = chars.next() {
            out.push(c);
            if c == '[' && chars.peek().is_some_and(char::is_ascii_digit) {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
            }
        }
        out
    }
}
