//! How a stored event looks as Okta's LogEvent JSON (spec `components.schemas.LogEvent`, the spec's
//! `ListLogs` example, and real events in the recorded Panther fixtures).
//!
//! [`EventJson`] serializes straight to bytes: no `serde_json::Value` per event, ids and timestamps
//! formatted on the stack. [`fast_field`] answers filter paths from the compact event and
//! [`any_text`] feeds `q` keyword matching, both without rendering.

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct, Serializer};
use serde_json::Value;

use super::{ClientInfo, Entity, LogEvent, RequestId, StoreMeta};

/// `authenticationContext` variants (index = [`super::AuthProfile`]).
pub struct AuthInfo {
    pub provider: Option<&'static str>,
    pub credential_provider: Option<&'static str>,
    pub credential_type: Option<&'static str>,
    pub issuer_type: Option<&'static str>,
    /// Prefix of `externalSessionId`: `trs` (API and server-side), `idx` (Identity Engine), `102` (Classic).
    pub session_prefix: &'static str,
    /// Whether `rootSessionId` is sent (Identity Engine sign-ins).
    pub root_session: bool,
}

const fn auth(
    provider: Option<&'static str>,
    credential_provider: Option<&'static str>,
    credential_type: Option<&'static str>,
    issuer_type: Option<&'static str>,
    session_prefix: &'static str,
    root_session: bool,
) -> AuthInfo {
    AuthInfo {
        provider,
        credential_provider,
        credential_type,
        issuer_type,
        session_prefix,
        root_session,
    }
}

pub const AUTH_PROFILES: &[AuthInfo] = &[
    // 0: an API token call: every field null, a per-request `trs…` session.
    auth(None, None, None, None, "trs", false),
    // 1: password sign-in.
    auth(
        Some("OKTA_AUTHENTICATION_PROVIDER"),
        Some("OKTA_CREDENTIAL_PROVIDER"),
        Some("PASSWORD"),
        None,
        "idx",
        true,
    ),
    // 2: Okta Verify (push or code).
    auth(
        Some("FACTOR_PROVIDER"),
        Some("OKTA_CREDENTIAL_PROVIDER"),
        Some("OTP"),
        None,
        "idx",
        true,
    ),
    // 3: SAML identity provider.
    auth(
        Some("FEDERATION"),
        None,
        Some("ASSERTION"),
        Some("SAML2"),
        "102",
        false,
    ),
    // 4: Active Directory desktop SSO.
    auth(
        Some("ACTIVE_DIRECTORY"),
        None,
        Some("IWA"),
        None,
        "102",
        false,
    ),
    // 5: inside an existing session (SSO, logout, admin console): no credential, a session id.
    auth(None, None, None, None, "idx", true),
];

/// `securityContext` variants (index = [`super::NetworkProfile`]): `(asNumber, asOrg, isp, domain, isProxy)`.
pub type Network = (u32, &'static str, &'static str, &'static str, bool);
pub const NETWORKS: &[Option<Network>] = &[
    None,
    Some((
        7018,
        "at&t corp.",
        "att services inc",
        "sbcglobal.net",
        false,
    )),
    Some((
        7922,
        "comcast cable communications llc",
        "comcast cable communications llc",
        "comcast.net",
        false,
    )),
    Some((
        16509,
        "amazon.com inc.",
        "amazon.com inc.",
        "amazonaws.com",
        false,
    )),
    Some((
        3320,
        "deutsche telekom ag",
        "deutsche telekom ag",
        "t-ipconnect.de",
        false,
    )),
    Some((
        2516,
        "kddi corporation",
        "kddi corporation",
        "dion.ne.jp",
        false,
    )),
    Some((
        1221,
        "telstra limited",
        "telstra internet",
        "bigpond.net.au",
        false,
    )),
    Some((
        2856,
        "british telecommunications plc",
        "bt public internet service",
        "btcentralplus.com",
        false,
    )),
    Some((9009, "m247 europe srl", "m247 ltd", "m247.com", true)),
    Some((21928, "t-mobile usa inc.", "t-mobile usa inc.", ".", false)),
];

/// Okta's `legacyEventType` for the event types the simulator writes (null for the others).
pub fn legacy_event_type(event_type: &str, result: &str) -> Option<&'static str> {
    Some(match event_type {
        "user.session.start" if result == "SUCCESS" => "core.user_auth.login_success",
        "user.session.start" => "core.user_auth.login_failed",
        "user.session.end" => "core.user_auth.logout_success",
        "user.authentication.sso" => "app.auth.sso",
        "user.authentication.auth_via_mfa" => "core.user.factor.attempt_success",
        "user.lifecycle.create" => "core.user.config.user_creation.success",
        "user.lifecycle.activate" => "core.user.config.user_activated",
        "user.lifecycle.deactivate" => "core.user.config.user_deactivated",
        "user.lifecycle.suspend" => "core.user.config.user_status.suspended",
        "user.lifecycle.unsuspend" => "core.user.config.user_status.unsuspended",
        "user.account.lock" => "core.user_auth.account_locked",
        "user.account.reset_password" => "core.user.config.user_status.password_reset",
        "user.account.update_password" => "core.user.config.password_update.success",
        "user.account.privilege.grant" => "core.user.admin_privilege.granted",
        "user.account.privilege.revoke" => "core.user.admin_privilege.revoked",
        "user.session.impersonation.grant" => "core.user.impersonation.grant.enabled",
        "group.user_membership.add" => "core.user_group_member.user_add",
        "group.user_membership.remove" => "core.user_group_member.user_remove",
        "application.user_membership.add" => "app.generic.provision.assign_user_to_app",
        "application.user_membership.remove" => "app.generic.unprovision.user_removed_from_app",
        "application.user_membership.show_password" => "app.generic.show.password",
        "system.api_token.create" => "api.token.create",
        "system.api_token.revoke" => "api.token.revoke",
        "system.org.rate_limit.warning" => "core.framework.ratelimit.warning",
        "system.org.rate_limit.violation" => "core.framework.ratelimit.exceeded",
        _ => return None,
    })
}

/// A short ASCII text formatted on the stack.
pub struct StackText<const N: usize>([u8; N]);

impl<const N: usize> StackText<N> {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl<const N: usize> std::fmt::Display for StackText<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn uuid_text(b: &[u8; 16]) -> StackText<36> {
    let mut out = [b'-'; 36];
    let mut at = 0;
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        out[at] = HEX[(byte >> 4) as usize];
        out[at + 1] = HEX[(byte & 15) as usize];
        at += 2;
    }
    StackText(out)
}

pub fn hex32(b: &[u8; 16]) -> StackText<32> {
    let mut out = [0u8; 32];
    for (i, byte) in b.iter().enumerate() {
        out[2 * i] = HEX[(byte >> 4) as usize];
        out[2 * i + 1] = HEX[(byte & 15) as usize];
    }
    StackText(out)
}

/// Okta's timestamp form, `2024-05-02T18:46:21.121Z`.
pub fn iso_text(ms: i64) -> StackText<24> {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut v: i64| {
        for i in (0..width).rev() {
            out[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year.clamp(0, 9999));
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, in_day / 3_600_000);
    put(14, 2, in_day / 60_000 % 60);
    put(17, 2, in_day / 1000 % 60);
    put(20, 3, in_day % 1000);
    StackText(out)
}

/// A stable pseudo-random 64-bit value for `x` (splitmix64 finaliser).
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// `externalSessionId`: a prefix and 22 base62 characters derived from `seed`.
fn session_text(prefix: &str, seed: u64) -> StackText<25> {
    let mut out = [b'0'; 25];
    out[..3].copy_from_slice(&prefix.as_bytes()[..3]);
    let (mut a, mut b) = (mix(seed), mix(seed ^ 0x5E55_1011));
    for slot in out[3..].iter_mut() {
        *slot = BASE62[(a % 62) as usize];
        a /= 62;
        if a == 0 {
            a = b;
            b = mix(b);
        }
    }
    StackText(out)
}

fn request_seed(id: &RequestId) -> u64 {
    match id {
        RequestId::Hex(b) => u64::from_le_bytes(b[..8].try_into().unwrap_or_default()),
        RequestId::Text(t) => t.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, c| {
            (h ^ c as u64).wrapping_mul(0x100_0000_01b3)
        }),
    }
}

/// The request id (also `transaction.id`) as text.
pub enum RequestIdText<'a> {
    Hex(StackText<32>),
    Text(&'a str),
}

impl RequestIdText<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            RequestIdText::Hex(h) => h.as_str(),
            RequestIdText::Text(t) => t,
        }
    }
}

pub fn request_id_text(id: &RequestId) -> RequestIdText<'_> {
    match id {
        RequestId::Hex(b) => RequestIdText::Hex(hex32(b)),
        RequestId::Text(t) => RequestIdText::Text(t),
    }
}

/// `(os, browser, device)` as Okta derives them from the raw User-Agent.
pub fn user_agent_parts(ua: &str) -> (&'static str, &'static str, &'static str) {
    let os = if ua.contains("iPhone") || ua.contains("iPad") {
        "iOS"
    } else if ua.contains("Android") {
        "Android"
    } else if ua.contains("Mac OS X") {
        "Mac OS X"
    } else if ua.contains("Windows NT 10") {
        "Windows 10"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        "Unknown"
    };
    let browser = if ua.contains("Edg/") {
        "EDGE_CHROMIUM"
    } else if ua.contains("Firefox/") {
        "FIREFOX"
    } else if ua.contains("Chrome/") {
        "CHROME"
    } else if ua.contains("Safari/") {
        "SAFARI"
    } else {
        "UNKNOWN"
    };
    let device = if ua.contains("Mobile") || ua.contains("iPhone") {
        "Mobile"
    } else if matches!(os, "Mac OS X" | "Windows 10" | "Windows" | "Linux") {
        "Computer"
    } else {
        "Unknown"
    };
    (os, browser, device)
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// One event as Okta's LogEvent JSON. Keys in the order of the spec's `ListLogs` example.
pub struct EventJson<'a> {
    pub ev: &'a LogEvent,
    pub meta: &'a StoreMeta,
}

impl Serialize for EventJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ev = self.ev;
        let request_id = request_id_text(&ev.request_id);
        let mut m = s.serialize_struct("LogEvent", 16)?;
        m.serialize_field("actor", &EntityJson(&ev.actor))?;
        m.serialize_field("client", &ClientJson(&ev.client))?;
        m.serialize_field("authenticationContext", &AuthJson(ev))?;
        m.serialize_field("displayMessage", ev.display_message)?;
        m.serialize_field("eventType", ev.event_type)?;
        m.serialize_field("outcome", &OutcomeJson(ev))?;
        m.serialize_field("published", iso_text(ev.published_ms).as_str())?;
        m.serialize_field("securityContext", &SecurityJson(ev.network))?;
        m.serialize_field("severity", ev.severity.as_str())?;
        m.serialize_field(
            "debugContext",
            &DebugJson {
                ev,
                request_id: request_id.as_str(),
            },
        )?;
        m.serialize_field(
            "legacyEventType",
            &legacy_event_type(ev.event_type, ev.result),
        )?;
        m.serialize_field(
            "transaction",
            &TransactionJson {
                id: request_id.as_str(),
                token: self.api_token(),
            },
        )?;
        m.serialize_field("uuid", uuid_text(&ev.uuid).as_str())?;
        m.serialize_field("version", "0")?;
        m.serialize_field("request", &RequestJson(&ev.client))?;
        m.serialize_field("target", &TargetsJson(&ev.targets))?;
        m.end()
    }
}

impl EventJson<'_> {
    /// Calls made with an API token carry its id in `transaction.detail.requestApiTokenId`.
    fn api_token(&self) -> Option<&str> {
        if self.ev.auth == 0 && self.ev.request_uri.starts_with("/api/") {
            self.meta.api_token_id.get().map(String::as_str)
        } else {
            None
        }
    }
}

struct EntityJson<'a>(&'a Entity);

impl Serialize for EntityJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut m = s.serialize_struct("Entity", 5)?;
        m.serialize_field("id", &e.id)?;
        m.serialize_field("type", e.kind)?;
        m.serialize_field("alternateId", &e.alternate_id)?;
        m.serialize_field("displayName", &e.display_name)?;
        m.serialize_field("detailEntry", &None::<()>)?;
        m.end()
    }
}

struct TargetsJson<'a>(&'a [std::sync::Arc<Entity>]);

impl Serialize for TargetsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for t in self.0 {
            seq.serialize_element(&EntityJson(t))?;
        }
        seq.end()
    }
}

struct GeoJson<'a>(&'a ClientInfo);

impl Serialize for GeoJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut m = s.serialize_struct("Geo", 5)?;
        m.serialize_field("city", &non_empty(c.city))?;
        m.serialize_field("state", &non_empty(c.state))?;
        m.serialize_field("country", &non_empty(c.country))?;
        m.serialize_field("postalCode", &non_empty(c.postal_code))?;
        m.serialize_field("geolocation", &LatLon(c.lat, c.lon))?;
        m.end()
    }
}

struct LatLon(f64, f64);

impl Serialize for LatLon {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Geolocation", 2)?;
        m.serialize_field("lat", &self.0)?;
        m.serialize_field("lon", &self.1)?;
        m.end()
    }
}

struct ClientJson<'a>(&'a ClientInfo);

impl Serialize for ClientJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let (os, browser, device) = user_agent_parts(&c.user_agent);
        let mut m = s.serialize_struct("Client", 6)?;
        m.serialize_field("userAgent", &UserAgentJson(&c.user_agent, os, browser))?;
        // Real events carry the string "null" here (see the Panther fixtures).
        m.serialize_field("zone", "null")?;
        m.serialize_field("device", device)?;
        m.serialize_field("id", &None::<()>)?;
        m.serialize_field("ipAddress", &c.ip)?;
        m.serialize_field("geographicalContext", &GeoJson(c))?;
        m.end()
    }
}

struct UserAgentJson<'a>(&'a str, &'static str, &'static str);

impl Serialize for UserAgentJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("UserAgent", 3)?;
        m.serialize_field("rawUserAgent", self.0)?;
        m.serialize_field("os", self.1)?;
        m.serialize_field("browser", self.2)?;
        m.end()
    }
}

struct RequestJson<'a>(&'a ClientInfo);

impl Serialize for RequestJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Hop<'a>(&'a ClientInfo);
        impl Serialize for Hop<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let c = self.0;
                let mut m = s.serialize_struct("IpAddress", 4)?;
                m.serialize_field("ip", &c.ip)?;
                m.serialize_field("geographicalContext", &GeoJson(c))?;
                m.serialize_field("version", if c.ip.contains(':') { "V6" } else { "V4" })?;
                m.serialize_field("source", &None::<()>)?;
                m.end()
            }
        }
        let mut m = s.serialize_struct("Request", 1)?;
        m.serialize_field("ipChain", &[Hop(self.0)])?;
        m.end()
    }
}

struct OutcomeJson<'a>(&'a LogEvent);

impl Serialize for OutcomeJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Outcome", 2)?;
        m.serialize_field("result", self.0.result)?;
        m.serialize_field("reason", &self.0.reason.as_deref())?;
        m.end()
    }
}

struct AuthJson<'a>(&'a LogEvent);

impl AuthJson<'_> {
    fn session(&self) -> StackText<25> {
        let ev = self.0;
        let profile = profile(ev);
        let seed = if ev.session == 0 {
            request_seed(&ev.request_id)
        } else {
            ev.session
        };
        session_text(profile.session_prefix, seed)
    }
}

fn profile(ev: &LogEvent) -> &'static AuthInfo {
    AUTH_PROFILES
        .get(ev.auth as usize)
        .unwrap_or(&AUTH_PROFILES[0])
}

impl Serialize for AuthJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Issuer(&'static str, u64);
        impl Serialize for Issuer {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_struct("Issuer", 2)?;
                m.serialize_field("id", session_text("0oa", self.1).as_str())?;
                m.serialize_field("type", self.0)?;
                m.end()
            }
        }
        let p = profile(self.0);
        let session = self.session();
        let mut m = s.serialize_struct("AuthenticationContext", 8)?;
        m.serialize_field("authenticationProvider", &p.provider)?;
        m.serialize_field("credentialProvider", &p.credential_provider)?;
        m.serialize_field("credentialType", &p.credential_type)?;
        m.serialize_field("issuer", &p.issuer_type.map(|t| Issuer(t, 7)))?;
        m.serialize_field("interface", &None::<()>)?;
        m.serialize_field("authenticationStep", &0)?;
        if p.root_session {
            m.serialize_field("rootSessionId", session.as_str())?;
        }
        m.serialize_field("externalSessionId", session.as_str())?;
        m.end()
    }
}

struct SecurityJson(u8);

impl Serialize for SecurityJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let net = NETWORKS.get(self.0 as usize).copied().flatten();
        let mut m = s.serialize_struct("SecurityContext", 5)?;
        m.serialize_field("asNumber", &net.map(|n| n.0))?;
        m.serialize_field("asOrg", &net.map(|n| n.1))?;
        m.serialize_field("isp", &net.map(|n| n.2))?;
        m.serialize_field("domain", &net.map(|n| n.3))?;
        m.serialize_field("isProxy", &net.map(|n| n.4))?;
        m.end()
    }
}

struct TransactionJson<'a> {
    id: &'a str,
    token: Option<&'a str>,
}

impl Serialize for TransactionJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Detail<'a>(Option<&'a str>);
        impl Serialize for Detail<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(None)?;
                if let Some(t) = self.0 {
                    m.serialize_entry("requestApiTokenId", t)?;
                }
                m.end()
            }
        }
        let mut m = s.serialize_struct("Transaction", 3)?;
        m.serialize_field("type", "WEB")?;
        m.serialize_field("id", self.id)?;
        m.serialize_field("detail", &Detail(self.token))?;
        m.end()
    }
}

const PRIVILEGES: &[&str] = &[
    "Organization administrator",
    "Read only administrator",
    "Help desk administrator",
    "Application administrator (all)",
    "Group administrator",
];

struct DebugJson<'a> {
    ev: &'a LogEvent,
    request_id: &'a str,
}

impl Serialize for DebugJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Data<'a>(&'a DebugJson<'a>);
        impl Serialize for Data<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let ev = self.0.ev;
                let h = mix(u64::from_le_bytes(
                    ev.uuid[8..].try_into().unwrap_or_default(),
                ));
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("requestId", self.0.request_id)?;
                m.serialize_entry("requestUri", &*ev.request_uri)?;
                m.serialize_entry("url", &*ev.request_uri)?;
                match ev.event_type {
                    "user.session.start" => {
                        let proxy = NETWORKS
                            .get(ev.network as usize)
                            .copied()
                            .flatten()
                            .is_some_and(|n| n.4);
                        m.serialize_entry("threatSuspected", if proxy { "true" } else { "false" })?;
                        if let Some(reason) = ev.reason.as_deref() {
                            m.serialize_entry("loginResult", reason)?;
                        }
                    }
                    "user.account.privilege.grant" | "user.account.privilege.revoke" => {
                        let key = if ev.event_type.ends_with("grant") {
                            "privilegeGranted"
                        } else {
                            "privilegeRevoked"
                        };
                        m.serialize_entry(key, PRIVILEGES[(h % PRIVILEGES.len() as u64) as usize])?;
                    }
                    "system.org.rate_limit.warning" | "system.org.rate_limit.violation" => {
                        m.serialize_entry("rateLimitScopeType", "ORG")?;
                        m.serialize_entry("rateLimitSecondsToReset", &(h % 60).to_string())?;
                        m.serialize_entry("threshold", "120")?;
                        m.serialize_entry("timeSpan", "1")?;
                        m.serialize_entry("timeUnit", "MINUTES")?;
                        if ev.event_type.ends_with("warning") {
                            m.serialize_entry("warningPercent", "60")?;
                        }
                        if let Some(bucket) = ev.targets.iter().find(|t| t.kind == "Bucket Uuid") {
                            m.serialize_entry("rateLimitBucketUuid", &bucket.id)?;
                        }
                    }
                    _ => {}
                }
                m.end()
            }
        }
        let mut m = s.serialize_struct("DebugContext", 1)?;
        m.serialize_field("debugData", &Data(self))?;
        m.end()
    }
}

/// Writes `[event,event,...]` for a page.
pub fn write_page<'a>(
    out: &mut Vec<u8>,
    events: impl Iterator<Item = &'a LogEvent>,
    meta: &StoreMeta,
) {
    let mut ser = serde_json::Serializer::new(out);
    let _ = (&mut ser).collect_seq(events.map(|ev| EventJson { ev, meta }));
}

/// The value of a filter path read straight from the compact event: `Some(value)` (the value, or
/// `None` when absent) for the paths it knows, `None` when the caller must render the event.
/// Paths through `target` fan out into an array, as `Lookup for Value` does.
pub fn fast_field(ev: &LogEvent, path: &str) -> Option<Option<Value>> {
    let s = |v: &str| Some(Some(Value::String(v.to_string())));
    let targets = |f: &dyn Fn(&Entity) -> &str| {
        Some((!ev.targets.is_empty()).then(|| {
            Value::Array(
                ev.targets
                    .iter()
                    .map(|t| Value::String(f(t).to_string()))
                    .collect(),
            )
        }))
    };
    match path {
        "eventType" => s(ev.event_type),
        "displayMessage" => s(ev.display_message),
        "severity" => s(ev.severity.as_str()),
        "outcome.result" => s(ev.result),
        "outcome.reason" => Some(ev.reason.as_deref().map(|r| Value::String(r.into()))),
        "actor.id" => s(&ev.actor.id),
        "actor.type" => s(ev.actor.kind),
        "actor.alternateId" => s(&ev.actor.alternate_id),
        "actor.displayName" => s(&ev.actor.display_name),
        "target.id" => targets(&|t| &t.id),
        "target.type" => targets(&|t| t.kind),
        "target.alternateId" => targets(&|t| &t.alternate_id),
        "target.displayName" => targets(&|t| &t.display_name),
        "client.ipAddress" => s(&ev.client.ip),
        "uuid" => s(uuid_text(&ev.uuid).as_str()),
        "transaction.id" | "debugContext.debugData.requestId" => {
            s(request_id_text(&ev.request_id).as_str())
        }
        "debugContext.debugData.requestUri" | "debugContext.debugData.url" => s(&ev.request_uri),
        "legacyEventType" => {
            Some(legacy_event_type(ev.event_type, ev.result).map(|l| Value::String(l.to_string())))
        }
        _ => None,
    }
}

/// Whether `f` accepts any of the event's text values (what `q` keywords are matched against).
pub fn any_text(ev: &LogEvent, f: &mut dyn FnMut(&str) -> bool) -> bool {
    let c = &ev.client;
    let fixed = [
        ev.event_type,
        ev.display_message,
        ev.result,
        ev.severity.as_str(),
        &ev.request_uri,
        &ev.actor.id,
        &ev.actor.alternate_id,
        &ev.actor.display_name,
        &c.ip,
        &c.user_agent,
        c.city,
        c.state,
        c.country,
    ];
    fixed.into_iter().any(&mut *f)
        || ev.reason.as_deref().is_some_and(&mut *f)
        || legacy_event_type(ev.event_type, ev.result).is_some_and(&mut *f)
        || ev
            .targets
            .iter()
            .any(|t| f(&t.id) || f(&t.alternate_id) || f(&t.display_name) || f(t.kind))
        || f(uuid_text(&ev.uuid).as_str())
        || f(request_id_text(&ev.request_id).as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_ids_and_times() {
        assert_eq!(
            iso_text(1_609_459_200_123).as_str(),
            "2021-01-01T00:00:00.123Z"
        );
        assert_eq!(
            iso_text(1_714_675_581_121).as_str(),
            "2024-05-02T18:46:21.121Z"
        );
        assert_eq!(
            iso_text(951_782_400_000).as_str(),
            "2000-02-29T00:00:00.000Z"
        );
        for ms in [0i64, 86_399_999, 1_000_000_000_000, 1_700_000_000_001] {
            assert_eq!(iso_text(ms).as_str(), crate::clock::iso_ms(ms));
        }
        let b: [u8; 16] = std::array::from_fn(|i| i as u8 * 17);
        assert_eq!(
            uuid_text(&b).as_str(),
            "00112233-4455-6677-8899-aabbccddeeff"
        );
        assert_eq!(hex32(&b).as_str(), "00112233445566778899aabbccddeeff");
        let s = session_text("idx", 42);
        assert!(s.as_str().starts_with("idx") && s.as_str().len() == 25);
        assert_eq!(s.as_str(), session_text("idx", 42).as_str());
    }

    #[test]
    fn user_agents() {
        assert_eq!(
            user_agent_parts(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36"
            ),
            ("Mac OS X", "CHROME", "Computer")
        );
        assert_eq!(
            user_agent_parts("Go-http-client/2.0"),
            ("Unknown", "UNKNOWN", "Unknown")
        );
    }
}
