//! An event hook as registered (FACTS.md §6, spec `EventHook`), the request body parsed and
//! validated, and the hook rendered in Okta's JSON.
//!
//! Shapes follow the recorded traffic (okta-sdk-python `test_event_hooks_it`, 2020) where it exists:
//! an ACTIVE hook links `self`, `verify`, `deactivate`; an INACTIVE one `activate`, `self`, `delete`;
//! `authScheme.key` comes back as sent; `description` is absent when unset (no recording shows the
//! key, which the spec added later). `events.filter: null` and `headers: []` follow the spec's
//! examples.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::clock::iso_ms;
use crate::http::{ApiError, ApiResult};
use crate::syslog::Entity;

/// The event types Okta lets a hook subscribe to: the 314 tagged `event-hook-eligible` in Okta's
/// event-type catalogue (`okta/data/okta-event-hook-eligible-event-types.txt`, derived from
/// okta-developer-docs `data/event-types.json` release 2026.08.1, Apache-2.0; copied unchanged).
const ELIGIBLE: &str = include_str!("eligible-event-types.txt");

/// Okta's limits (FACTS.md §6).
pub const MAX_EVENT_TYPES: usize = 300;
pub const MAX_ACTIVE_VERIFIED: usize = 25;
const MAX_NAME: usize = 255;

/// Whether `event_type` may be subscribed to (and so ever delivered).
pub fn eligible(event_type: &str) -> bool {
    ELIGIBLE.lines().any(|t| t == event_type)
}

/// The number of eligible event types (for tests and documentation).
pub fn eligible_count() -> usize {
    ELIGIBLE.lines().filter(|l| !l.is_empty()).count()
}

/// `authScheme`: the header Okta adds to every call. The value is the secret: never rendered, and
/// its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthScheme {
    pub key: String,
    /// `None` when the request left it out (then no such header is sent).
    pub value: Option<String>,
}

impl std::fmt::Debug for AuthScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthScheme")
            .field("key", &self.key)
            .field("value", &self.value.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// `channel`: where and how Okta calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub uri: String,
    pub version: String,
    /// Custom headers, in the order given.
    pub headers: Vec<(String, String)>,
    pub auth: Option<AuthScheme>,
}

#[derive(Debug, Clone)]
pub struct EventHook {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
    pub verified: bool,
    pub created: i64,
    pub created_by: String,
    pub last_updated: i64,
    /// Subscribed event types, each eligible, without repeats, in the order given.
    pub events: Vec<String>,
    pub target: Target,
}

/// What a POST or PUT body asks for.
#[derive(Debug, Clone)]
pub struct Draft {
    pub name: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub target: Target,
}

impl EventHook {
    /// Whether Okta delivers to it: "Only ACTIVE and VERIFIED event hooks can receive events".
    pub fn deliverable(&self) -> bool {
        self.active && self.verified
    }

    /// The hook as a System Log target.
    pub fn entity(&self) -> Arc<Entity> {
        Arc::new(Entity {
            id: self.id.clone(),
            kind: "EventHook",
            alternate_id: "unknown".into(),
            display_name: self.name.clone(),
        })
    }

    /// Replaces what a PUT may change. A changed channel (uri, headers, auth header name or
    /// secret) needs verifying again (spec, `replaceEventHook`); a secret left out of the body
    /// keeps the stored one, since clients echo back a fetched hook, which never carries it.
    pub fn replace(&mut self, mut draft: Draft, now: i64) {
        if let (Some(new), Some(old)) = (draft.target.auth.as_mut(), self.target.auth.as_ref())
            && new.value.is_none()
            && new.key.eq_ignore_ascii_case(&old.key)
        {
            new.value = old.value.clone();
        }
        if draft.target != self.target {
            self.verified = false;
        }
        self.name = draft.name;
        self.description = draft.description;
        self.events = draft.events;
        self.target = draft.target;
        self.last_updated = now;
    }
}

fn invalid(field: &str, cause: impl Into<String>) -> ApiError {
    ApiError::validation(field, cause)
}

fn string_at<'a>(v: &'a Value, field: &str, path: &str) -> ApiResult<Option<&'a str>> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(field, format!("{path}: must be a string"))),
    }
}

fn header_name_ok(name: &str) -> bool {
    !name.is_empty() && axum::http::HeaderName::from_bytes(name.as_bytes()).is_ok()
}

fn header_value_ok(value: &str) -> bool {
    axum::http::HeaderValue::from_str(value).is_ok()
}

/// Parses and validates a POST/PUT body. Okta refuses with 400 E0000001 "Api validation failed:
/// {field}" and one cause; the cause texts are the simulator's (no recording shows Okta's).
pub fn parse(body: &Value) -> ApiResult<Draft> {
    if !body.is_object() {
        return Err(ApiError::malformed_body());
    }
    let name = string_at(body, "name", "name")?.unwrap_or("").trim();
    if name.is_empty() {
        return Err(invalid("name", "name: The field cannot be left blank"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(invalid(
            "name",
            format!("name: The field cannot exceed {MAX_NAME} characters"),
        ));
    }
    let description = string_at(body, "description", "description")?.map(str::to_string);
    let events = parse_events(body.get("events").unwrap_or(&Value::Null))?;
    let target = parse_channel(body.get("channel").unwrap_or(&Value::Null))?;
    Ok(Draft {
        name: name.to_string(),
        description,
        events,
        target,
    })
}

fn parse_events(events: &Value) -> ApiResult<Vec<String>> {
    if !events.is_object() {
        return Err(invalid("events", "events: The field cannot be left blank"));
    }
    if string_at(events, "type", "events.type")? != Some("EVENT_TYPE") {
        return Err(invalid("events", "events.type: must be EVENT_TYPE"));
    }
    // Filters are a self-service Early Access feature an org must enable; the simulated org has
    // not, so a filter is refused rather than silently ignored (every event would be delivered).
    if events.get("filter").is_some_and(|f| !f.is_null()) {
        return Err(invalid(
            "events",
            "events.filter: Event hook filters are not enabled for this org",
        ));
    }
    let Some(items) = events.get("items").and_then(Value::as_array) else {
        return Err(invalid(
            "events",
            "events.items: The field cannot be left blank",
        ));
    };
    if items.is_empty() {
        return Err(invalid(
            "events",
            "events.items: At least one event type is required",
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let Some(t) = item.as_str() else {
            return Err(invalid("events", "events.items: must be strings"));
        };
        if !eligible(t) {
            return Err(invalid(
                "events",
                format!("events.items: {t} is not an event type eligible for event hooks"),
            ));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    if out.len() > MAX_EVENT_TYPES {
        return Err(invalid(
            "events",
            format!(
                "events.items: An event hook can subscribe to at most {MAX_EVENT_TYPES} event types, got {}",
                out.len()
            ),
        ));
    }
    Ok(out)
}

fn parse_channel(channel: &Value) -> ApiResult<Target> {
    if !channel.is_object() {
        return Err(invalid(
            "channel",
            "channel: The field cannot be left blank",
        ));
    }
    if string_at(channel, "type", "channel.type")? != Some("HTTP") {
        return Err(invalid("channel", "channel.type: must be HTTP"));
    }
    let version = string_at(channel, "version", "channel.version")?;
    if version != Some("1.0.0") {
        return Err(invalid(
            "channel",
            "channel.version: The only supported version is 1.0.0",
        ));
    }
    let config = channel.get("config").unwrap_or(&Value::Null);
    if !config.is_object() {
        return Err(invalid(
            "channel",
            "channel.config: The field cannot be left blank",
        ));
    }
    let uri = string_at(config, "uri", "channel.config.uri")?.unwrap_or("");
    check_uri(uri)?;
    let mut headers = Vec::new();
    match config.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for h in list.iter().filter(|h| !h.is_null()) {
                let key = string_at(h, "key", "channel.config.headers.key")?.unwrap_or("");
                let value = string_at(h, "value", "channel.config.headers.value")?.unwrap_or("");
                if !header_name_ok(key) || !header_value_ok(value) {
                    return Err(invalid(
                        "channel",
                        format!("channel.config.headers: '{key}' is not a valid HTTP header"),
                    ));
                }
                headers.push((key.to_string(), value.to_string()));
            }
        }
        Some(_) => {
            return Err(invalid(
                "channel",
                "channel.config.headers: must be a list of key/value pairs",
            ));
        }
    }
    let auth = match config.get("authScheme") {
        None | Some(Value::Null) => None,
        Some(a) if a.is_object() => Some(parse_auth(a)?),
        Some(_) => {
            return Err(invalid(
                "channel",
                "channel.config.authScheme: must be an object",
            ));
        }
    };
    Ok(Target {
        uri: uri.to_string(),
        version: "1.0.0".into(),
        headers,
        auth,
    })
}

fn parse_auth(a: &Value) -> ApiResult<AuthScheme> {
    // "Currently only supports HEADER" (spec `EventHookChannelConfigAuthSchemeType`).
    if string_at(a, "type", "channel.config.authScheme.type")? != Some("HEADER") {
        return Err(invalid(
            "channel",
            "channel.config.authScheme.type: The only supported type is HEADER",
        ));
    }
    let key = string_at(a, "key", "channel.config.authScheme.key")?.unwrap_or("");
    if !header_name_ok(key) {
        return Err(invalid(
            "channel",
            "channel.config.authScheme.key: must be an HTTP header name",
        ));
    }
    let value = string_at(a, "value", "channel.config.authScheme.value")?;
    if value.is_some_and(|v| !header_value_ok(v)) {
        // The value is a secret: the cause does not repeat it.
        return Err(invalid(
            "channel",
            "channel.config.authScheme.value: must be a valid HTTP header value",
        ));
    }
    Ok(AuthScheme {
        key: key.to_string(),
        value: value.map(str::to_string),
    })
}

/// Okta requires HTTPS ("Your external service must use a valid HTTPS endpoint"). The simulator
/// also accepts plain HTTP to a loopback host, since it serves tests and local daemons there.
fn check_uri(uri: &str) -> ApiResult<()> {
    let bad = || {
        invalid(
            "channel",
            "channel.config.uri: must be a valid HTTPS URL (or http:// to a loopback address in the simulator)",
        )
    };
    let url = reqwest::Url::parse(uri).map_err(|_| bad())?;
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(bad)?;
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(bad()),
    }
}

/// Okta's EventHook JSON (key order as recorded).
pub fn render(base: &str, h: &EventHook) -> Value {
    let href = format!("{base}/api/v1/eventHooks/{}", h.id);
    let post = json!({"allow": ["POST"]});
    let links = if h.active {
        json!({
            "self": {"href": href},
            "verify": {"href": format!("{href}/lifecycle/verify"), "hints": post},
            "deactivate": {"href": format!("{href}/lifecycle/deactivate"), "hints": post},
        })
    } else {
        json!({
            "activate": {"href": format!("{href}/lifecycle/activate"), "hints": post},
            "self": {"href": href},
            "delete": {"href": href, "hints": {"allow": ["DELETE"]}},
        })
    };
    let headers: Vec<Value> = h
        .target
        .headers
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    let mut config = json!({"uri": h.target.uri, "headers": headers, "method": "POST"});
    if let Some(a) = &h.target.auth {
        // `value` is write-only: never returned.
        config["authScheme"] = json!({"type": "HEADER", "key": a.key});
    }
    let mut out = json!({
        "id": h.id,
        "status": if h.active { "ACTIVE" } else { "INACTIVE" },
        "verificationStatus": if h.verified { "VERIFIED" } else { "UNVERIFIED" },
        "name": h.name,
    });
    if let Some(d) = &h.description {
        out["description"] = json!(d);
    }
    let rest = json!({
        "created": iso_ms(h.created),
        "createdBy": h.created_by,
        "lastUpdated": iso_ms(h.last_updated),
        "events": {"type": "EVENT_TYPE", "items": h.events, "filter": null},
        "channel": {"type": "HTTP", "version": h.target.version, "config": config},
        "_links": links,
    });
    if let (Some(o), Value::Object(r)) = (out.as_object_mut(), rest) {
        o.extend(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_list_is_okta_s_314_eligible_types() {
        assert_eq!(eligible_count(), 314);
        assert!(eligible("user.lifecycle.create"));
        assert!(eligible("group.user_membership.add"));
        assert!(!eligible("event_hook.created"));
        assert!(!eligible("user.lifecycle"));
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let a = AuthScheme {
            key: "Authorization".into(),
            value: Some("s3cret".into()),
        };
        assert!(!format!("{a:?}").contains("s3cret"));
    }

    #[test]
    fn uris_must_be_https_or_loopback_http() {
        assert!(check_uri("https://example.com/hook").is_ok());
        assert!(check_uri("http://127.0.0.1:8080/hook").is_ok());
        assert!(check_uri("http://localhost/hook").is_ok());
        assert!(check_uri("http://[::1]:9/hook").is_ok());
        assert!(check_uri("http://example.com/hook").is_err());
        assert!(check_uri("ftp://127.0.0.1/").is_err());
        assert!(check_uri("not a url").is_err());
    }
}
