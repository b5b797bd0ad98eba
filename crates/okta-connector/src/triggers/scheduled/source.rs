//! The scheduled search's [`Source`]: which window is next, reading it into a spool, and one batch
//! record per call.
//!
//! The cursor (camelCase JSON):
//! `{"done": T}` — every window up to scheduled time T is delivered (on the first start, T is the
//! last scheduled time before `start` or now, so the first window is the one after it);
//! `{"done": T, "window": {"scheduledTime", "querySince", "nextBatch", "endOffset", "totalCount",
//! "lastRecordId"}}` — the window ending at `scheduledTime` is being delivered and batch `nextBatch`
//! (starting at event `endOffset`) comes next. The spool of a window is deleted when a call arrives
//! with a cursor past the window's last batch, i.e. once the runner committed it.

use std::time::Duration;

use futures_util::StreamExt;
use jiff::Timestamp;
use okta_client::api::SortOrder;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use super::Config;
use super::calendar::Schedule;
use super::spool::{self, SpoolReader, SpoolWriter};
use crate::triggers::time_spec::{okta_time, parse_time};
use crate::triggers::{Batch, Next, Record, Source, SourceContext, SourceError, SourceFuture};

/// Okta keeps System Log events this long; a window reaching further back asks only for what
/// exists (Okta refuses a `since` more than 180 days back).
const RETENTION: Duration = Duration::from_secs(90 * 86_400);

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Cursor {
    done: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<InProgress>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InProgress {
    scheduled_time: String,
    /// The `since` the window was read with (the previous scheduled time, or the retention limit).
    query_since: String,
    next_batch: u64,
    end_offset: u64,
    total_count: u64,
    /// The uuid of the last event delivered: where to go on if the spool is lost and Okta's answer
    /// has changed since.
    last_record_id: Option<String>,
}

/// The window being delivered, resolved from the cursor.
struct Window {
    since: Timestamp,
    scheduled: Timestamp,
    query_since: Timestamp,
    batch_index: u64,
    start_offset: u64,
    /// From the cursor when resuming; `None` for a window not yet started.
    resume: Option<InProgress>,
}

pub struct ScheduledSource {
    config: Config,
    schedule: Result<Schedule, String>,
    /// The spool left open at the position after the last batch returned: an optimisation only,
    /// used when the next call's cursor points exactly there.
    open: Option<SpoolReader>,
}

impl ScheduledSource {
    pub fn new(config: Config) -> Self {
        ScheduledSource {
            schedule: config.schedule(),
            config,
            open: None,
        }
    }

    fn spool_name(&self, scheduled: Timestamp) -> String {
        spool::name(
            scheduled.as_millisecond(),
            self.filter(),
            self.config.q.as_deref().filter(|q| !q.trim().is_empty()),
        )
    }

    fn filter(&self) -> Option<&str> {
        self.config
            .filter
            .as_deref()
            .filter(|f| !f.trim().is_empty())
    }

    fn settle(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::try_from(self.config.settle.0).unwrap_or(jiff::SignedDuration::ZERO)
    }

    async fn run(
        &mut self,
        ctx: &SourceContext,
        cursor: Option<&Value>,
    ) -> Result<Batch, SourceError> {
        let schedule = self.schedule.clone().map_err(SourceError::Invalid)?;
        let now_odt = ctx.now();
        let now = to_jiff(now_odt);
        let cursor = match cursor {
            Some(value) => parse_cursor(value)?,
            None => {
                let from = match self.config.start {
                    Some(start) => to_jiff(start.resolve(now_odt, RETENTION)),
                    None => now,
                };
                Cursor {
                    done: text(no_run(schedule.last_at_or_before(from))?),
                    window: None,
                }
            }
        };
        let done = time_of(&cursor.done)?;
        let window = match cursor.window {
            Some(w) => {
                let scheduled = time_of(&w.scheduled_time)?;
                Window {
                    since: done,
                    scheduled,
                    query_since: time_of(&w.query_since)?,
                    batch_index: w.next_batch,
                    start_offset: w.end_offset,
                    resume: Some(w),
                }
            }
            None => {
                let scheduled = no_run(schedule.next_after(done))?;
                let due = scheduled + self.settle();
                self.sweep(ctx, done, scheduled)?;
                if now < due {
                    return Ok(Batch {
                        records: Vec::new(),
                        cursor: cursor_value(&Cursor {
                            done: cursor.done,
                            window: None,
                        }),
                        next: Next::At(to_time(due)),
                    });
                }
                let floor = to_jiff(now_odt - RETENTION);
                Window {
                    since: done,
                    scheduled,
                    query_since: done.max(floor).min(scheduled),
                    batch_index: 0,
                    start_offset: 0,
                    resume: None,
                }
            }
        };
        if window.resume.is_some() {
            self.sweep(ctx, done, window.scheduled)?;
        }
        self.deliver(ctx, &schedule, window, now).await
    }

    fn sweep(
        &self,
        ctx: &SourceContext,
        done: Timestamp,
        scheduled: Timestamp,
    ) -> Result<(), SourceError> {
        spool::sweep(
            &ctx.work_dir,
            done.as_millisecond(),
            &self.spool_name(scheduled),
        )
        .map_err(|e| local(e, "cannot clean up the spool directory"))
    }

    /// Emits the window's next batch.
    async fn deliver(
        &mut self,
        ctx: &SourceContext,
        schedule: &Schedule,
        window: Window,
        now: Timestamp,
    ) -> Result<Batch, SourceError> {
        let path = ctx.work_dir.join(self.spool_name(window.scheduled));
        let (mut reader, total, start) = self.position(ctx, &window, &path).await?;
        let batch_size = u64::from(self.config.batch_size);
        let events = reader
            .read(batch_size)
            .map_err(|e| local(e, "cannot read the spooled window"))?;
        let end = start + events.len() as u64;
        let last_batch = end >= total;
        let ids: Vec<Option<String>> = [events.first(), events.last()]
            .into_iter()
            .map(|e| e.and_then(|e| spool::uuid_of(e)))
            .collect();
        let scheduled_text = text(window.scheduled);
        let object = BatchObject {
            scheduled_time: &scheduled_text,
            range: Range {
                since: text(window.since),
                until: scheduled_text.clone(),
            },
            batch_index: window.batch_index,
            first_record_id: ids[0].as_deref(),
            last_record_id: ids[1].as_deref(),
            total_count: total,
            first_batch: window.batch_index == 0,
            last_batch,
            start_offset: start,
            end_offset: end,
            events: &events,
        };
        let object = serde_json::to_string(&object)
            .and_then(RawValue::from_string)
            .map_err(|e| SourceError::Local(e.into()))?;
        let record = Record {
            id: format!("{scheduled_text}#{}", window.batch_index),
            object,
            details: None,
        };
        let (cursor, next) = if last_batch {
            self.open = None;
            let following = no_run(schedule.next_after(window.scheduled))?;
            let due = following + self.settle();
            let next = if now >= due {
                Next::Now
            } else {
                Next::At(to_time(due))
            };
            let cursor = Cursor {
                done: scheduled_text,
                window: None,
            };
            (cursor, next)
        } else {
            self.open = Some(reader);
            let cursor = Cursor {
                done: text(window.since),
                window: Some(InProgress {
                    scheduled_time: scheduled_text,
                    query_since: text(window.query_since),
                    next_batch: window.batch_index + 1,
                    end_offset: end,
                    total_count: total,
                    last_record_id: ids[1].clone(),
                }),
            };
            (cursor, Next::Now)
        };
        Ok(Batch {
            records: vec![record],
            cursor: cursor_value(&cursor),
            next,
        })
    }

    /// A reader at the window's next event, the window's total, and that event's offset: the open
    /// spool if it is there already, else the spool on disk, else a fresh read from Okta.
    async fn position(
        &mut self,
        ctx: &SourceContext,
        window: &Window,
        path: &std::path::Path,
    ) -> Result<(SpoolReader, u64, u64), SourceError> {
        let expected_total = window.resume.as_ref().map(|w| w.total_count);
        if let Some(open) = self.open.take()
            && open.path == path
            && open.position == window.start_offset
            && let Some(total) = expected_total
        {
            return Ok((open, total, window.start_offset));
        }
        let io = |e| local(e, "cannot read the spooled window");
        if let Some(mut reader) = SpoolReader::open(path).map_err(io)? {
            let total = SpoolReader::count(path).map_err(io)?;
            // A spool that does not match the cursor is not this window's: read the window again.
            if expected_total.is_none_or(|t| t == total)
                && reader.skip_to(window.start_offset).map_err(io)?
            {
                return Ok((reader, total, window.start_offset));
            }
        }
        let total = self.read_window(ctx, window, path).await?;
        // Mid-window with the spool lost: go on after the last event delivered, wherever Okta's
        // answer has it now (late events may have shifted it); if it is gone, by position.
        let start = match window.resume.as_ref() {
            None => 0,
            Some(w) => match &w.last_record_id {
                Some(id) => SpoolReader::find(path, id)
                    .map_err(io)?
                    .map(|i| i + 1)
                    .unwrap_or(w.end_offset),
                None => w.end_offset,
            }
            .min(total),
        };
        let mut reader = SpoolReader::open(path)
            .map_err(io)?
            .ok_or_else(|| SourceError::Local(anyhow::anyhow!("the spool vanished")))?;
        reader.skip_to(start).map_err(io)?;
        Ok((reader, total, start))
    }

    /// Reads the whole window from Okta into its spool; returns the event count.
    async fn read_window(
        &self,
        ctx: &SourceContext,
        window: &Window,
        path: &std::path::Path,
    ) -> Result<u64, SourceError> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let io = |e| local(e, "cannot write the spool");
        let mut writer = SpoolWriter::create(&ctx.work_dir, &name).map_err(io)?;
        // A window wholly past Okta's retention has nothing left to read.
        if window.query_since < window.scheduled {
            let mut search = ctx
                .client
                .logs()
                .search()
                .since(text(window.query_since))
                .until(text(window.scheduled))
                .sort_order(SortOrder::Ascending)
                .limit(1000);
            if let Some(filter) = self.filter() {
                search = search.filter(filter);
            }
            if let Some(q) = self.config.q.as_deref().filter(|q| !q.trim().is_empty()) {
                search = search.q(q);
            }
            let mut pages = ctx
                .client
                .pages::<Box<RawValue>>("/api/v1/logs", search.query());
            while let Some(page) = pages.next().await {
                for event in page?.items {
                    writer.push(&event).map_err(io)?;
                }
            }
        }
        // fsync can take a while: off the async workers.
        let count = tokio::task::spawn_blocking(move || writer.finish())
            .await
            .map_err(|e| SourceError::Local(e.into()))?
            .map_err(io)?;
        tracing::info!(
            scheduled_time = %text(window.scheduled),
            since = %text(window.query_since),
            events = count,
            "scheduled_event_search: window read"
        );
        Ok(count)
    }
}

impl Source for ScheduledSource {
    fn next<'a>(
        &'a mut self,
        ctx: &'a SourceContext,
        cursor: Option<&'a Value>,
    ) -> SourceFuture<'a> {
        Box::pin(self.run(ctx, cursor))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchObject<'a> {
    scheduled_time: &'a str,
    range: Range,
    batch_index: u64,
    first_record_id: Option<&'a str>,
    last_record_id: Option<&'a str>,
    total_count: u64,
    first_batch: bool,
    last_batch: bool,
    start_offset: u64,
    end_offset: u64,
    events: &'a [Box<RawValue>],
}

#[derive(Serialize)]
struct Range {
    since: String,
    until: String,
}

fn parse_cursor(value: &Value) -> Result<Cursor, SourceError> {
    serde_json::from_value(value.clone()).map_err(|e| {
        SourceError::Invalid(format!(
            "the stored cursor is not a scheduled_event_search cursor ({e}): reset the \
             trigger's state to start it afresh"
        ))
    })
}

fn cursor_value(cursor: &Cursor) -> Value {
    serde_json::to_value(cursor).expect("a cursor serializes")
}

fn time_of(text: &str) -> Result<Timestamp, SourceError> {
    parse_time(text).map(to_jiff).ok_or_else(|| {
        SourceError::Invalid(format!(
            "the stored cursor holds '{text}', not a time: reset the trigger's state"
        ))
    })
}

fn no_run(t: Option<Timestamp>) -> Result<Timestamp, SourceError> {
    t.ok_or_else(|| SourceError::Invalid("the schedule has no run within 800 days".into()))
}

fn local(e: std::io::Error, what: &str) -> SourceError {
    SourceError::Local(anyhow::Error::new(e).context(what.to_string()))
}

/// Okta's format: `2026-11-29T08:00:00.000Z`.
fn text(t: Timestamp) -> String {
    okta_time(to_time(t))
}

fn to_jiff(t: OffsetDateTime) -> Timestamp {
    Timestamp::from_nanosecond(t.unix_timestamp_nanos()).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn to_time(t: Timestamp) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(t.as_nanosecond())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
