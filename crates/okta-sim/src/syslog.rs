//! The System Log: an append-only store of events in insertion ("persistence") order, plus an index
//! by `published` for bounded queries. Events are kept compact (shared entities, interned strings)
//! and rendered to Okta's LogEvent JSON only when served, so a million events fit in modest memory.

use std::sync::Arc;

use parking_lot::RwLock;
use serde_json::{Value, json};

use crate::clock::iso_ms;

/// An actor or target of an event: a user, group, app, token... (`{id, type, alternateId, displayName}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub id: String,
    /// Okta's type names: `User`, `UserGroup`, `AppInstance`, `AppUser`, `PublicClientApp`, `Token`, ...
    pub kind: &'static str,
    pub alternate_id: String,
    pub display_name: String,
}

/// Where a request came from (the LogEvent's `client`, `request` and `securityContext`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientInfo {
    pub user_agent: String,
    pub ip: String,
    pub city: &'static str,
    pub state: &'static str,
    pub country: &'static str,
    pub postal_code: &'static str,
    pub lat: f64,
    pub lon: f64,
}

/// The request an event was written for: its id (`debugContext.debugData.requestId`, equal to the
/// response's `X-Okta-Request-Id`), who made it and from where.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    pub request_id: String,
    pub request_uri: String,
    pub actor: Arc<Entity>,
    pub client: Arc<ClientInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Debug,
    Info,
    Warn,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Debug => "DEBUG",
            Severity::Info => "INFO",
            Severity::Warn => "WARN",
            Severity::Error => "ERROR",
        }
    }
}

/// What a mutation asks to be logged.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: &'static str,
    pub display_message: &'static str,
    pub severity: Severity,
    pub targets: Vec<Arc<Entity>>,
    /// `SUCCESS`, `FAILURE`, ...
    pub result: &'static str,
    pub reason: Option<String>,
}

impl NewEvent {
    pub fn success(
        event_type: &'static str,
        display_message: &'static str,
        targets: Vec<Arc<Entity>>,
    ) -> Self {
        NewEvent {
            event_type,
            display_message,
            severity: Severity::Info,
            targets,
            result: "SUCCESS",
            reason: None,
        }
    }
}

/// A stored event.
#[derive(Debug, Clone)]
pub struct LogEvent {
    /// Position in persistence order (0-based).
    pub seq: u64,
    /// When the event was persisted (polling order and polling `since`).
    pub stored_ms: i64,
    /// The event's `published` time (bounded queries); may be earlier than `stored_ms` for late events.
    pub published_ms: i64,
    pub uuid: String,
    pub event: NewEvent,
    pub ctx: RequestCtx,
    pub transaction_id: String,
}

impl LogEvent {
    /// Okta's LogEvent JSON.
    pub fn render(&self) -> Value {
        let c = &self.ctx.client;
        let entity = |e: &Entity| {
            json!({"id": e.id, "type": e.kind, "alternateId": e.alternate_id,
                   "displayName": e.display_name, "detailEntry": null})
        };
        json!({
            "actor": entity(&self.ctx.actor),
            "client": {
                "userAgent": {"rawUserAgent": c.user_agent, "os": "Unknown", "browser": "UNKNOWN"},
                "zone": "null", "device": "Unknown", "id": null, "ipAddress": c.ip,
                "geographicalContext": {"city": c.city, "state": c.state, "country": c.country,
                    "postalCode": c.postal_code, "geolocation": {"lat": c.lat, "lon": c.lon}},
            },
            "device": null,
            "authenticationContext": {"authenticationProvider": null, "credentialProvider": null,
                "credentialType": null, "issuer": null, "interface": null, "authenticationStep": 0,
                "externalSessionId": "trs".to_string() + &self.transaction_id[..12.min(self.transaction_id.len())]},
            "displayMessage": self.event.display_message,
            "eventType": self.event.event_type,
            "outcome": {"result": self.event.result, "reason": self.event.reason},
            "published": iso_ms(self.published_ms),
            "securityContext": {"asNumber": null, "asOrg": null, "isp": null, "domain": null, "isProxy": null},
            "severity": self.event.severity.as_str(),
            "debugContext": {"debugData": {"requestId": self.ctx.request_id, "requestUri": self.ctx.request_uri,
                "url": self.ctx.request_uri}},
            "legacyEventType": null,
            "transaction": {"type": "WEB", "id": self.transaction_id, "detail": {}},
            "uuid": self.uuid,
            "version": "0",
            "request": {"ipChain": [{"ip": c.ip, "geographicalContext": {"city": c.city, "state": c.state,
                "country": c.country, "postalCode": c.postal_code,
                "geolocation": {"lat": c.lat, "lon": c.lon}}, "version": "V4", "source": null}]},
            "target": self.event.targets.iter().map(|t| entity(t)).collect::<Vec<_>>(),
        })
    }
}

/// The store. Appends take the write lock briefly; reads of a page take the read lock.
#[derive(Debug, Default)]
pub struct LogStore {
    events: RwLock<Vec<LogEvent>>,
}

impl LogStore {
    pub fn append(&self, mut ev: LogEvent) {
        let mut events = self.events.write();
        ev.seq = events.len() as u64;
        events.push(ev);
    }

    pub fn len(&self) -> usize {
        self.events.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` over the events in persistence order under the read lock.
    pub fn with_events<R>(&self, f: impl FnOnce(&[LogEvent]) -> R) -> R {
        f(&self.events.read())
    }
}

/// Event types the simulator writes or seeds. `&'static str` keeps stored events small.
pub const EVENT_TYPES: &[&str] = &[
    "user.lifecycle.create",
    "user.lifecycle.activate",
    "user.lifecycle.deactivate",
    "user.lifecycle.reactivate",
    "user.lifecycle.suspend",
    "user.lifecycle.unsuspend",
    "user.lifecycle.delete.initiated",
    "user.lifecycle.delete.completed",
    "user.account.update_profile",
    "user.account.lock",
    "user.account.unlock",
    "user.account.unlock_by_admin",
    "user.account.reset_password",
    "user.account.update_password",
    "user.account.expire_password",
    "user.account.privilege.grant",
    "user.account.privilege.revoke",
    "user.mfa.factor.reset_all",
    "user.session.start",
    "user.session.end",
    "user.session.clear",
    "user.session.impersonation.grant",
    "user.authentication.sso",
    "user.authentication.auth_via_mfa",
    "group.lifecycle.create",
    "group.lifecycle.delete",
    "group.profile.update",
    "group.user_membership.add",
    "group.user_membership.remove",
    "application.lifecycle.create",
    "application.lifecycle.update",
    "application.lifecycle.activate",
    "application.lifecycle.deactivate",
    "application.lifecycle.delete",
    "application.user_membership.update",
    "group.application_assignment.add",
    "group.application_assignment.remove",
    "group.application_assignment.update",
    "application.user_membership.add",
    "application.user_membership.remove",
    "application.user_membership.show_password",
    "system.api_token.create",
    "system.api_token.revoke",
    "system.org.rate_limit.warning",
    "system.org.rate_limit.violation",
    "system.mfa.factor.deactivate",
    "policy.evaluate_sign_on",
];

/// The static name of a known event type.
pub fn known_event_type(name: &str) -> Option<&'static str> {
    EVENT_TYPES.iter().copied().find(|t| *t == name)
}

/// The client of requests that did not come through HTTP (seeded history, control API).
pub fn default_client() -> Arc<ClientInfo> {
    Arc::new(ClientInfo {
        user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36".into(),
        ip: "198.51.100.23".into(),
        city: "San Francisco",
        state: "California",
        country: "United States",
        postal_code: "94105",
        lat: 37.7897,
        lon: -122.3972,
    })
}

/// Seeds the System Log with `config.log_events` events of history (placeholder: sessions).
pub fn seed_history(sim: &crate::Sim) {
    let now = sim.clock.now_ms();
    let ctx = RequestCtx {
        request_id: "seed".into(),
        request_uri: "/login/do-login".into(),
        actor: sim.admin.clone(),
        client: default_client(),
    };
    let n = sim.config.log_events as i64;
    for i in 0..n {
        let published = now - 30 * 86_400_000 + i * (30 * 86_400_000 / n.max(1));
        sim.log_at(
            &ctx,
            NewEvent::success("user.session.start", "User login to Okta", vec![]),
            published,
        );
    }
}
