//! The System Log: an append-only store of events in insertion ("persistence") order, plus an index
//! by `published` for bounded queries. Events are kept compact (shared entities and clients, static
//! strings, ids as bytes) and written to Okta's LogEvent JSON only when served (see `json`), so a
//! million events fit in a few hundred megabytes.
//!
//! Queries (`/api/v1/logs` semantics) live in `routes::logs`; this module only stores and renders.

mod history;
pub mod json;

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use parking_lot::RwLock;
use serde_json::Value;

pub use history::seed_history;
pub use json::EventJson;

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

/// The id of the request (and transaction) that wrote an event. Seeded history uses Okta's newer
/// 32-hex-digit form, kept as 16 bytes; live requests keep the `X-Okta-Request-Id` they answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestId {
    Hex([u8; 16]),
    Text(Box<str>),
}

/// How the actor authenticated: an index into `json::AUTH_PROFILES` (0 = API token, all nulls).
pub type AuthProfile = u8;
/// The network the client came from: an index into `json::NETWORKS` (0 = unknown, all nulls).
pub type NetworkProfile = u8;

/// A stored event: about 190 bytes plus its target list; everything else is shared.
#[derive(Debug, Clone)]
pub struct LogEvent {
    /// When the event was persisted (polling order and polling `since`); never decreases with seq.
    pub stored_ms: i64,
    /// The event's `published` time (bounded queries); may be earlier than `stored_ms` for late events.
    pub published_ms: i64,
    pub uuid: [u8; 16],
    pub request_id: RequestId,
    pub request_uri: Arc<str>,
    pub event_type: &'static str,
    pub display_message: &'static str,
    pub result: &'static str,
    pub reason: Option<Arc<str>>,
    pub actor: Arc<Entity>,
    pub targets: Box<[Arc<Entity>]>,
    pub client: Arc<ClientInfo>,
    /// Seeds `authenticationContext.externalSessionId`; 0 derives one from the request id.
    pub session: u64,
    pub severity: Severity,
    pub auth: AuthProfile,
    pub network: NetworkProfile,
}

impl LogEvent {
    /// An event for a live request (`Sim::log_at`).
    pub fn from_request(ctx: &RequestCtx, ev: NewEvent, published_ms: i64, uuid: [u8; 16]) -> Self {
        LogEvent {
            stored_ms: 0,
            published_ms,
            uuid,
            request_id: RequestId::Text(ctx.request_id.as_str().into()),
            request_uri: ctx.request_uri.as_str().into(),
            event_type: ev.event_type,
            display_message: ev.display_message,
            result: ev.result,
            reason: ev.reason.map(Arc::from),
            actor: ctx.actor.clone(),
            targets: ev.targets.into_boxed_slice(),
            client: ctx.client.clone(),
            session: 0,
            severity: ev.severity,
            auth: 0,
            network: 0,
        }
    }

    /// The `uuid` as Okta writes it.
    pub fn uuid_string(&self) -> String {
        json::uuid_text(&self.uuid).to_string()
    }

    /// Okta's LogEvent JSON as a `Value` (for filters on uncommon paths, and for tests).
    pub fn to_value(&self, meta: &StoreMeta) -> Value {
        serde_json::to_value(EventJson { ev: self, meta }).unwrap_or(Value::Null)
    }
}

/// Facts about the org every rendered event needs.
#[derive(Debug, Default)]
pub struct StoreMeta {
    /// The id (`00T…`) of the API token live API calls are made with (`transaction.detail`).
    pub api_token_id: OnceLock<String>,
}

/// The events, their published index and when the last one was persisted.
#[derive(Debug, Default)]
pub struct LogData {
    pub events: Vec<LogEvent>,
    /// `(published_ms, seq)` of every event: bounded queries walk it in either direction.
    pub by_published: BTreeSet<(i64, u32)>,
}

impl LogData {
    /// The first position whose persistence time is at or after `ms`.
    pub fn first_stored_at_or_after(&self, ms: i64) -> usize {
        self.events.partition_point(|e| e.stored_ms < ms)
    }
}

/// The store. Appends take the write lock briefly; a page is read and rendered under the read lock.
#[derive(Debug, Default)]
pub struct LogStore {
    data: RwLock<LogData>,
    pub meta: StoreMeta,
}

impl LogStore {
    /// Persists `ev` now (`stored_ms`): after every event already stored, so polling sees it next.
    pub fn append(&self, ev: LogEvent, now_ms: i64) {
        self.append_then(ev, now_ms, |_| {});
    }

    /// `append`, then `then(&event)` while still holding the write lock: whatever `then` feeds
    /// (event hook queues) sees events in persistence order.
    pub fn append_then(&self, mut ev: LogEvent, now_ms: i64, then: impl FnOnce(&LogEvent)) {
        let mut data = self.data.write();
        ev.stored_ms = data
            .events
            .last()
            .map_or(now_ms, |l| l.stored_ms.max(now_ms));
        let seq = data.events.len() as u32;
        data.by_published.insert((ev.published_ms, seq));
        data.events.push(ev);
        if let Some(last) = data.events.last() {
            then(last);
        }
    }

    /// Appends seeded history whose `stored_ms` are already set (and non-decreasing).
    pub fn extend(&self, events: Vec<LogEvent>) {
        let mut data = self.data.write();
        let first = data.events.len() as u32;
        let keys = events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.published_ms, first + i as u32));
        if data.by_published.is_empty() {
            // Built in bulk, the tree's nodes are full: a third of the memory of one-by-one inserts.
            data.by_published = keys.collect();
        } else {
            data.by_published.extend(keys);
        }
        data.events.extend(events);
    }

    pub fn len(&self) -> usize {
        self.data.read().events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` over the store under the read lock.
    pub fn read<R>(&self, f: impl FnOnce(&LogData) -> R) -> R {
        f(&self.data.read())
    }

    /// Runs `f` over the events in persistence order under the read lock.
    pub fn with_events<R>(&self, f: impl FnOnce(&[LogEvent]) -> R) -> R {
        f(&self.data.read().events)
    }

    /// The last `n` events (persistence order) as Okta's JSON: handy in tests of mutations.
    pub fn recent(&self, n: usize) -> Vec<Value> {
        let data = self.data.read();
        let from = data.events.len().saturating_sub(n);
        data.events[from..]
            .iter()
            .map(|e| e.to_value(&self.meta))
            .collect()
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
    "user.account.update_user_type",
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
    "app.oauth2.authorize.code",
    "app.oauth2.token.grant.access_token",
    "app.oauth2.token.grant.refresh_token",
    "app.oauth2.token.detect_reuse",
    "app.oauth2.token.revoke",
    "event_hook.created",
    "event_hook.updated",
    "event_hook.activated",
    "event_hook.deactivated",
    "event_hook.deleted",
    "event_hook.verified",
    "event_hook.delivery",
];

/// The static name of a known event type.
pub fn known_event_type(name: &str) -> Option<&'static str> {
    EVENT_TYPES.iter().copied().find(|t| *t == name)
}

/// The client of requests that did not come through HTTP (seeded history, control API).
pub fn default_client() -> Arc<ClientInfo> {
    ClientInfo::at_the_office(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36".into(),
        "198.51.100.23".into(),
    )
}

impl ClientInfo {
    /// A client located at the org's office. The simulator has no geolocation database, so every
    /// live request is placed there (loopback addresses have no real location anyway).
    pub fn at_the_office(user_agent: String, ip: String) -> Arc<ClientInfo> {
        Arc::new(ClientInfo {
            user_agent,
            ip,
            city: "San Francisco",
            state: "California",
            country: "United States",
            postal_code: "94105",
            lat: 37.7897,
            lon: -122.3972,
        })
    }
}

/// A version-1 (time-based) UUID, as Okta's event uuids are (`dc9fd3c0-598c-11ef-8478-…`): the
/// time fields from `published_ms`, sub-millisecond ticks from `a`, clock sequence and node from `b`.
pub fn uuid_v1(published_ms: i64, a: u64, b: u64) -> [u8; 16] {
    const GREGORIAN_OFFSET: u64 = 0x01B2_1DD2_1381_4000;
    // Wrapping: a far-future `published` (the control API accepts any) must not overflow.
    let ticks = (published_ms.max(0) as u64)
        .wrapping_mul(10_000)
        .wrapping_add(GREGORIAN_OFFSET + a % 10_000);
    let time_hi = ((ticks >> 48) as u16 & 0x0FFF) | 0x1000;
    let clock_seq = ((b >> 48) as u16 & 0x3FFF) | 0x8000;
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&(ticks as u32).to_be_bytes());
    out[4..6].copy_from_slice(&((ticks >> 32) as u16).to_be_bytes());
    out[6..8].copy_from_slice(&time_hi.to_be_bytes());
    out[8..10].copy_from_slice(&clock_seq.to_be_bytes());
    out[10..].copy_from_slice(&b.to_be_bytes()[2..]);
    out
}
