//! One profile schema per org, kept for a TTL: a bulk run validates thousands of profiles against
//! one fetch, and concurrent callers wait for the same fetch instead of each sending their own.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use okta_client::Client;
use okta_client::clock::{Clock, TokioClock};
use serde_json::{Map, Value};

use super::{Mode, ProfileErrors, ProfileSchema};

/// How long a fetched schema is trusted.
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);

/// A profile naming unknown attributes makes [`SchemaCache::validate_profile`] fetch the schema
/// again (an admin may just have added them), but not for a schema fetched less than this long ago:
/// a bulk file full of one misspelt attribute must not fetch once per line.
pub const REFRESH_COOLDOWN: Duration = Duration::from_secs(30);

/// Profile schemas by org URL (the schema is the org's, whichever credentials read it).
pub struct SchemaCache {
    ttl: Mutex<Duration>,
    clock: Arc<dyn Clock>,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

/// One org's entry. An async lock, held across the fetch, is what makes concurrent callers share it.
type Slot = tokio::sync::Mutex<Option<Entry>>;

struct Entry {
    schema: Arc<ProfileSchema>,
    fetched: Instant,
}

/// The process-wide cache, with [`DEFAULT_TTL`] (see [`SchemaCache::set_ttl`]).
pub fn cache() -> &'static SchemaCache {
    static CACHE: OnceLock<SchemaCache> = OnceLock::new();
    CACHE.get_or_init(|| SchemaCache::new(DEFAULT_TTL))
}

/// Validates a profile against the org's schema from the process-wide [`cache`].
pub async fn validate_profile(
    client: &Client,
    profile: &Map<String, Value>,
    mode: Mode,
) -> Result<(), ValidationFailure> {
    cache().validate_profile(client, profile, mode).await
}

impl SchemaCache {
    pub fn new(ttl: Duration) -> SchemaCache {
        SchemaCache::with_clock(ttl, Arc::new(TokioClock))
    }

    /// A cache reading time from `clock` (tests pass a `ManualClock` and move it past the TTL).
    pub fn with_clock(ttl: Duration, clock: Arc<dyn Clock>) -> SchemaCache {
        SchemaCache {
            ttl: Mutex::new(ttl),
            clock,
            slots: Mutex::new(HashMap::new()),
        }
    }

    pub fn ttl(&self) -> Duration {
        *self.ttl.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the TTL; entries already cached are judged by the new one.
    pub fn set_ttl(&self, ttl: Duration) {
        *self.ttl.lock().unwrap_or_else(|e| e.into_inner()) = ttl;
    }

    /// The org's default user profile schema, fetched when absent or older than the TTL.
    pub async fn get(&self, client: &Client) -> Result<Arc<ProfileSchema>, okta_client::Error> {
        let slot = self.slot(client);
        let mut entry = slot.lock().await;
        match &*entry {
            Some(e) if self.age(e) < self.ttl() => Ok(e.schema.clone()),
            _ => self.fetch(client, &mut entry).await,
        }
    }

    /// Fetches the org's schema now, whatever its age.
    pub async fn refresh(&self, client: &Client) -> Result<Arc<ProfileSchema>, okta_client::Error> {
        let slot = self.slot(client);
        let mut entry = slot.lock().await;
        self.fetch(client, &mut entry).await
    }

    /// Validates against the cached schema; when the only problems are unknown attributes, the
    /// schema may be out of date, so it is fetched again (at most once per [`REFRESH_COOLDOWN`])
    /// and the profile checked once more.
    pub async fn validate_profile(
        &self,
        client: &Client,
        profile: &Map<String, Value>,
        mode: Mode,
    ) -> Result<(), ValidationFailure> {
        let schema = self.get(client).await?;
        match schema.validate(profile, mode) {
            Err(errors) if errors.only_unknown() => match self.newer(client, &schema).await? {
                Some(newer) => Ok(newer.validate(profile, mode)?),
                None => Err(errors.into()),
            },
            other => Ok(other?),
        }
    }

    /// A schema newer than `seen`: one another caller fetched meanwhile, or a fresh fetch when
    /// `seen` is past the cooldown. `None` when `seen` is as new as it gets.
    async fn newer(
        &self,
        client: &Client,
        seen: &Arc<ProfileSchema>,
    ) -> Result<Option<Arc<ProfileSchema>>, okta_client::Error> {
        let slot = self.slot(client);
        let mut entry = slot.lock().await;
        match &*entry {
            Some(e) if !Arc::ptr_eq(&e.schema, seen) => Ok(Some(e.schema.clone())),
            Some(e) if self.age(e) < REFRESH_COOLDOWN => Ok(None),
            _ => self.fetch(client, &mut entry).await.map(Some),
        }
    }

    async fn fetch(
        &self,
        client: &Client,
        entry: &mut Option<Entry>,
    ) -> Result<Arc<ProfileSchema>, okta_client::Error> {
        let raw = client.schemas().default_user().await?;
        let schema = Arc::new(ProfileSchema::from_user_schema(&raw));
        *entry = Some(Entry {
            schema: schema.clone(),
            fetched: self.clock.now(),
        });
        Ok(schema)
    }

    fn age(&self, entry: &Entry) -> Duration {
        self.clock.now().saturating_duration_since(entry.fetched)
    }

    fn slot(&self, client: &Client) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots
            .entry(client.org_url().as_str().to_string())
            .or_default()
            .clone()
    }
}

/// Why a profile was not accepted: it is invalid, or the schema could not be read.
#[derive(Debug)]
pub enum ValidationFailure {
    Invalid(ProfileErrors),
    Schema(okta_client::Error),
}

impl From<ProfileErrors> for ValidationFailure {
    fn from(e: ProfileErrors) -> Self {
        ValidationFailure::Invalid(e)
    }
}

impl From<okta_client::Error> for ValidationFailure {
    fn from(e: okta_client::Error) -> Self {
        ValidationFailure::Schema(e)
    }
}

impl fmt::Display for ValidationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidationFailure::Invalid(e) => write!(f, "{e}"),
            ValidationFailure::Schema(e) => {
                write!(f, "could not read the org's user profile schema: {e}")
            }
        }
    }
}

impl std::error::Error for ValidationFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ValidationFailure::Invalid(e) => Some(e),
            ValidationFailure::Schema(e) => Some(e),
        }
    }
}
