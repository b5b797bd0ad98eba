//! `LogEvent` (`/api/v1/logs`): one System Log event. Okta adds fields over time and many
//! sub-objects are `null`, so every struct keeps a catch-all and every field is [`Nullable`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::common::{Nullable, Timestamp, catch_all, string_enum};

/// One System Log event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEvent {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub uuid: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub published: Nullable<Timestamp>,
    pub event_type: String,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub legacy_event_type: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub version: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub severity: Nullable<Severity>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub display_message: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub actor: Nullable<LogActor>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub client: Nullable<LogClient>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub outcome: Nullable<LogOutcome>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub target: Nullable<Vec<LogActor>>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub transaction: Nullable<LogTransaction>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub debug_context: Nullable<DebugContext>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub authentication_context: Nullable<AuthenticationContext>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub security_context: Nullable<SecurityContext>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub request: Nullable<LogRequest>,
    /// Every field not typed above, kept so a round trip loses nothing.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl LogEvent {
    /// The event's unique id (the API always sends one).
    pub fn uuid(&self) -> Option<&str> {
        self.uuid.as_deref()
    }
    /// When the event happened, as Okta wrote it.
    pub fn published(&self) -> Option<&str> {
        self.published.get().map(Timestamp::as_str)
    }
    /// The targets (empty when there are none).
    pub fn targets(&self) -> &[LogActor] {
        self.target.get().map(Vec::as_slice).unwrap_or_default()
    }
    /// `outcome.result` (`SUCCESS`, `FAILURE`, ...).
    pub fn result(&self) -> Option<&OutcomeResult> {
        self.outcome.get()?.result.get()
    }
}

string_enum! {
    /// An event's severity.
    pub enum Severity {
        Debug = "DEBUG",
        Info = "INFO",
        Warn = "WARN",
        Error = "ERROR",
    }
}

/// The actor of an event, or one of its targets.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogActor {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub id: Nullable<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Nullable::is_absent")]
    pub actor_type: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub alternate_id: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub display_name: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub detail_entry: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The client that caused the event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogClient {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub id: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub user_agent: Nullable<UserAgent>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub zone: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub device: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub ip_address: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub geographical_context: Nullable<GeographicalContext>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The client's user agent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAgent {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub raw_user_agent: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub os: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub browser: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Where an IP address is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeographicalContext {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub city: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub state: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub country: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub postal_code: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub geolocation: Nullable<Geolocation>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Latitude and longitude. `Number`, not `f64`, so an integral `40` round-trips as `40`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Geolocation {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub lat: Nullable<Number>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub lon: Nullable<Number>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How the event ended.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogOutcome {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub result: Nullable<OutcomeResult>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub reason: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

string_enum! {
    /// `outcome.result`.
    pub enum OutcomeResult {
        Success = "SUCCESS",
        Failure = "FAILURE",
        Skipped = "SKIPPED",
        Allow = "ALLOW",
        Deny = "DENY",
        Challenge = "CHALLENGE",
        Unknown = "UNKNOWN",
    }
}

/// The transaction (web request or job) the event belongs to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogTransaction {
    #[serde(rename = "type", default, skip_serializing_if = "Nullable::is_absent")]
    pub transaction_type: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub id: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub detail: Nullable<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Free-form diagnostic data.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DebugContext {
    /// A string map from the API; kept as any JSON because edited exports carry other shapes
    /// (`""`), and one odd event should not fail a whole page.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub debug_data: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DebugContext {
    /// One `debugData` entry as text (`requestUri`, `threatSuspected`, `behaviors`, ...).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.debug_data.get()?.get(key)?.as_str()
    }
}

/// How the actor authenticated.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationContext {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub authentication_provider: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub credential_provider: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub credential_type: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub external_session_id: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub interface: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub authentication_step: Nullable<i64>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub issuer: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What Okta knows about the source network.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContext {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub as_number: Nullable<i64>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub as_org: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub isp: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub domain: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub is_proxy: Nullable<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The request behind the event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogRequest {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub ip_chain: Nullable<Vec<IpAddress>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One hop of `request.ipChain`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpAddress {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub ip: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub version: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub source: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub geographical_context: Nullable<GeographicalContext>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

catch_all!(
    LogEvent,
    actor = "actor",
    client = "client",
    outcome = "outcome",
    target = "target",
    transaction = "transaction",
    debug_context = "debugContext",
    authentication_context = "authenticationContext",
    security_context = "securityContext",
    request = "request",
);
catch_all!(LogActor);
catch_all!(
    LogClient,
    user_agent = "userAgent",
    geographical_context = "geographicalContext"
);
catch_all!(UserAgent);
catch_all!(GeographicalContext, geolocation = "geolocation");
catch_all!(Geolocation);
catch_all!(LogOutcome);
catch_all!(LogTransaction);
catch_all!(DebugContext);
catch_all!(AuthenticationContext);
catch_all!(SecurityContext);
catch_all!(LogRequest, ip_chain = "ipChain");
catch_all!(IpAddress, geographical_context = "geographicalContext");
