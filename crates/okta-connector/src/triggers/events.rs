//! System Log triggers: `new_events`, `group_membership_changed` and `deleted_objects`. All three are
//! one [`LogSource`] with different filters and derived details.
//!
//! Reading follows Okta's polling contract (FACTS §5): the first request is `since` (no `until`,
//! ascending, `limit` up to 1000), then the `next` link of every page is followed as sent; a page is
//! never skipped, an empty page ends a poll and its `next` link is where the next poll starts. The
//! cursor is that link, so events are read in persistence order: an event published late (written to
//! the log after later ones) still comes after the cursor and is delivered; re-reading by
//! `published` would miss it.
//!
//! A start further back than one backfill window is read first as bounded windows
//! (`since`/`until` on `published`) fetched in parallel and delivered in order, then handed over to
//! polling from the first start's instant (`since` on persistence time). No gap: an event published
//! before the handover is in a window if it was written before that window was read, and otherwise
//! was written after the handover, so polling reads it. Overlap (written between the handover and
//! the read of its window) is removed by the runner's de-duplication on `uuid`.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use okta_client::{Client, Page, Query};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::categories::{Category, check_event_type, quote};
use super::time_spec::{Span, Start, okta_time, parse_time};
use super::{
    Batch, Next, Record, RecordDef, Source, SourceContext, SourceError, SourceFuture, Trigger,
    raw_field,
};

/// Okta keeps 90 days of events; a start further back reads from there.
const RETENTION: Duration = Duration::from_secs(90 * 86_400);
/// Okta's largest System Log page.
const MAX_LIMIT: u32 = 1000;

/// `new_events`: System Log events as they are written.
pub struct NewEvents;

/// What `new_events` reads.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEventsConfig {
    /// Event categories to include (any of them); see `triggers describe new_events` for the event
    /// types each covers. With neither categories nor event_types, every event is included.
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Event types to include (any of them), e.g. user.session.start.
    #[serde(default)]
    pub event_types: Vec<String>,
    /// Outcomes to include (outcome.result), e.g. SUCCESS, FAILURE.
    #[serde(default)]
    pub results: Vec<Outcome>,
    /// An Okta System Log filter expression ANDed with the above, e.g. actor.id eq "00u1...".
    pub filter: Option<String>,
    /// When first started, pick up events from: a span back (1h, 7d) or an instant; at most Okta's
    /// 90-day retention.
    #[serde(default = "one_hour")]
    pub start: Start,
    /// How a start further back than one window is read before polling begins.
    #[serde(default)]
    pub backfill: Backfill,
    /// Events per page (1–1000; Okta's maximum 1000 is the cheapest in requests).
    #[serde(default = "max_limit")]
    pub limit: u32,
}

/// A System Log outcome (`outcome.result`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    Success,
    Failure,
    Skipped,
    Allow,
    Deny,
    Challenge,
    Unknown,
    RateLimit,
    Deferred,
    Scheduled,
    Abandoned,
    Unanswered,
}

impl Outcome {
    /// Okta's name: `SUCCESS`, `RATE_LIMIT`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "SUCCESS",
            Outcome::Failure => "FAILURE",
            Outcome::Skipped => "SKIPPED",
            Outcome::Allow => "ALLOW",
            Outcome::Deny => "DENY",
            Outcome::Challenge => "CHALLENGE",
            Outcome::Unknown => "UNKNOWN",
            Outcome::RateLimit => "RATE_LIMIT",
            Outcome::Deferred => "DEFERRED",
            Outcome::Scheduled => "SCHEDULED",
            Outcome::Abandoned => "ABANDONED",
            Outcome::Unanswered => "UNANSWERED",
        }
    }
}

/// Reading a long start as parallel windows.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backfill {
    /// The length of one window.
    #[serde(default = "one_hour_span")]
    pub window: Span,
    /// Windows read at once (1 reads the start by polling alone).
    #[serde(default = "four")]
    pub parallel: u8,
}

impl Default for Backfill {
    fn default() -> Self {
        Backfill {
            window: one_hour_span(),
            parallel: four(),
        }
    }
}

fn one_hour() -> Start {
    Start::Ago(one_hour_span())
}
fn one_hour_span() -> Span {
    Span(Duration::from_secs(3600))
}
fn four() -> u8 {
    4
}
fn max_limit() -> u32 {
    MAX_LIMIT
}

impl Trigger for NewEvents {
    type Config = NewEventsConfig;
    const NAME: &'static str = "new_events";
    const SUMMARY: &'static str =
        "System Log events as they are written, filtered by category, event type and outcome.";
    const RECORD: RecordDef = RecordDef {
        object: "LogEvent",
        shape: None,
        id: "the event's uuid",
        details: None,
    };

    fn check(config: &NewEventsConfig) -> Result<(), String> {
        for t in &config.event_types {
            check_event_type(t)?;
        }
        check_common(config.limit, &config.backfill)
    }

    fn source(config: NewEventsConfig) -> Box<dyn Source> {
        Box::new(LogSource::new(
            new_events_filter(&config),
            config.start,
            config.backfill,
            config.limit,
            None,
        ))
    }
}

/// `(categories or event types) and (results) and (filter)`.
fn new_events_filter(config: &NewEventsConfig) -> Option<String> {
    log_filter(
        &config.categories,
        &config.event_types,
        &config.results,
        config.filter.as_deref(),
    )
}

/// The System Log filter for categories, event types, outcomes and an extra expression.
pub(crate) fn log_filter(
    categories: &[Category],
    event_types: &[String],
    results: &[Outcome],
    extra: Option<&str>,
) -> Option<String> {
    let mut any_of: Vec<String> = Vec::new();
    for category in categories {
        any_of.extend(
            category
                .prefixes()
                .iter()
                .map(|p| format!("eventType sw {}", quote(p))),
        );
    }
    any_of.extend(
        event_types
            .iter()
            .map(|t| format!("eventType eq {}", quote(t))),
    );
    let results: Vec<String> = results
        .iter()
        .map(|r| format!("outcome.result eq {}", quote(r.as_str())))
        .collect();
    all_of(&[
        any_of,
        results,
        extra.map(str::to_string).into_iter().collect(),
    ])
}

/// `group_membership_changed`: users added to or removed from groups.
pub struct GroupMembershipChanged;

/// What `group_membership_changed` reads.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipConfig {
    /// Only these groups (ids, 00g...); all groups when empty.
    #[serde(default)]
    pub group_ids: Vec<String>,
    /// When first started, pick up changes from: a span back (1h, 7d) or an instant.
    #[serde(default = "one_hour")]
    pub start: Start,
    #[serde(default)]
    pub backfill: Backfill,
}

impl Trigger for GroupMembershipChanged {
    type Config = MembershipConfig;
    const NAME: &'static str = "group_membership_changed";
    const SUMMARY: &'static str =
        "Users added to or removed from groups (System Log group.user_membership.add/remove).";
    const RECORD: RecordDef = RecordDef {
        object: "LogEvent",
        shape: None,
        id: "the event's uuid",
        details: Some(
            r#"{"change": "added"|"removed", "group": {"id","displayName"}, "user": {"id","alternateId","displayName"}}"#,
        ),
    };

    fn check(config: &MembershipConfig) -> Result<(), String> {
        config
            .group_ids
            .iter()
            .try_for_each(|id| check_id(id, "group"))
    }

    fn source(config: MembershipConfig) -> Box<dyn Source> {
        let types = [
            "eventType eq \"group.user_membership.add\"",
            "eventType eq \"group.user_membership.remove\"",
        ];
        let groups = config
            .group_ids
            .iter()
            .map(|id| format!("target.id eq {}", quote(id)))
            .collect();
        let filter = all_of(&[types.map(String::from).to_vec(), groups]);
        Box::new(LogSource::new(
            filter,
            config.start,
            config.backfill,
            MAX_LIMIT,
            Some(membership_details),
        ))
    }
}

/// `deleted_objects`: users and groups deleted.
pub struct DeletedObjects;

/// What `deleted_objects` reads.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeletedConfig {
    /// Which deletions: user, group (default both).
    #[serde(default = "both_kinds")]
    pub object_types: Vec<ObjectType>,
    /// When first started, pick up deletions from: a span back (1h, 7d) or an instant.
    #[serde(default = "one_hour")]
    pub start: Start,
    #[serde(default)]
    pub backfill: Backfill,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectType {
    User,
    Group,
}

fn both_kinds() -> Vec<ObjectType> {
    vec![ObjectType::User, ObjectType::Group]
}

impl Trigger for DeletedObjects {
    type Config = DeletedConfig;
    const NAME: &'static str = "deleted_objects";
    const SUMMARY: &'static str = "Users and groups deleted (System Log user.lifecycle.delete.completed, group.lifecycle.delete).";
    const RECORD: RecordDef = RecordDef {
        object: "LogEvent",
        shape: None,
        id: "the event's uuid",
        details: Some(r#"{"objectType": "user"|"group", "id", "alternateId", "displayName"}"#),
    };

    fn check(config: &DeletedConfig) -> Result<(), String> {
        if config.object_types.is_empty() {
            return Err("object_types is empty: give user, group or both".into());
        }
        Ok(())
    }

    fn source(config: DeletedConfig) -> Box<dyn Source> {
        let types = config
            .object_types
            .iter()
            .map(|t| match t {
                ObjectType::User => "eventType eq \"user.lifecycle.delete.completed\"".to_string(),
                ObjectType::Group => "eventType eq \"group.lifecycle.delete\"".to_string(),
            })
            .collect();
        Box::new(LogSource::new(
            all_of(&[types]),
            config.start,
            config.backfill,
            MAX_LIMIT,
            Some(deleted_details),
        ))
    }
}

pub(crate) fn check_common(limit: u32, backfill: &Backfill) -> Result<(), String> {
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(format!("limit must be 1 to {MAX_LIMIT}, got {limit}"));
    }
    if backfill.parallel == 0 || backfill.parallel > 16 {
        return Err(format!(
            "backfill.parallel must be 1 to 16, got {}",
            backfill.parallel
        ));
    }
    if backfill.window.0 < Duration::from_secs(60) {
        return Err(format!(
            "backfill.window must be at least 1m, got {}",
            backfill.window
        ));
    }
    Ok(())
}

fn check_id(id: &str, what: &str) -> Result<(), String> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "'{id}' is not a {what} id (they look like 00g1a2b3c4D5e6F7g8h9)"
        ));
    }
    Ok(())
}

/// `(a or b) and (c) and (d)`: each inner list ORed, the lists ANDed; empty lists left out.
fn all_of(clauses: &[Vec<String>]) -> Option<String> {
    let parts: Vec<String> = clauses
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| {
            if c.len() == 1 && clauses.iter().filter(|c| !c.is_empty()).count() == 1 {
                c[0].clone()
            } else {
                format!("({})", c.join(" or "))
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" and "))
}

/// Derives a record's `details` from its event.
type Details = fn(&RawValue) -> Result<Option<Value>, SourceError>;

#[derive(Deserialize)]
struct EventTargets {
    #[serde(rename = "eventType")]
    event_type: String,
    #[serde(default)]
    target: Vec<Target>,
}

#[derive(Deserialize)]
struct Target {
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(rename = "alternateId")]
    alternate_id: Option<String>,
    #[serde(rename = "displayName")]
    display_name: Option<String>,
}

fn membership_details(raw: &RawValue) -> Result<Option<Value>, SourceError> {
    let event: EventTargets = raw_field(raw)?;
    let of = |kind: &str| {
        event
            .target
            .iter()
            .find(|t| t.kind.as_deref() == Some(kind))
    };
    let change = if event.event_type.ends_with(".add") {
        "added"
    } else {
        "removed"
    };
    Ok(Some(json!({
        "change": change,
        "group": of("UserGroup").map(|g| json!({"id": g.id, "displayName": g.display_name})),
        "user": of("User").map(|u| json!({"id": u.id, "alternateId": u.alternate_id, "displayName": u.display_name})),
    })))
}

fn deleted_details(raw: &RawValue) -> Result<Option<Value>, SourceError> {
    let event: EventTargets = raw_field(raw)?;
    let (object_type, kind) = if event.event_type.starts_with("group.") {
        ("group", "UserGroup")
    } else {
        ("user", "User")
    };
    let target = event
        .target
        .iter()
        .find(|t| t.kind.as_deref() == Some(kind));
    Ok(Some(json!({
        "objectType": object_type,
        "id": target.and_then(|t| t.id.as_deref()),
        "alternateId": target.and_then(|t| t.alternate_id.as_deref()),
        "displayName": target.and_then(|t| t.display_name.as_deref()),
    })))
}

/// Where a System Log trigger stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Cursor {
    /// Polling: the `next` link to follow.
    Poll(String),
    /// Reading bounded windows of `window_secs` from `start`, before polling from `handover`.
    Backfill(Windows),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Windows {
    start: String,
    handover: String,
    window_secs: u64,
    /// The window being read.
    window: u64,
    /// The `next` link inside it (`None`: its first page).
    next: Option<String>,
}

impl Windows {
    fn bounds(&self, window: u64) -> Option<(OffsetDateTime, OffsetDateTime)> {
        let start = parse_time(&self.start)?;
        let handover = parse_time(&self.handover)?;
        let len = Duration::from_secs(self.window_secs.max(1));
        let since = start + len * u32::try_from(window).ok()?;
        (since < handover).then(|| (since, (since + len).min(handover)))
    }
}

/// Reads the System Log for a filter: see the module docs.
pub struct LogSource {
    filter: Option<String>,
    start: Start,
    backfill: Backfill,
    limit: u32,
    details: Option<Details>,
    /// Windows being read ahead, by index; only valid while the cursor is the one last returned.
    ahead: BTreeMap<u64, Reader>,
    returned: Option<Value>,
}

/// A task reading one window's pages ahead into a small channel.
struct Reader {
    pages: mpsc::Receiver<Result<Page<Box<RawValue>>, okta_client::Error>>,
    task: tokio::task::AbortHandle,
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LogSource {
    pub(crate) fn new(
        filter: Option<String>,
        start: Start,
        backfill: Backfill,
        limit: u32,
        details: Option<Details>,
    ) -> Self {
        LogSource {
            filter,
            start,
            backfill,
            limit,
            details,
            ahead: BTreeMap::new(),
            returned: None,
        }
    }

    /// The cursor of a first start at `now`.
    fn first(&self, client: &Client, now: OffsetDateTime) -> Result<Cursor, SourceError> {
        let since = self.start.resolve(now, RETENTION);
        if self.backfill.parallel > 1 && now - since > self.backfill.window.0 {
            return Ok(Cursor::Backfill(Windows {
                start: okta_time(since),
                handover: okta_time(now),
                window_secs: self.backfill.window.0.as_secs(),
                window: 0,
                next: None,
            }));
        }
        self.poll_url(client, since).map(Cursor::Poll)
    }

    fn poll_url(&self, client: &Client, since: OffsetDateTime) -> Result<String, SourceError> {
        let query = [
            ("since", Some(okta_time(since))),
            ("limit", Some(self.limit.to_string())),
            ("filter", self.filter.clone()),
        ];
        logs_url(client, &query)
    }

    fn window_url(
        &self,
        client: &Client,
        since: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<String, SourceError> {
        let query = [
            ("since", Some(okta_time(since))),
            ("until", Some(okta_time(until))),
            ("limit", Some(self.limit.to_string())),
            ("filter", self.filter.clone()),
        ];
        logs_url(client, &query)
    }

    fn records(&self, items: Vec<Box<RawValue>>) -> Result<Vec<Record>, SourceError> {
        #[derive(Deserialize)]
        struct Uuid<'a> {
            #[serde(borrow)]
            uuid: std::borrow::Cow<'a, str>,
        }
        items
            .into_iter()
            .map(|object| {
                let id = raw_field::<Uuid<'_>>(&object)?.uuid.into_owned();
                let details = match self.details {
                    Some(derive) => derive(&object)?,
                    None => None,
                };
                Ok(Record {
                    id,
                    object,
                    details,
                })
            })
            .collect()
    }

    async fn read(&mut self, ctx: &SourceContext, cursor: Cursor) -> Result<Batch, SourceError> {
        match cursor {
            Cursor::Poll(url) => {
                let page = fetch(&ctx.client, &url).await?;
                let next = page.next.ok_or_else(|| {
                    SourceError::Okta(Box::new(okta_client::Error {
                        request_id: page.request_id.clone(),
                        ..okta_client::Error::new(
                            okta_client::ErrorKind::Decode,
                            "the System Log answered a polling query without a next link",
                        )
                    }))
                })?;
                let caught_up = page.items.is_empty();
                Ok(Batch {
                    records: self.records(page.items)?,
                    cursor: to_value(&Cursor::Poll(next.to_string())),
                    next: if caught_up { Next::CaughtUp } else { Next::Now },
                })
            }
            Cursor::Backfill(windows) => self.read_window(ctx, windows).await,
        }
    }

    async fn read_window(
        &mut self,
        ctx: &SourceContext,
        windows: Windows,
    ) -> Result<Batch, SourceError> {
        let invalid = || {
            SourceError::Invalid("the stored backfill cursor is damaged: reset the trigger (`okta-connector triggers reset NAME`)".into())
        };
        let (since, until) = windows.bounds(windows.window).ok_or_else(invalid)?;
        let page = match (&windows.next, self.ahead.remove(&windows.window)) {
            (Some(next), _) => fetch(&ctx.client, next).await?,
            (None, Some(mut reader)) => match reader.pages.recv().await {
                Some(page) => page?,
                None => fetch(&ctx.client, &self.window_url(&ctx.client, since, until)?).await?,
            },
            (None, None) => {
                fetch(&ctx.client, &self.window_url(&ctx.client, since, until)?).await?
            }
        };
        self.read_ahead(&ctx.client, &windows)?;
        let records = self.records(page.items)?;
        let cursor = match page.next {
            Some(next) => Cursor::Backfill(Windows {
                next: Some(next.to_string()),
                ..windows
            }),
            None if windows.bounds(windows.window + 1).is_some() => Cursor::Backfill(Windows {
                window: windows.window + 1,
                next: None,
                ..windows
            }),
            None => {
                let handover = parse_time(&windows.handover).ok_or_else(invalid)?;
                Cursor::Poll(self.poll_url(&ctx.client, handover)?)
            }
        };
        Ok(Batch {
            records,
            cursor: to_value(&cursor),
            next: Next::Now,
        })
    }

    /// Keeps the next `parallel - 1` windows after the current one being read ahead.
    fn read_ahead(&mut self, client: &Client, windows: &Windows) -> Result<(), SourceError> {
        let current = windows.window;
        self.ahead.retain(|&w, _| w > current);
        for w in current + 1..current + u64::from(self.backfill.parallel) {
            let Some((since, until)) = windows.bounds(w) else {
                break;
            };
            if self.ahead.contains_key(&w) {
                continue;
            }
            let url = self.window_url(client, since, until)?;
            // Two pages ahead per window: enough to overlap the requests, little memory.
            let (tx, rx) = mpsc::channel(2);
            let client = client.clone();
            let task = tokio::spawn(async move {
                let mut pages = client.pages::<Box<RawValue>>(&url, Query::new());
                while let Some(page) = pages.next().await {
                    let failed = page.is_err();
                    if tx.send(page).await.is_err() || failed {
                        break;
                    }
                }
            });
            self.ahead.insert(
                w,
                Reader {
                    pages: rx,
                    task: task.abort_handle(),
                },
            );
        }
        Ok(())
    }
}

impl Source for LogSource {
    fn next<'a>(
        &'a mut self,
        ctx: &'a SourceContext,
        cursor: Option<&'a Value>,
    ) -> SourceFuture<'a> {
        Box::pin(async move {
            // Pages read ahead belong to the cursor this source returned last; any other cursor
            // (a retry after an error, a new process) starts the reading ahead over.
            if cursor != self.returned.as_ref() {
                self.ahead.clear();
            }
            let position = match cursor {
                None => self.first(&ctx.client, ctx.now())?,
                Some(value) => serde_json::from_value(value.clone()).map_err(|e| {
                    SourceError::Invalid(format!(
                        "the stored cursor is not a System Log cursor ({e}); reset the trigger \
                         (`okta-connector triggers reset NAME`) to start over"
                    ))
                })?,
            };
            let result = self.read(ctx, position).await;
            match &result {
                Ok(batch) => self.returned = Some(batch.cursor.clone()),
                Err(_) => {
                    self.returned = None;
                    self.ahead.clear();
                }
            }
            result
        })
    }
}

fn to_value(cursor: &Cursor) -> Value {
    serde_json::to_value(cursor).unwrap_or(Value::Null)
}

/// `/api/v1/logs` on the org with these query parameters (absent ones left out).
fn logs_url(client: &Client, query: &[(&str, Option<String>)]) -> Result<String, SourceError> {
    let mut url = client
        .org_url()
        .join("/api/v1/logs")
        .map_err(|e| SourceError::Invalid(format!("the org URL cannot take a path: {e}")))?;
    {
        let mut pairs = url.query_pairs_mut();
        for (key, value) in query {
            if let Some(value) = value {
                pairs.append_pair(key, value);
            }
        }
    }
    Ok(url.to_string())
}

/// One page at `url` (a path or a link on the org).
async fn fetch(client: &Client, url: &str) -> Result<Page<Box<RawValue>>, SourceError> {
    let mut pages = client.pages::<Box<RawValue>>(url, Query::new());
    match pages.next().await {
        Some(page) => Ok(page?),
        None => Err(SourceError::Invalid(format!("no page at {url}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_composed() {
        assert_eq!(all_of(&[]), None);
        assert_eq!(all_of(&[vec!["a".into()]]), Some("a".into()));
        assert_eq!(
            all_of(&[vec!["a".into(), "b".into()], vec![], vec!["c".into()]]),
            Some("(a or b) and (c)".into())
        );
    }

    #[test]
    fn new_events_filter_is_composed() {
        let config: NewEventsConfig = serde_json::from_value(json!({
            "categories": ["group_membership"],
            "event_types": ["user.session.start"],
            "results": ["FAILURE"],
        }))
        .unwrap();
        NewEvents::check(&config).unwrap();
        let filter = new_events_filter(&config);
        assert_eq!(
            filter.unwrap(),
            "(eventType sw \"group.user_membership.\" or eventType eq \"user.session.start\") and (outcome.result eq \"FAILURE\")"
        );
    }

    #[test]
    fn windows_cover_start_to_handover() {
        let w = Windows {
            start: "2026-11-29T00:00:00.000Z".into(),
            handover: "2026-11-29T02:30:00.000Z".into(),
            window_secs: 3600,
            window: 0,
            next: None,
        };
        let bounds: Vec<_> = (0..4)
            .map(|i| w.bounds(i).map(|(a, b)| (okta_time(a), okta_time(b))))
            .collect();
        assert_eq!(
            bounds,
            vec![
                Some((
                    "2026-11-29T00:00:00.000Z".into(),
                    "2026-11-29T01:00:00.000Z".into()
                )),
                Some((
                    "2026-11-29T01:00:00.000Z".into(),
                    "2026-11-29T02:00:00.000Z".into()
                )),
                Some((
                    "2026-11-29T02:00:00.000Z".into(),
                    "2026-11-29T02:30:00.000Z".into()
                )),
                None,
            ]
        );
    }

    #[test]
    fn bad_configs_are_refused() {
        let bad = |v: Value| {
            let config: Result<NewEventsConfig, _> = serde_json::from_value(v);
            match config {
                Err(e) => e.to_string(),
                Ok(c) => NewEvents::check(&c).unwrap_err(),
            }
        };
        assert!(bad(json!({"categories": ["users"]})).contains("unknown variant"));
        assert!(bad(json!({"limit": 5000})).contains("limit must be 1 to 1000"));
        assert!(bad(json!({"start": "yesterday"})).contains("neither a span"));
        assert!(bad(json!({"event_types": ["user.sesion.start"]})).contains("did you mean"));
        assert!(bad(json!({"backfill": {"parallel": 0}})).contains("parallel"));
        assert!(bad(json!({"filtr": "x"})).contains("unknown field"));
    }
}
