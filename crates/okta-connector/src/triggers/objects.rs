//! Triggers over users and groups: new_user, updated_user, new_group.
//!
//! Each reads one list (`/api/v1/users` or `/api/v1/groups`) with a `search` on one timestamp
//! (`created` or `lastUpdated`), sorted ascending on it. Why `search` and not `filter`: only
//! `search` can read `created` (the users filter knows `lastUpdated` only, the groups filter no
//! `created`), only `search` sorts (`sortBy` is "for search queries only"), and the user's extra
//! condition (`profile.department eq "Sales"`) is a search expression. The price: search results
//! come from "an eventually consistent datasource", hence the `lag` below.
//!
//! **Keyset paging.** Every call asks afresh for `{field} ge "{position}"` and takes one page,
//! instead of following Okta's `next` link across calls. A `next` link is a position in one
//! result set (the simulator's sorted-search cursor is an offset): an update that moves a user to
//! the end, or a deletion, between two pages would shift the set and skip an object. A query from
//! the timestamp itself cannot skip: whatever changed, everything at or after it is read again.
//!
//! **Ties.** Timestamps are milliseconds and several objects may share one (a bulk import, a
//! frozen clock). The position is therefore a timestamp *and* the ids already delivered at exactly
//! that timestamp: the next query uses `ge` and drops those ids, so an object sharing the
//! millisecond of the last one delivered is neither missed (as `gt` would) nor repeated. When more
//! objects share one millisecond than fit a page, the query's first pages hold only delivered
//! ones; those pages are followed by their `next` link (Okta orders equal keys by id) until a new
//! object or the end, so progress never stalls. The cost of `ge`: a page re-reads the objects of
//! its first millisecond already delivered, so it brings up to `limit` new objects, usually one
//! fewer. The ids kept are only those of one millisecond, so the cursor stays small.
//!
//! **Lag.** A late-indexed object can appear with a timestamp behind the position. So each poll
//! cycle (what follows a `CaughtUp`) starts `lag` before the high-water mark and reads forward
//! again; the objects it re-reads carry the same record ids (the object id, or
//! `{id}@{lastUpdated}` for updates) and the runner's de-duplication drops them. With `lag` `0s`
//! the source is exact on its own (no re-reads) but trusts the index to be current. An object
//! indexed later than `lag` after its timestamp is missed: that is the bound the lag buys.
//!
//! **Start.** On the very first call the scan starts at `start` (resolved on the runner's clock;
//! every later position is one of Okta's own timestamps, so clock skew matters only there).

use std::borrow::Cow;
use std::time::Duration;

use futures_util::StreamExt;
use okta_client::Query;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use super::time_spec::{Span, Start, okta_time, parse_time};
use super::{
    Batch, Next, Record, RecordDef, Source, SourceContext, SourceError, SourceFuture, Trigger,
    raw_field,
};

/// Okta's largest users page, and the largest page the docs recommend for groups.
const MAX_LIMIT: u32 = 200;
/// Objects have no retention limit: a start may go back as far as the user likes (a century).
const NO_RETENTION: Duration = Duration::from_secs(100 * 365 * 86_400);

/// The configuration of new_user, updated_user and new_group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectTriggerConfig {
    /// When first started, pick up objects created (updated_user: updated) since then: a span
    /// back from the first start (`1h`, `7d`) or an RFC 3339 instant. Default `1h`.
    #[serde(default = "default_start")]
    #[schemars(extend("default" = "1h"))]
    pub start: Start,
    /// An extra Okta search expression, ANDed with the time condition, e.g.
    /// `profile.department eq "Sales"` or `type eq "OKTA_GROUP"`. Okta judges it: one it refuses
    /// stops the trigger with Okta's message.
    #[serde(default)]
    pub search: Option<String>,
    /// Page size, 1–200. Default 200.
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 200))]
    pub limit: u32,
    /// Safety lag for Okta's eventually consistent search: each poll re-reads from this long
    /// before the newest timestamp delivered, so an object indexed late is still picked up (the
    /// re-read ones have the same record ids and are de-duplicated). `0s` re-reads nothing.
    /// Default `1m`.
    #[serde(default = "default_lag")]
    #[schemars(extend("default" = "1m"))]
    pub lag: Span,
}

fn default_start() -> Start {
    Start::Ago(Span(Duration::from_secs(3600)))
}

fn default_limit() -> u32 {
    MAX_LIMIT
}

fn default_lag() -> Span {
    Span(Duration::from_secs(60))
}

fn check(config: &ObjectTriggerConfig) -> Result<(), String> {
    if !(1..=MAX_LIMIT).contains(&config.limit) {
        return Err(format!(
            "limit must be between 1 and {MAX_LIMIT} (Okta's largest page), got {}",
            config.limit
        ));
    }
    if config
        .search
        .as_deref()
        .is_some_and(|s| s.trim().is_empty())
    {
        return Err(
            "search is empty: leave it out, or write an expression such as \
             profile.department eq \"Sales\""
                .into(),
        );
    }
    Ok(())
}

/// What distinguishes the three triggers.
struct Kind {
    trigger: &'static str,
    path: &'static str,
    /// The timestamp the trigger follows: `created` or `lastUpdated`.
    field: &'static str,
    /// Whether the record id carries the version: `{id}@{lastUpdated}`.
    versioned: bool,
}

const NEW_USER: Kind = Kind {
    trigger: "new_user",
    path: "/api/v1/users",
    field: "created",
    versioned: false,
};

const UPDATED_USER: Kind = Kind {
    trigger: "updated_user",
    path: "/api/v1/users",
    field: "lastUpdated",
    versioned: true,
};

const NEW_GROUP: Kind = Kind {
    trigger: "new_group",
    path: "/api/v1/groups",
    field: "created",
    versioned: false,
};

pub struct NewUser;

impl Trigger for NewUser {
    type Config = ObjectTriggerConfig;
    const NAME: &'static str = NEW_USER.trigger;
    const SUMMARY: &'static str =
        "Users created since the cursor (a users search on created, oldest first).";
    const RECORD: RecordDef = RecordDef {
        object: "User",
        shape: None,
        id: "the user id",
        details: None,
    };
    fn check(config: &ObjectTriggerConfig) -> Result<(), String> {
        check(config)
    }
    fn source(config: ObjectTriggerConfig) -> Box<dyn Source> {
        Box::new(ObjectSource {
            kind: &NEW_USER,
            config,
        })
    }
}

pub struct UpdatedUser;

impl Trigger for UpdatedUser {
    type Config = ObjectTriggerConfig;
    const NAME: &'static str = UPDATED_USER.trigger;
    const SUMMARY: &'static str = "Users whose lastUpdated moved past the cursor (creations \
         included), each version once; re-reads a safety lag for late-indexed updates.";
    const RECORD: RecordDef = RecordDef {
        object: "User",
        shape: None,
        id: "{user id}@{lastUpdated}",
        details: None,
    };
    fn check(config: &ObjectTriggerConfig) -> Result<(), String> {
        check(config)
    }
    fn source(config: ObjectTriggerConfig) -> Box<dyn Source> {
        Box::new(ObjectSource {
            kind: &UPDATED_USER,
            config,
        })
    }
}

pub struct NewGroup;

impl Trigger for NewGroup {
    type Config = ObjectTriggerConfig;
    const NAME: &'static str = NEW_GROUP.trigger;
    const SUMMARY: &'static str =
        "Groups created since the cursor (a groups search on created, oldest first).";
    const RECORD: RecordDef = RecordDef {
        object: "Group",
        shape: None,
        id: "the group id",
        details: None,
    };
    fn check(config: &ObjectTriggerConfig) -> Result<(), String> {
        check(config)
    }
    fn source(config: ObjectTriggerConfig) -> Box<dyn Source> {
        Box::new(ObjectSource {
            kind: &NEW_GROUP,
            config,
        })
    }
}

/// A position on the trigger's timestamp: the instant (milliseconds) and the ids already
/// delivered at exactly that instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Mark {
    at: String,
    #[serde(default)]
    ids: Vec<String>,
}

/// The cursor, as stored by the runner:
/// `{"at": "...", "ids": [...], "scan": {"at": "...", "ids": [...]}}`.
/// `at`/`ids` are the high-water mark (the newest timestamp delivered); `scan`, present while a
/// poll cycle has pages left, is where the next page starts. Without `scan` a new cycle starts at
/// the high-water mark minus `lag`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Cursor {
    #[serde(flatten)]
    high: Mark,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scan: Option<Mark>,
}

/// A [`Mark`] parsed.
#[derive(Clone, Debug)]
struct Position {
    at: OffsetDateTime,
    ids: Vec<String>,
}

impl Position {
    fn parse(mark: &Mark, trigger: &str) -> Result<Position, SourceError> {
        let at = parse_time(&mark.at).ok_or_else(|| {
            SourceError::Invalid(format!(
                "the {trigger} cursor holds '{}', which is not an RFC 3339 instant; \
                 reset the trigger's state to start again",
                mark.at
            ))
        })?;
        Ok(Position {
            at: to_ms(at),
            ids: mark.ids.clone(),
        })
    }

    fn mark(&self) -> Mark {
        Mark {
            at: okta_time(self.at),
            ids: self.ids.clone(),
        }
    }

    /// Whether the object at `at` with `id` is at or before this position.
    fn covers(&self, at: OffsetDateTime, id: &str) -> bool {
        at < self.at || (at == self.at && self.ids.iter().any(|i| i == id))
    }

    /// Moves past the object at `at` with `id` (never backwards).
    fn advance(&mut self, at: OffsetDateTime, id: &str) {
        if at > self.at {
            self.at = at;
            self.ids = vec![id.to_string()];
        } else if at == self.at && !self.ids.iter().any(|i| i == id) {
            self.ids.push(id.to_string());
        }
    }
}

/// Okta writes milliseconds; positions compare at that precision whatever a timestamp carries, so
/// a position written back as `okta_time` compares equal to the timestamp it came from.
fn to_ms(at: OffsetDateTime) -> OffsetDateTime {
    let ms = at.nanosecond() / 1_000_000 * 1_000_000;
    at.replace_nanosecond(ms).unwrap_or(at)
}

/// The fields a record needs, read without building the object.
#[derive(Deserialize)]
struct Stamp<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    created: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "lastUpdated")]
    last_updated: Option<Cow<'a, str>>,
}

struct ObjectSource {
    kind: &'static Kind,
    config: ObjectTriggerConfig,
}

impl Source for ObjectSource {
    fn next<'a>(
        &'a mut self,
        ctx: &'a SourceContext,
        cursor: Option<&'a Value>,
    ) -> SourceFuture<'a> {
        Box::pin(self.read(ctx, cursor))
    }
}

impl ObjectSource {
    async fn read(
        &self,
        ctx: &SourceContext,
        cursor: Option<&Value>,
    ) -> Result<Batch, SourceError> {
        let trigger = self.kind.trigger;
        let (mut high, from) = match cursor {
            None => {
                // The first start reads from `start` itself: the lag is for re-reading what
                // was delivered, and nothing was.
                let at = to_ms(self.config.start.resolve(ctx.now(), NO_RETENTION));
                let start = Position { at, ids: vec![] };
                (start.clone(), start)
            }
            Some(value) => {
                let cursor: Cursor = serde_json::from_value(value.clone()).map_err(|e| {
                    SourceError::Invalid(format!(
                        "the {trigger} cursor cannot be read ({e}); reset the trigger's state \
                         to start again"
                    ))
                })?;
                let high = Position::parse(&cursor.high, trigger)?;
                let from = match &cursor.scan {
                    Some(scan) => Position::parse(scan, trigger)?,
                    None if self.config.lag.0.is_zero() => high.clone(),
                    None => Position {
                        at: high.at - self.config.lag.0,
                        ids: vec![],
                    },
                };
                (high, from)
            }
        };

        let mut search = format!("{} ge \"{}\"", self.kind.field, okta_time(from.at));
        if let Some(extra) = &self.config.search {
            search = format!("{search} and ({extra})");
        }
        let query = Query::new()
            .push("search", search)
            .push("sortBy", self.kind.field)
            .push("sortOrder", "asc")
            .push("limit", self.config.limit);
        let mut pages = ctx.client.pages::<Box<RawValue>>(self.kind.path, query);

        let mut scan = from.clone();
        let mut records = Vec::new();
        let mut more = false;
        while let Some(page) = pages.next().await {
            let page = page?;
            more = page.next.is_some();
            for object in page.items {
                let stamp: Stamp = raw_field(&object)?;
                let at = self.timestamp(&stamp)?;
                if from.covers(at, &stamp.id) {
                    continue;
                }
                scan.advance(at, &stamp.id);
                high.advance(at, &stamp.id);
                let id = if self.kind.versioned {
                    format!("{}@{}", stamp.id, self.raw_timestamp(&stamp)?)
                } else {
                    stamp.id.to_string()
                };
                drop(stamp);
                records.push(Record {
                    id,
                    object,
                    details: None,
                });
            }
            // A page of only delivered objects (ties filling whole pages) is not progress: read
            // on. Anything new ends the call, so one call returns at most about one page.
            if !records.is_empty() || !more {
                break;
            }
        }

        let (scan, next) = if more {
            (Some(scan.mark()), Next::Now)
        } else {
            (None, Next::CaughtUp)
        };
        let cursor = Cursor {
            high: high.mark(),
            scan,
        };
        Ok(Batch {
            records,
            cursor: serde_json::to_value(cursor).map_err(|e| SourceError::Local(e.into()))?,
            next,
        })
    }

    fn raw_timestamp<'s>(&self, stamp: &'s Stamp<'_>) -> Result<&'s str, SourceError> {
        let value = match self.kind.field {
            "created" => stamp.created.as_deref(),
            _ => stamp.last_updated.as_deref(),
        };
        value.ok_or_else(|| {
            decode_error(format!(
                "Okta sent object {} without `{}`",
                stamp.id, self.kind.field
            ))
        })
    }

    fn timestamp(&self, stamp: &Stamp<'_>) -> Result<OffsetDateTime, SourceError> {
        let raw = self.raw_timestamp(stamp)?;
        parse_time(raw).map(to_ms).ok_or_else(|| {
            decode_error(format!(
                "Okta sent object {} with `{}` '{raw}', not an RFC 3339 instant",
                stamp.id, self.kind.field
            ))
        })
    }
}

fn decode_error(message: String) -> SourceError {
    SourceError::Okta(Box::new(okta_client::Error::new(
        okta_client::ErrorKind::Decode,
        message,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> OffsetDateTime {
        parse_time(s).unwrap()
    }

    #[test]
    fn positions_advance_over_ties_and_never_back() {
        let mut p = Position {
            at: at("2026-01-01T00:00:00.000Z"),
            ids: vec![],
        };
        p.advance(at("2026-01-01T00:00:00.005Z"), "a");
        p.advance(at("2026-01-01T00:00:00.005Z"), "b");
        p.advance(at("2026-01-01T00:00:00.005Z"), "a");
        assert_eq!(p.ids, ["a", "b"]);
        p.advance(at("2026-01-01T00:00:00.001Z"), "c");
        assert_eq!(okta_time(p.at), "2026-01-01T00:00:00.005Z");
        assert!(p.covers(at("2026-01-01T00:00:00.005Z"), "b"));
        assert!(!p.covers(at("2026-01-01T00:00:00.005Z"), "d"));
        assert!(p.covers(at("2026-01-01T00:00:00.004Z"), "d"));
        // Sub-millisecond digits do not make a new instant.
        assert_eq!(
            to_ms(at("2026-01-01T00:00:00.005999Z")),
            at("2026-01-01T00:00:00.005Z")
        );
    }

    #[test]
    fn cursor_round_trips_flat() {
        let c = Cursor {
            high: Mark {
                at: "2026-01-01T00:00:00.005Z".into(),
                ids: vec!["a".into()],
            },
            scan: None,
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"at": "2026-01-01T00:00:00.005Z", "ids": ["a"]})
        );
        assert_eq!(serde_json::from_value::<Cursor>(v).unwrap(), c);
    }
}
