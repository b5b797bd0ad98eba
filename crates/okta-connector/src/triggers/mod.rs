//! The trigger registry: every trigger declared once — its name, what it watches, the JSON Schema of
//! its configuration (derived from the type serde parses), what its records carry, and the [`Source`]
//! that reads them. `triggers list|describe`, `watch`, `serve` and the docs are generated from
//! [`registry`].
//!
//! A trigger is split in two so that delivery guarantees live in one place:
//! * a [`Source`] knows Okta: given the last committed cursor it reads the next [`Batch`] of records
//!   and says where to resume after them. It keeps no durable state of its own.
//! * the runner ([`runtime`]) knows durability: it drops records already delivered (by record id,
//!   within a window), hands the rest to a sink, and commits the new cursor only once the sink has
//!   acknowledged them (at least once; see `runtime` for why nothing is lost or delivered twice).

pub mod categories;
pub mod events;
pub mod objects;
pub mod realtime;
pub mod runtime;
pub mod scheduled;
pub mod state;
pub mod time_spec;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use okta_client::{Client, Clock};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;
use time::OffsetDateTime;

/// One record a trigger emits: an Okta object exactly as Okta sent it, and its stable id.
#[derive(Debug)]
pub struct Record {
    /// Stable across re-reads: the event `uuid`, the user id, `{id}@{lastUpdated}`, ...; the
    /// de-duplication key.
    pub id: String,
    /// The Okta object, untouched (the bytes Okta sent, not a re-encoding).
    pub object: Box<RawValue>,
    /// What the trigger derived from the object (e.g. which member joined which group), if anything.
    pub details: Option<Value>,
}

/// What a source read: records in delivery order, and where to resume once they are acknowledged.
#[derive(Debug)]
pub struct Batch {
    pub records: Vec<Record>,
    /// The position after these records (opaque JSON, stored as given and handed back to the next
    /// call). Committed only after the sink acknowledged `records`.
    pub cursor: Value,
    /// When to read again.
    pub next: Next,
}

/// When a source wants to be called again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// More is ready: call again at once.
    Now,
    /// Caught up: call again after the runner's poll interval.
    CaughtUp,
    /// Nothing to do before this instant (a scheduled search's next window).
    At(OffsetDateTime),
}

/// Why a source could not read.
#[derive(Debug)]
pub enum SourceError {
    /// Okta or the way to it failed. Retryable ones (429, 5xx, connection) are retried by the runner
    /// with backoff; others (a filter Okta rejects, a revoked token) stop the trigger.
    Okta(Box<okta_client::Error>),
    /// The cursor or configuration cannot be used (it says what and how to fix it); stops the trigger.
    Invalid(String),
    /// A local failure (a spool file could not be written...); retried with backoff.
    Local(anyhow::Error),
}

impl SourceError {
    /// Whether trying again later can succeed.
    pub fn retryable(&self) -> bool {
        match self {
            SourceError::Okta(e) => e.retryable,
            SourceError::Invalid(_) => false,
            SourceError::Local(_) => true,
        }
    }
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceError::Okta(e) => e.fmt(f),
            SourceError::Invalid(m) => f.write_str(m),
            SourceError::Local(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for SourceError {}

impl From<okta_client::Error> for SourceError {
    fn from(e: okta_client::Error) -> Self {
        SourceError::Okta(Box::new(e))
    }
}

pub type SourceFuture<'a> = Pin<Box<dyn Future<Output = Result<Batch, SourceError>> + Send + 'a>>;

/// What a source reads with: the connection's client, the time, and a private directory.
#[derive(Clone)]
pub struct SourceContext {
    pub client: Client,
    /// The runner's clock: sleeps go through it, and [`SourceContext::now`] is derived from it, so a
    /// test's manual clock moves the wall time too.
    pub clock: Arc<dyn Clock>,
    wall_base: OffsetDateTime,
    instant_base: Instant,
    /// A directory only this trigger instance uses (e.g. for a scheduled search's spooled window);
    /// created by the runner.
    pub work_dir: std::path::PathBuf,
}

impl SourceContext {
    pub fn new(client: Client, clock: Arc<dyn Clock>, work_dir: std::path::PathBuf) -> Self {
        SourceContext {
            instant_base: clock.now(),
            wall_base: OffsetDateTime::now_utc(),
            client,
            clock,
            work_dir,
        }
    }

    /// Wall-clock now (UTC), moving with [`SourceContext::clock`].
    pub fn now(&self) -> OffsetDateTime {
        self.wall_base
            + self
                .clock
                .now()
                .saturating_duration_since(self.instant_base)
    }

    /// Sleeps on the runner's clock.
    pub async fn sleep(&self, duration: Duration) {
        self.clock.sleep(duration).await
    }
}

/// Reads a trigger's records. Built from the trigger's validated configuration; all durable state
/// is the cursor the runner passes in (so a restarted process, given the same cursor, reads on from
/// the same place). In-memory state (prefetched pages) is allowed as long as it is only an
/// optimisation: the runner may drop a source and build a new one at any time.
pub trait Source: Send {
    /// Reads the next batch after `cursor` (`None` on the very first start).
    fn next<'a>(
        &'a mut self,
        ctx: &'a SourceContext,
        cursor: Option<&'a Value>,
    ) -> SourceFuture<'a>;
}

/// What a trigger's records are, for `triggers describe` and the docs.
#[derive(Clone, Copy, Debug)]
pub struct RecordDef {
    /// The Okta object in `record` (e.g. "LogEvent", "User"), or the name of what the trigger builds.
    pub object: &'static str,
    /// The record's fields, when the trigger builds the record itself (rather than passing Okta's
    /// object through).
    pub shape: Option<&'static str>,
    /// How the record id is made.
    pub id: &'static str,
    /// What `details` holds, when the trigger fills it.
    pub details: Option<&'static str>,
}

/// One trigger, as each module declares it.
pub trait Trigger: Sync {
    /// The configuration: its serde form is the JSON config, its schemars form the JSON Schema.
    type Config: DeserializeOwned + JsonSchema + Send + 'static;
    const NAME: &'static str;
    const SUMMARY: &'static str;
    const RECORD: RecordDef;
    /// Rules the schema cannot say, checked before anything is read.
    fn check(_config: &Self::Config) -> Result<(), String> {
        Ok(())
    }
    fn source(config: Self::Config) -> Box<dyn Source>;
}

/// A trigger with its configuration type erased, as the registry holds it.
pub struct TriggerDef {
    pub name: &'static str,
    pub summary: &'static str,
    pub record: RecordDef,
    config_schema: fn() -> Value,
    build: fn(Value) -> Result<Box<dyn Source>, String>,
}

impl std::fmt::Debug for TriggerDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TriggerDef").field(&self.name).finish()
    }
}

impl TriggerDef {
    const fn of<T: Trigger>() -> TriggerDef {
        TriggerDef {
            name: T::NAME,
            summary: T::SUMMARY,
            record: T::RECORD,
            config_schema: crate::actions::json_schema_of::<T::Config>,
            build: build::<T>,
        }
    }

    /// The JSON Schema of the configuration.
    pub fn config_schema(&self) -> Value {
        (self.config_schema)()
    }

    /// Validates a configuration (`null` is "all defaults") and builds the source. Nothing is read
    /// from Okta here.
    pub fn source(&self, config: Value) -> Result<Box<dyn Source>, String> {
        (self.build)(config)
    }
}

fn build<T: Trigger>(config: Value) -> Result<Box<dyn Source>, String> {
    let config = if config.is_null() {
        Value::Object(Default::default())
    } else {
        config
    };
    let parsed: T::Config = serde_json::from_value(config).map_err(|e| e.to_string())?;
    T::check(&parsed)?;
    Ok(T::source(parsed))
}

/// Every trigger, in the order `triggers list` shows them.
pub fn registry() -> &'static [TriggerDef] {
    static REGISTRY: &[TriggerDef] = &[
        TriggerDef::of::<events::NewEvents>(),
        TriggerDef::of::<realtime::NewEventsRealtime>(),
        TriggerDef::of::<scheduled::ScheduledEventSearch>(),
        TriggerDef::of::<objects::NewUser>(),
        TriggerDef::of::<objects::UpdatedUser>(),
        TriggerDef::of::<objects::NewGroup>(),
        TriggerDef::of::<events::GroupMembershipChanged>(),
        TriggerDef::of::<events::DeletedObjects>(),
    ];
    REGISTRY
}

/// The trigger with this name.
pub fn find(name: &str) -> Option<&'static TriggerDef> {
    registry().iter().find(|t| t.name == name)
}

/// The envelope every sink receives, one per record (one NDJSON line):
/// `{"trigger","connection","id","cursor","emitted","record"[,"details"]}`.
#[derive(serde::Serialize)]
pub struct Envelope<'a> {
    pub trigger: &'a str,
    pub connection: &'a str,
    pub id: &'a str,
    /// Where the trigger resumes once this record's batch is acknowledged.
    pub cursor: &'a Value,
    /// When the runner handed the record to the sink (RFC 3339, UTC).
    pub emitted: &'a str,
    pub record: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<&'a Value>,
}

/// Parses a record's id fields out of raw JSON without building the whole object.
pub fn raw_field<'a, T: serde::Deserialize<'a>>(raw: &'a RawValue) -> Result<T, SourceError> {
    serde_json::from_str(raw.get()).map_err(|e| {
        SourceError::Okta(Box::new(okta_client::Error::new(
            okta_client::ErrorKind::Decode,
            format!("Okta sent an object this trigger cannot read: {e}"),
        )))
    })
}
