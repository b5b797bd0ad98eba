//! How a simulated org is shaped: its size, its seed and its limits.

use std::str::FromStr;

/// Which of Okta's published per-minute rate limits the org enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RateLimitTier {
    /// Okta's Workforce tier (e.g. 120/min on `/api/v1/logs`, 600/min on `/api/v1/users`).
    #[default]
    Workforce,
    /// Okta's Enterprise tier (e.g. 50/min on `/api/v1/logs`).
    Enterprise,
    /// No limits: every bucket allows a million requests a minute (headers still sent).
    Off,
}

impl FromStr for RateLimitTier {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "workforce" => Ok(RateLimitTier::Workforce),
            "enterprise" => Ok(RateLimitTier::Enterprise),
            "off" | "none" => Ok(RateLimitTier::Off),
            other => Err(format!(
                "unknown rate-limit tier '{other}': use workforce, enterprise or off"
            )),
        }
    }
}

#[derive(Clone)]
pub struct SimConfig {
    /// Users to seed (besides the admin).
    pub users: usize,
    /// Groups to seed (besides Everyone).
    pub groups: usize,
    pub apps: usize,
    /// System Log events of seeded history, spread over the 30 days before start.
    pub log_events: usize,
    /// Same seed, same org.
    pub seed: u64,
    pub rate_limits: RateLimitTier,
    /// Added to every `/api/v1` response.
    pub latency_ms: u64,
    /// The SSWS token to accept; generated when absent.
    pub api_token: Option<String>,
    /// Whether the custom `employeeId` attribute is required, as in an org that enforces it. Off only
    /// to replay traffic recorded against orgs without required custom attributes.
    pub require_custom_attributes: bool,
    /// The org's subdomain, used in emails and display names (`acme` → `admin@acme.example.com`).
    pub org_name: String,
    /// OAuth app integrations registered with the org authorization server at start.
    pub oauth_apps: Vec<crate::oauth::OAuthApp>,
    /// How Event Hook calls are made: timeout, batch size, linger (also changeable at run time
    /// through `PUT /control/event-hooks/settings`).
    pub event_hooks: HookDelivery,
}

/// Event Hook delivery settings. Okta documents the 3-second timeout; it does not document its
/// batch size or how long it gathers events, so those are the simulator's own choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookDelivery {
    /// Each outbound call (verification GET, delivery POST) fails after this long (Okta: 3 s).
    /// Tests lower it to exercise the retry after a timeout quickly.
    pub timeout_ms: u64,
    /// The most events one delivery carries.
    pub max_batch: usize,
    /// How long (real time) a batch that is not full waits for more events before it is sent.
    pub linger_ms: u64,
}

impl Default for HookDelivery {
    fn default() -> Self {
        HookDelivery {
            timeout_ms: 3000,
            max_batch: 50,
            linger_ms: 50,
        }
    }
}

/// Written by hand so the API token never reaches a log through `{:?}`.
impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimConfig")
            .field("users", &self.users)
            .field("groups", &self.groups)
            .field("apps", &self.apps)
            .field("log_events", &self.log_events)
            .field("seed", &self.seed)
            .field("rate_limits", &self.rate_limits)
            .field("latency_ms", &self.latency_ms)
            .field("api_token", &self.api_token.as_ref().map(|_| "<redacted>"))
            .field("require_custom_attributes", &self.require_custom_attributes)
            .field("org_name", &self.org_name)
            .field("oauth_apps", &self.oauth_apps)
            .field("event_hooks", &self.event_hooks)
            .finish()
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            users: 50,
            groups: 10,
            apps: 5,
            log_events: 500,
            seed: 1,
            rate_limits: RateLimitTier::Workforce,
            latency_ms: 0,
            api_token: None,
            require_custom_attributes: true,
            org_name: "acme".into(),
            oauth_apps: Vec::new(),
            event_hooks: HookDelivery::default(),
        }
    }
}

impl SimConfig {
    /// A small org with rate limits off: the usual start of a test.
    pub fn small() -> Self {
        SimConfig {
            rate_limits: RateLimitTier::Off,
            ..Default::default()
        }
    }
}
