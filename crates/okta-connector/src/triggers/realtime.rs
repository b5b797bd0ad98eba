//! `new_events_realtime`: System Log events pushed by an Okta Event Hook to the daemon, with a
//! System Log catch-up so that nothing is lost when a delivery is.
//!
//! * The daemon's endpoint (`daemon::hooks`) writes each delivery's events into this instance's
//!   [`Inbox`] — a SQLite file in the instance's work directory, committed with
//!   `synchronous=FULL` — and only then answers Okta 200. A process killed after that answer
//!   finds the events in the inbox when it starts again.
//! * The source reads the inbox in order (its cursor holds the last row delivered), and every
//!   `catch_up` (default 5m) reads the System Log for the same event types from its own polling
//!   cursor, exactly as `new_events` does. Events the hook brought are dropped there by the runner's
//!   de-duplication on `uuid`; events a hook delivery lost (the daemon down, a delivery dropped after
//!   Okta's one retry) come in through it. Okta delivers at least once and may duplicate: the same
//!   de-duplication drops repeats.
//! * Event Hooks carry only event types Okta marks eligible; the configuration is checked against
//!   Okta's catalog, and categories expand to their eligible types (at most 300 per hook).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::params;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use super::categories::{self, Category};
use super::events::{Backfill, LogSource, Outcome, log_filter};
use super::time_spec::{Span, Start, okta_time, parse_time};
use super::{
    Batch, Next, Record, RecordDef, Source, SourceContext, SourceError, SourceFuture, Trigger,
    raw_field,
};

/// Okta's limit of event types per hook.
const MAX_HOOK_EVENT_TYPES: usize = 300;
/// Rows read from the inbox per batch.
const INBOX_BATCH: usize = 1000;

/// `new_events_realtime`.
pub struct NewEventsRealtime;

/// What `new_events_realtime` receives.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RealtimeConfig {
    /// Event categories (their Event Hook eligible types); see `triggers describe new_events`.
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Event types (each must be eligible for Event Hooks).
    #[serde(default)]
    pub event_types: Vec<String>,
    /// Outcomes to include (outcome.result), e.g. SUCCESS, FAILURE.
    #[serde(default)]
    pub results: Vec<Outcome>,
    /// When first started, the catch-up picks up events from: a span back (1h, 7d) or an instant.
    #[serde(default = "one_hour")]
    pub start: Start,
    /// How often the System Log catch-up runs (it fills whatever a lost delivery missed).
    #[serde(default = "five_minutes")]
    pub catch_up: Span,
    /// The address Okta reaches this daemon at, e.g. https://connector.example.com; the hook's URL
    /// is {public_url}/hooks/{instance name}. https, except on loopback.
    pub public_url: String,
    /// The environment variable holding the shared secret Okta sends in the Authorization header.
    pub secret_env: String,
    /// Create (or update), verify and activate the Event Hook in Okta when `serve` starts.
    #[serde(default = "yes")]
    pub register: bool,
}

fn one_hour() -> Start {
    Start::Ago(Span(Duration::from_secs(3600)))
}
fn five_minutes() -> Span {
    Span(Duration::from_secs(300))
}
fn yes() -> bool {
    true
}

impl RealtimeConfig {
    /// The event types the hook subscribes to: the categories' eligible types and the listed ones.
    pub fn hook_event_types(&self) -> Vec<String> {
        let mut types: Vec<String> = categories::catalog()
            .filter(|(id, eligible)| {
                *eligible
                    && self
                        .categories
                        .iter()
                        .any(|c| c.prefixes().iter().any(|p| id.starts_with(p)))
            })
            .map(|(id, _)| id.to_string())
            .collect();
        for t in &self.event_types {
            if !types.contains(t) {
                types.push(t.clone());
            }
        }
        types.sort();
        types
    }

    /// The hook's URL for an instance.
    pub fn hook_url(&self, instance: &str) -> String {
        format!("{}/hooks/{instance}", self.public_url.trim_end_matches('/'))
    }
}

impl Trigger for NewEventsRealtime {
    type Config = RealtimeConfig;
    const NAME: &'static str = "new_events_realtime";
    const SUMMARY: &'static str = "System Log events pushed by an Okta Event Hook to `serve` as they happen, with a System Log catch-up so none is lost.";
    const RECORD: RecordDef = RecordDef {
        object: "LogEvent",
        shape: None,
        id: "the event's uuid",
        details: None,
    };

    fn check(config: &RealtimeConfig) -> Result<(), String> {
        if config.categories.is_empty() && config.event_types.is_empty() {
            return Err("an Event Hook needs event types: give categories or event_types".into());
        }
        for t in &config.event_types {
            categories::check_event_type(t)?;
            if !categories::catalog().any(|(id, eligible)| id == t && eligible) {
                return Err(format!(
                    "{t} is not eligible for Event Hooks (Okta delivers only the types it marks \
                     eligible); use new_events to poll it"
                ));
            }
        }
        let types = config.hook_event_types();
        if types.len() > MAX_HOOK_EVENT_TYPES {
            return Err(format!(
                "these categories and event types come to {} eligible event types; an Event Hook \
                 takes at most {MAX_HOOK_EVENT_TYPES}: narrow them",
                types.len()
            ));
        }
        let url: url::Url = config.public_url.parse().map_err(|e| {
            format!(
                "public_url '{}' is not a URL ({e}): write e.g. https://connector.example.com",
                config.public_url
            )
        })?;
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(format!(
                "public_url '{}' must be a plain address: no query, fragment or credentials",
                config.public_url
            ));
        }
        let loopback = url.host_str().is_some_and(|h| {
            h == "localhost"
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        if url.scheme() != "https" && !loopback {
            return Err(format!(
                "public_url {} must be https: Okta delivers Event Hooks over https only",
                config.public_url
            ));
        }
        if config.catch_up.0 < Duration::from_secs(1) {
            return Err("catch_up must be at least 1s".into());
        }
        Ok(())
    }

    fn source(config: RealtimeConfig) -> Box<dyn Source> {
        let filter = log_filter(&[], &config.hook_event_types(), &config.results, None);
        let log = LogSource::new(filter, config.start, Backfill::default(), 1000, None);
        Box::new(RealtimeSource {
            types: config.hook_event_types(),
            results: config.results.iter().map(|r| r.as_str()).collect(),
            catch_up: config.catch_up.0,
            log,
            inbox: None,
            caught_up_since_start: false,
        })
    }
}

/// Where a real-time trigger stands: the last inbox row delivered, the catch-up's own System Log
/// cursor, and when the catch-up runs next.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cursor {
    inbox: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    log: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    catch_up_at: Option<String>,
}

struct RealtimeSource {
    types: Vec<String>,
    results: Vec<&'static str>,
    catch_up: Duration,
    log: LogSource,
    inbox: Option<Arc<Inbox>>,
    /// Whether a catch-up finished since this source was built: a (re)start catches up at once, so
    /// whatever happened while the daemon was down comes in without waiting for the schedule.
    caught_up_since_start: bool,
}

impl Source for RealtimeSource {
    fn next<'a>(
        &'a mut self,
        ctx: &'a SourceContext,
        cursor: Option<&'a Value>,
    ) -> SourceFuture<'a> {
        Box::pin(async move {
            let mut cursor: Cursor = match cursor {
                None => Cursor::default(),
                Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
                    SourceError::Invalid(format!(
                        "the stored cursor is not a real-time trigger's ({e}); reset the trigger"
                    ))
                })?,
            };
            let inbox = match &self.inbox {
                Some(inbox) => inbox.clone(),
                None => {
                    let inbox = Inbox::open(&ctx.work_dir).map_err(SourceError::Local)?;
                    self.inbox = Some(inbox.clone());
                    inbox
                }
            };
            // Rows up to the cursor were committed: they can go.
            let done = cursor.inbox;
            let pruning = inbox.clone();
            tokio::task::spawn_blocking(move || pruning.prune_through(done))
                .await
                .map_err(|e| SourceError::Local(e.into()))?
                .map_err(SourceError::Local)?;
            loop {
                let after = cursor.inbox;
                let reading = inbox.clone();
                let rows =
                    tokio::task::spawn_blocking(move || reading.read_after(after, INBOX_BATCH))
                        .await
                        .map_err(|e| SourceError::Local(e.into()))?
                        .map_err(SourceError::Local)?;
                if let Some((last, _)) = rows.last() {
                    cursor.inbox = *last;
                    let records = rows
                        .into_iter()
                        .map(|(_, event)| self.record(event))
                        .collect::<Result<Vec<_>, _>>()?
                        .into_iter()
                        .flatten()
                        .collect();
                    return Ok(Batch {
                        records,
                        cursor: to_value(&cursor),
                        next: Next::Now,
                    });
                }
                let now = ctx.now();
                let due = match cursor.catch_up_at.as_deref().and_then(parse_time) {
                    Some(at) if self.caught_up_since_start => at,
                    _ => now,
                };
                if now >= due {
                    let page = self.log.next(ctx, cursor.log.as_ref()).await?;
                    cursor.log = Some(page.cursor);
                    if page.next != Next::Now {
                        cursor.catch_up_at = Some(okta_time(now + self.catch_up));
                        self.caught_up_since_start = true;
                    }
                    return Ok(Batch {
                        records: page.records,
                        cursor: to_value(&cursor),
                        next: Next::Now,
                    });
                }
                // Nothing to do until a delivery arrives or the catch-up is due.
                let wait: Duration = (due - now).try_into().unwrap_or(Duration::ZERO);
                tokio::select! {
                    _ = inbox.arrived() => {}
                    _ = ctx.sleep(wait) => {}
                }
            }
        })
    }
}

impl RealtimeSource {
    /// A record for an event from the hook, if it is one this trigger wants.
    fn record(&self, event: Box<RawValue>) -> Result<Option<Record>, SourceError> {
        #[derive(Deserialize)]
        struct Fields {
            uuid: String,
            #[serde(rename = "eventType", default)]
            event_type: String,
            #[serde(default)]
            outcome: Option<OutcomeField>,
        }
        #[derive(Deserialize)]
        struct OutcomeField {
            result: Option<String>,
        }
        let fields: Fields = raw_field(&event)?;
        let wanted_type = self.types.contains(&fields.event_type);
        let wanted_result = self.results.is_empty()
            || fields
                .outcome
                .and_then(|o| o.result)
                .is_some_and(|r| self.results.contains(&r.as_str()));
        Ok((wanted_type && wanted_result).then_some(Record {
            id: fields.uuid,
            object: event,
            details: None,
        }))
    }
}

fn to_value(cursor: &Cursor) -> Value {
    serde_json::to_value(cursor).unwrap_or(Value::Null)
}

/// Events received by a hook endpoint and not yet delivered: `inbox.db` in the instance's work
/// directory. One per directory in the process (the endpoint and the source share it).
pub struct Inbox {
    db: Mutex<rusqlite::Connection>,
    arrived: tokio::sync::Notify,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox").finish_non_exhaustive()
    }
}

impl Inbox {
    /// The inbox of the instance whose work directory is `work_dir`.
    pub fn open(work_dir: &Path) -> anyhow::Result<Arc<Inbox>> {
        static OPEN: Mutex<Option<HashMap<PathBuf, Weak<Inbox>>>> = Mutex::new(None);
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        let open = open.get_or_insert_with(HashMap::new);
        if let Some(inbox) = open.get(work_dir).and_then(Weak::upgrade) {
            return Ok(inbox);
        }
        crate::connections::crypto::create_private_dir(work_dir)?;
        let path = work_dir.join("inbox.db");
        let db = rusqlite::Connection::open(&path)
            .with_context(|| format!("cannot open the hook inbox {}", path.display()))?;
        db.busy_timeout(Duration::from_secs(10))?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        // Okta is told 200 only after the commit: it must survive a power loss too.
        db.pragma_update(None, "synchronous", "FULL")?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS events (
                 seq       INTEGER PRIMARY KEY AUTOINCREMENT,
                 received  INTEGER NOT NULL,
                 body      TEXT NOT NULL
             );",
        )
        .context("cannot prepare the hook inbox")?;
        let inbox = Arc::new(Inbox {
            db: Mutex::new(db),
            arrived: tokio::sync::Notify::new(),
        });
        open.insert(work_dir.to_path_buf(), Arc::downgrade(&inbox));
        Ok(inbox)
    }

    /// Stores events durably (one transaction), then wakes the source. Blocking: call it off the
    /// async workers.
    pub fn append(&self, events: &[&RawValue], received: OffsetDateTime) -> anyhow::Result<()> {
        let ms = (received.unix_timestamp_nanos() / 1_000_000) as i64;
        {
            let mut db = self.db.lock().unwrap_or_else(|e| e.into_inner());
            let tx = db.transaction()?;
            {
                let mut insert =
                    tx.prepare_cached("INSERT INTO events (received, body) VALUES (?1, ?2)")?;
                for event in events {
                    insert.execute(params![ms, event.get()])?;
                }
            }
            tx.commit()?;
        }
        self.arrived.notify_one();
        Ok(())
    }

    /// Up to `limit` events after row `seq`, in order.
    fn read_after(&self, seq: i64, limit: usize) -> anyhow::Result<Vec<(i64, Box<RawValue>)>> {
        let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt =
            db.prepare_cached("SELECT seq, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
        let rows = stmt.query_map(params![seq, limit as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        rows.map(|row| {
            let (seq, body) = row?;
            Ok((seq, RawValue::from_string(body)?))
        })
        .collect()
    }

    /// Forgets rows up to `seq` (delivered and committed).
    fn prune_through(&self, seq: i64) -> anyhow::Result<()> {
        let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        db.execute("DELETE FROM events WHERE seq <= ?1", [seq])?;
        Ok(())
    }

    /// Events waiting (for /readyz and tests).
    pub fn pending(&self) -> anyhow::Result<u64> {
        let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        Ok(db.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))? as u64)
    }

    async fn arrived(&self) {
        self.arrived.notified().await
    }
}
