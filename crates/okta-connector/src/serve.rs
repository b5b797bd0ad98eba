//! `okta-connector serve`: many trigger instances, for many connections, in one process, from a YAML
//! configuration file (JSON is YAML too):
//!
//! ```yaml
//! interval: 15s          # wait after a trigger caught up (default 15s)
//! dedup_window: 1h       # how long delivered ids are remembered (default 1h)
//! triggers:
//!   - name: audit                  # the state key: the same name resumes where it stopped
//!     connection: acme             # a connection of the store
//!     trigger: new_events
//!     config: {categories: [user_lifecycle, group_membership], start: 7d}
//!     sink: {file: /var/lib/okta-connector/audit.jsonl}
//!   - name: leavers
//!     connection: acme
//!     trigger: deleted_objects
//!     sink: stdout
//! ```
//!
//! Everything is validated before anything starts (names unique and valid, triggers known,
//! configurations accepted by their trigger, sinks well-formed). Instances on one connection share
//! one client, hence one rate-limit governor. An instance that stops on an error Okta will not take
//! back (a rejected filter, a revoked credential) is logged and recorded in the job history; the
//! others go on. Shutdown (SIGINT/SIGTERM) lets each finish the batch in flight.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use okta_client::{Client, Clock, SecretString};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::watch;

use crate::daemon::metrics::Metrics;
use crate::daemon::{self, DaemonState};
use crate::sinks::SinkSpec;
use crate::triggers::Trigger as _;
use crate::triggers::realtime;
use crate::triggers::runtime::{self, Instance, Options, RunError, Summary};
use crate::triggers::time_spec::Span;

/// The configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    pub interval: Option<Span>,
    pub dedup_window: Option<Span>,
    /// The daemon's HTTP listener (the API for actions, Event Hook endpoints, /healthz, /readyz,
    /// /metrics). Served when given, or when a real-time trigger needs its endpoint.
    pub http: Option<HttpConfig>,
    #[serde(default)]
    pub triggers: Vec<Entry>,
}

/// `http:` in the configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// The address to listen on (default 127.0.0.1:8686: loopback unless told otherwise).
    #[serde(default = "default_listen")]
    pub listen: std::net::SocketAddr,
    /// The environment variable holding the bearer token the HTTP API for actions requires; the
    /// API is off without it.
    pub api_token_env: Option<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: default_listen(),
            api_token_env: None,
        }
    }
}

fn default_listen() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 8686))
}

/// One trigger instance of the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub name: String,
    pub connection: String,
    pub trigger: String,
    #[serde(default)]
    pub config: Value,
    pub sink: SinkSpec,
    /// This instance's own wait after catching up.
    pub interval: Option<Span>,
}

impl ServeConfig {
    /// Reads and validates a configuration file; the error names the file and what to fix.
    pub fn load(path: &Path) -> anyhow::Result<ServeConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration {}", path.display()))?;
        let config: ServeConfig = serde_yaml::from_str(&text)
            .with_context(|| format!("{} is not a valid serve configuration", path.display()))?;
        config
            .check()
            .with_context(|| format!("in {}", path.display()))?;
        Ok(config)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.triggers.is_empty() && self.http.is_none() {
            anyhow::bail!(
                "nothing to serve: list trigger instances under `triggers`, or configure `http` for the API"
            );
        }
        let mut names = HashSet::new();
        for entry in &self.triggers {
            crate::connections::store::validate_name(&entry.name)
                .with_context(|| format!("trigger instance name '{}'", entry.name))?;
            if !names.insert(entry.name.as_str()) {
                anyhow::bail!(
                    "two trigger instances are named '{}': names are where cursors are kept, so they must differ",
                    entry.name
                );
            }
            let trigger = find_trigger(&entry.trigger)?;
            trigger.source(entry.config.clone()).map_err(|e| {
                anyhow::anyhow!(
                    "trigger instance '{}': invalid configuration for {}: {e}",
                    entry.name,
                    entry.trigger
                )
            })?;
        }
        Ok(())
    }

    /// The connections the file names, each once.
    pub fn connections(&self) -> Vec<&str> {
        let mut seen = Vec::new();
        for entry in &self.triggers {
            if !seen.contains(&entry.connection.as_str()) {
                seen.push(entry.connection.as_str());
            }
        }
        seen
    }

    /// The instances with their run options.
    pub fn instances(&self) -> anyhow::Result<Vec<(Instance, Options)>> {
        let defaults = Options::default();
        self.triggers
            .iter()
            .map(|entry| {
                let options = Options {
                    interval: entry
                        .interval
                        .or(self.interval)
                        .map_or(defaults.interval, |s| s.0),
                    dedup_window: self.dedup_window.map_or(defaults.dedup_window, |s| s.0),
                    ..defaults.clone()
                };
                Ok((
                    Instance {
                        name: entry.name.clone(),
                        connection: entry.connection.clone(),
                        trigger: find_trigger(&entry.trigger)?,
                        config: entry.config.clone(),
                        sink: entry.sink.clone(),
                    },
                    options,
                ))
            })
            .collect()
    }
}

fn find_trigger(name: &str) -> anyhow::Result<&'static crate::triggers::TriggerDef> {
    crate::triggers::find(name).ok_or_else(|| {
        let names: Vec<&str> = crate::triggers::registry().iter().map(|t| t.name).collect();
        anyhow::anyhow!(
            "no trigger named '{name}'; the triggers are: {}",
            names.join(", ")
        )
    })
}

/// Runs every instance until shutdown (or until each stopped on its own). `clients` has one client
/// per connection name. Returns each instance's outcome, by name.
pub async fn run(
    instances: Vec<(Instance, Options)>,
    clients: &BTreeMap<String, Client>,
    state_dir: &Path,
    clock: Arc<dyn Clock>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<BTreeMap<String, Result<Summary, RunError>>> {
    let mut tasks = tokio::task::JoinSet::new();
    for (instance, options) in instances {
        let client = clients
            .get(&instance.connection)
            .with_context(|| format!("no client for connection '{}'", instance.connection))?
            .clone();
        let state_dir = state_dir.to_path_buf();
        let clock = clock.clone();
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            tracing::info!(
                name = instance.name,
                trigger = instance.trigger.name,
                connection = instance.connection,
                "starting"
            );
            let outcome =
                runtime::run(&instance, client, &state_dir, clock, &options, shutdown).await;
            match &outcome {
                Ok(summary) => tracing::info!(
                    name = instance.name,
                    delivered = summary.delivered,
                    "stopped"
                ),
                Err(e) => tracing::error!(name = instance.name, error = %e, "stopped on an error"),
            }
            (instance.name, outcome)
        });
    }
    let mut outcomes = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        let (name, outcome) = done.context("a trigger task panicked")?;
        outcomes.insert(name, outcome);
    }
    Ok(outcomes)
}

/// What `serve` needs from its surroundings.
pub struct Surroundings<'a> {
    /// One client per connection the configuration names.
    pub clients: BTreeMap<String, Client>,
    pub state_dir: &'a Path,
    pub clock: Arc<dyn Clock>,
    /// The process environment (secrets named by `*_env` fields).
    pub env: &'a (dyn Fn(&str) -> Option<String> + Sync),
    pub metrics: Arc<Metrics>,
}

/// The whole daemon: the HTTP listener (when configured or needed by a real-time trigger), the
/// Event Hooks registered, then every trigger instance, until shutdown. Returns each instance's
/// outcome. Everything that can be checked (secrets present, the address free) is checked before
/// any trigger starts.
pub async fn daemon(
    config: &ServeConfig,
    around: Surroundings<'_>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<BTreeMap<String, Result<Summary, RunError>>> {
    let instances = config.instances()?;
    let mut hooks = BTreeMap::new();
    let mut registrations = Vec::new();
    for (instance, _) in &instances {
        if instance.trigger.name != realtime::NewEventsRealtime::NAME {
            continue;
        }
        let hook: realtime::RealtimeConfig = serde_json::from_value(instance.config.clone())?;
        let secret = (around.env)(&hook.secret_env)
            .filter(|s| !s.is_empty())
            .with_context(|| {
                format!(
                    "trigger instance '{}': the environment variable {} (its Event Hook secret) is not set",
                    instance.name, hook.secret_env
                )
            })?;
        let secret = SecretString::new(secret);
        let inbox = realtime::Inbox::open(&runtime::work_dir(around.state_dir, &instance.name))?;
        if hook.register {
            registrations.push((instance.clone(), hook, secret.clone()));
        }
        hooks.insert(
            instance.name.clone(),
            daemon::hooks::Endpoint { secret, inbox },
        );
    }
    let http = match (&config.http, hooks.is_empty()) {
        (Some(http), _) => Some(http.clone()),
        (None, false) => Some(HttpConfig::default()),
        (None, true) => None,
    };
    let state = Arc::new(DaemonState {
        clients: around.clients.clone(),
        api_token: match http.as_ref().and_then(|h| h.api_token_env.as_ref()) {
            Some(var) => Some(SecretString::new(
                (around.env)(var)
                    .filter(|t| !t.is_empty())
                    .with_context(|| format!("http.api_token_env names {var}, which is not set"))?,
            )),
            None => None,
        },
        metrics: around.metrics.clone(),
        hooks,
        ready: AtomicBool::new(false),
    });
    let server = match &http {
        Some(http) => {
            let listener = tokio::net::TcpListener::bind(http.listen)
                .await
                .with_context(|| format!("cannot listen on {}", http.listen))?;
            tracing::info!(address = %listener.local_addr()?, "HTTP listening");
            let router = daemon::router(state.clone());
            let mut stop = shutdown.clone();
            Some(tokio::spawn(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|s| *s).await;
                    })
                    .await
            }))
        }
        None => None,
    };
    // With the endpoints up, Okta can verify them.
    for (instance, hook, secret) in registrations {
        let Some(client) = around.clients.get(&instance.connection) else {
            continue;
        };
        match daemon::hooks::ensure_hook(client, &instance.name, &hook, &secret).await {
            Ok(summary) => tracing::info!(name = instance.name, "Event Hook {summary}"),
            // Deliveries will not come, but the catch-up still reads every event.
            Err(e) => tracing::error!(
                name = instance.name,
                error = %e,
                "cannot register the Event Hook; the System Log catch-up still delivers every event"
            ),
        }
    }
    let instances = instances
        .into_iter()
        .map(|(instance, options)| {
            let options = Options {
                metrics: Some(around.metrics.clone()),
                ..options
            };
            (instance, options)
        })
        .collect();
    state.ready.store(true, Ordering::Release);
    let outcomes = run(
        instances,
        &around.clients,
        around.state_dir,
        around.clock,
        shutdown.clone(),
    )
    .await?;
    if let Some(server) = server {
        // Without triggers, the HTTP side alone runs until shutdown.
        let _ = server.await;
    }
    Ok(outcomes)
}
