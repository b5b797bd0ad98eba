//! The trigger runner: reads batches from a [`Source`], drops records already delivered, hands the
//! rest to a [`Sink`], and commits the cursor only after the sink acknowledged them.
//!
//! Why nothing is lost: the cursor moves only in [`TriggerState::commit`], after the acknowledgement,
//! so whatever the process was doing when it died, the next start reads again from a cursor at or
//! before the first record the sink has not safely got. Failures of Okta (429 storms, 5xx, resets,
//! an expiring token: the client retries and renews inside each request) and of the sink are retried
//! here with capped exponential backoff, with the same cursor and the same batch.
//!
//! Why nothing is delivered twice: re-reads (after a crash, an overlapping backfill, an updated-user
//! lag) meet the ids committed within the de-duplication window and are dropped. The one gap is a
//! crash after the sink acknowledged and before the commit: the records are at the sink but not in
//! the window. [`Sink::recover`] closes it for sinks that can look back (the file sink returns the ids
//! it holds past the committed position); for the others (stdout, webhook, exec) such a batch is
//! delivered again and carries the same record ids, so a receiver can drop it.
//!
//! One process runs an instance at a time: a lock file in the instance's work directory is held
//! while it runs (released by the OS if the process dies).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use okta_client::{Client, Clock};
use serde_json::Value;
use tokio::sync::watch;

use super::state::{Identity, JobRecord, TriggerState};
use super::time_spec::okta_time;
use super::{Envelope, Next, Record, Source, SourceContext, TriggerDef};
use crate::sinks::{Line, Sink, SinkSpec};

/// One configured trigger: what runs, on which connection, into which sink, under which name.
#[derive(Clone, Debug)]
pub struct Instance {
    /// The state key: the same name resumes from its cursor.
    pub name: String,
    /// The connection's name, as the envelopes carry it.
    pub connection: String,
    pub trigger: &'static TriggerDef,
    pub config: Value,
    pub sink: SinkSpec,
}

/// How the runner paces itself.
#[derive(Clone, Debug)]
pub struct Options {
    /// The wait after a source caught up.
    pub interval: Duration,
    /// How long delivered record ids are remembered to drop re-reads.
    pub dedup_window: Duration,
    /// Stop once the source caught up (or its next window is in the future), instead of waiting.
    pub once: bool,
    /// The longest wait between attempts after a failure.
    pub max_backoff: Duration,
    /// Where the daemon's /metrics learns of deliveries, sink errors and lag.
    pub metrics: Option<Arc<crate::daemon::metrics::Metrics>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            interval: Duration::from_secs(15),
            dedup_window: Duration::from_secs(3600),
            once: false,
            max_backoff: Duration::from_secs(300),
            metrics: None,
        }
    }
}

/// Why a run ended without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// `once` was set and the source caught up.
    CaughtUp,
    /// Shutdown was requested (the batch in flight was finished first).
    Shutdown,
}

/// What a run did.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub stopped: Stopped,
    pub delivered: u64,
    pub duplicates: u64,
    pub batches: u64,
    /// Failed attempts (reads or deliveries) that were retried.
    pub retries: u64,
}

/// Why a run ended with an error.
#[derive(Debug)]
pub enum RunError {
    /// The configuration or the instance's stored state cannot be used; nothing was read or sent.
    Setup(anyhow::Error),
    /// Okta refused in a way retrying cannot fix (a rejected filter, a revoked credential...). The
    /// cursor stays where the last acknowledged batch left it.
    Source(super::SourceError),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Setup(e) => write!(f, "{e:#}"),
            RunError::Source(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RunError {}

/// Runs an instance until `shutdown` turns true, `options.once` and caught up, or a fatal error.
pub async fn run(
    instance: &Instance,
    client: Client,
    state_dir: &Path,
    clock: Arc<dyn Clock>,
    options: &Options,
    shutdown: watch::Receiver<bool>,
) -> Result<Summary, RunError> {
    let sink = instance.sink.open().map_err(RunError::Setup)?;
    run_with_sink(instance, sink, client, state_dir, clock, options, shutdown).await
}

/// [`run`] with a sink built by the caller (`instance.sink` then only names it).
pub async fn run_with_sink(
    instance: &Instance,
    sink: Box<dyn Sink>,
    client: Client,
    state_dir: &Path,
    clock: Arc<dyn Clock>,
    options: &Options,
    mut shutdown: watch::Receiver<bool>,
) -> Result<Summary, RunError> {
    let mut runner = Runner::start(instance, sink, client, state_dir, clock, options)
        .await
        .map_err(RunError::Setup)?;
    runner.run(&mut shutdown).await
}

/// A running instance.
struct Runner<'a> {
    instance: &'a Instance,
    options: &'a Options,
    source: Box<dyn Source>,
    sink: Box<dyn Sink>,
    state: TriggerState,
    ctx: SourceContext,
    cursor: Option<Value>,
    summary: Summary,
    /// When the source last said it had caught up (the start of the run, before).
    caught_up_at: std::time::Instant,
    /// Held for the run: one process per instance.
    _lock: std::fs::File,
}

impl<'a> Runner<'a> {
    async fn start(
        instance: &'a Instance,
        mut sink: Box<dyn Sink>,
        client: Client,
        state_dir: &Path,
        clock: Arc<dyn Clock>,
        options: &'a Options,
    ) -> anyhow::Result<Runner<'a>> {
        let source = instance
            .trigger
            .source(instance.config.clone())
            .map_err(|e| {
                anyhow::anyhow!(
                    "invalid configuration for {}: {e} (see `okta-connector triggers describe {}`)",
                    instance.trigger.name,
                    instance.trigger.name
                )
            })?;
        crate::connections::store::validate_name(&instance.name)
            .context("invalid trigger instance name")?;
        let work_dir = work_dir(state_dir, &instance.name);
        crate::connections::crypto::create_private_dir(&work_dir)?;
        let lock = lock_instance(&work_dir, &instance.name)?;
        let sink_name = sink.describe();
        let (mut state, stored) = TriggerState::open(
            state_dir,
            &Identity {
                name: &instance.name,
                connection: &instance.connection,
                trigger: instance.trigger.name,
                config: &instance.config,
                sink: &sink_name,
            },
        )?;
        let ctx = SourceContext::new(client, clock, work_dir);
        let recovered = sink
            .recover(stored.sink_position.as_deref())
            .await
            .map_err(|e| anyhow::anyhow!("cannot check the sink {sink_name}: {e}"))?;
        if !recovered.is_empty() {
            tracing::info!(
                name = instance.name,
                records = recovered.len(),
                "the sink holds records delivered before an interruption; they will not be sent again"
            );
            let now = okta_time(ctx.now());
            let job = JobRecord {
                started: &now,
                finished: &now,
                records: recovered.len() as u64,
                duplicates: 0,
                error: None,
            };
            state.remember(&recovered, now_ms(&ctx), &job)?;
        }
        Ok(Runner {
            caught_up_at: ctx.clock.now(),
            instance,
            options,
            source,
            sink,
            state,
            ctx,
            cursor: stored.cursor,
            summary: Summary {
                stopped: Stopped::Shutdown,
                delivered: 0,
                duplicates: 0,
                batches: 0,
                retries: 0,
            },
            _lock: lock,
        })
    }

    async fn run(&mut self, shutdown: &mut watch::Receiver<bool>) -> Result<Summary, RunError> {
        let mut backoff = Backoff::new(self.options.max_backoff);
        loop {
            if *shutdown.borrow() {
                return Ok(self.stop(Stopped::Shutdown));
            }
            let started = okta_time(self.ctx.now());
            // Reading can wait long (a rate-limit reset); nothing is lost by abandoning it.
            let read = tokio::select! {
                read = self.source.next(&self.ctx, self.cursor.as_ref()) => read,
                _ = shutdown.changed() => return Ok(self.stop(Stopped::Shutdown)),
            };
            let batch = match read {
                Ok(batch) => batch,
                Err(e) => {
                    self.record_failure(&started, &format!("reading: {e}"));
                    if !e.retryable() {
                        return Err(RunError::Source(e));
                    }
                    let wait = backoff.next();
                    tracing::warn!(name = self.instance.name, error = %e, wait_s = wait.as_secs_f64(), "reading failed; trying again");
                    self.summary.retries += 1;
                    if sleep(&self.ctx, wait, shutdown).await {
                        return Ok(self.stop(Stopped::Shutdown));
                    }
                    continue;
                }
            };
            backoff.reset();
            if !self
                .deliver(batch.records, &batch.cursor, &started, shutdown)
                .await?
            {
                return Ok(self.stop(Stopped::Shutdown));
            }
            self.cursor = Some(batch.cursor);
            self.report_lag(batch.next);
            let wait = match batch.next {
                Next::Now => continue,
                _ if self.options.once => return Ok(self.stop(Stopped::CaughtUp)),
                Next::CaughtUp => self.options.interval,
                Next::At(at) => (at - self.ctx.now()).try_into().unwrap_or(Duration::ZERO),
            };
            if sleep(&self.ctx, wait, shutdown).await {
                return Ok(self.stop(Stopped::Shutdown));
            }
        }
    }

    /// Delivers the new records of a batch and commits `cursor`. Returns false when shutdown came
    /// while a failing sink was being retried (nothing committed: the batch is read again next time).
    async fn deliver(
        &mut self,
        records: Vec<Record>,
        cursor: &Value,
        started: &str,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<bool, RunError> {
        let now = now_ms(&self.ctx);
        let forget_before = now - self.options.dedup_window.as_millis() as i64;
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        let seen = self
            .state
            .seen(&ids, forget_before)
            .map_err(|e| RunError::Setup(e.context("cannot read the trigger state")))?;
        // Drop what was delivered before, and repeats inside the batch itself.
        let mut taken: HashSet<&str> = HashSet::with_capacity(records.len());
        let fresh: Vec<&Record> = records
            .iter()
            .filter(|r| !seen.contains(&r.id) && taken.insert(r.id.as_str()))
            .collect();
        let duplicates = (records.len() - fresh.len()) as u64;
        if fresh.is_empty() {
            if self.cursor.as_ref() != Some(cursor) || duplicates > 0 {
                let job = (duplicates > 0).then_some(JobRecord {
                    started,
                    finished: started,
                    records: 0,
                    duplicates,
                    error: None,
                });
                self.commit(cursor, None, &[], now, forget_before, job.as_ref())?;
                self.summary.duplicates += duplicates;
            }
            return Ok(true);
        }
        let emitted = okta_time(self.ctx.now());
        let lines = fresh
            .iter()
            .map(|r| self.line(r, cursor, &emitted))
            .collect::<Result<Vec<Line>, _>>()
            .map_err(|e| RunError::Setup(anyhow::anyhow!("cannot encode a record: {e}")))?;
        let mut backoff = Backoff::new(self.options.max_backoff);
        let position = loop {
            match self.sink.deliver(&lines).await {
                Ok(position) => break position,
                Err(e) => {
                    if let Some(m) = &self.options.metrics {
                        m.sink_error(&self.instance.name, self.instance.trigger.name);
                    }
                    self.record_failure(
                        started,
                        &format!("delivering to {}: {e}", self.sink.describe()),
                    );
                    let wait = backoff.next();
                    tracing::warn!(name = self.instance.name, error = %e, wait_s = wait.as_secs_f64(), "the sink did not acknowledge; trying again");
                    self.summary.retries += 1;
                    if sleep(&self.ctx, wait, shutdown).await {
                        return Ok(false);
                    }
                }
            }
        };
        let finished = okta_time(self.ctx.now());
        let delivered: Vec<&str> = fresh.iter().map(|r| r.id.as_str()).collect();
        let job = JobRecord {
            started,
            finished: &finished,
            records: delivered.len() as u64,
            duplicates,
            error: None,
        };
        self.commit(
            cursor,
            position.as_deref(),
            &delivered,
            now,
            forget_before,
            Some(&job),
        )?;
        self.summary.delivered += delivered.len() as u64;
        self.summary.duplicates += duplicates;
        self.summary.batches += 1;
        if let Some(m) = &self.options.metrics {
            m.delivered(
                &self.instance.name,
                self.instance.trigger.name,
                delivered.len() as u64,
            );
        }
        tracing::info!(
            name = self.instance.name,
            records = delivered.len(),
            duplicates,
            "delivered a batch"
        );
        Ok(true)
    }

    fn line(&self, record: &Record, cursor: &Value, emitted: &str) -> serde_json::Result<Line> {
        let json = serde_json::to_string(&Envelope {
            trigger: self.instance.trigger.name,
            connection: &self.instance.connection,
            id: &record.id,
            cursor,
            emitted,
            record: &record.object,
            details: record.details.as_ref(),
        })?;
        Ok(Line {
            id: record.id.clone(),
            json,
        })
    }

    fn commit(
        &mut self,
        cursor: &Value,
        position: Option<&str>,
        delivered: &[&str],
        now: i64,
        forget_before: i64,
        job: Option<&JobRecord<'_>>,
    ) -> Result<(), RunError> {
        // The sink has the records; failing to record that would deliver them again, so this is
        // worth a loud stop rather than a silent retry loop.
        self.state
            .commit(cursor, position, delivered, now, forget_before, job)
            .map_err(|e| RunError::Setup(e.context("cannot commit the trigger's cursor")))
    }

    /// Lag for /metrics: 0 while caught up, else the time since the source last caught up (or
    /// since the run started).
    fn report_lag(&mut self, next: Next) {
        let now = self.ctx.clock.now();
        if next != Next::Now {
            self.caught_up_at = now;
        }
        if let Some(m) = &self.options.metrics {
            let behind = now.saturating_duration_since(self.caught_up_at);
            m.lag(
                &self.instance.name,
                self.instance.trigger.name,
                behind.as_secs_f64(),
            );
        }
    }

    fn record_failure(&mut self, started: &str, error: &str) {
        let finished = okta_time(self.ctx.now());
        let job = JobRecord {
            started,
            finished: &finished,
            records: 0,
            duplicates: 0,
            error: Some(error),
        };
        if let Err(e) = self.state.record_failure(&job) {
            tracing::warn!(name = self.instance.name, error = %e, "cannot record a failure in the job history");
        }
    }

    fn stop(&mut self, why: Stopped) -> Summary {
        self.summary.stopped = why;
        self.summary.clone()
    }
}

/// Sleeps on the runner's clock; true when shutdown was requested meanwhile.
async fn sleep(ctx: &SourceContext, wait: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    if wait.is_zero() {
        return *shutdown.borrow();
    }
    tokio::select! {
        _ = ctx.sleep(wait) => *shutdown.borrow(),
        _ = shutdown.changed() => true,
    }
}

/// An instance's private directory: `<state>/triggers/<name>`.
pub fn work_dir(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join("triggers").join(name)
}

fn lock_instance(work_dir: &Path, name: &str) -> anyhow::Result<std::fs::File> {
    let path = work_dir.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "the trigger instance '{name}' is already running in another process (a `watch` or \
             `serve`); stop it first, or give this one another --name"
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

fn now_ms(ctx: &SourceContext) -> i64 {
    (ctx.now().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Capped exponential backoff with full jitter: 1 s, 2 s, 4 s ... up to `max`.
struct Backoff {
    attempt: u32,
    max: Duration,
}

impl Backoff {
    fn new(max: Duration) -> Self {
        Backoff { attempt: 0, max }
    }

    fn next(&mut self) -> Duration {
        let ceiling = Duration::from_secs(1u64 << self.attempt.min(16)).min(self.max);
        self.attempt += 1;
        // Full jitter keeps many instances of a daemon from retrying in step; never below 100 ms.
        let mut byte = [0u8; 2];
        let _ = getrandom::fill(&mut byte);
        let fraction = f64::from(u16::from_le_bytes(byte)) / f64::from(u16::MAX);
        ceiling
            .mul_f64(fraction)
            .max(Duration::from_millis(100).min(ceiling))
    }

    fn reset(&mut self) {
        self.attempt = 0;
    }
}
