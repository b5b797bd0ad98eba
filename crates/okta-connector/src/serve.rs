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

use anyhow::Context as _;
use okta_client::{Client, Clock};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::watch;

use crate::sinks::SinkSpec;
use crate::triggers::runtime::{self, Instance, Options, RunError, Summary};
use crate::triggers::time_spec::Span;

/// The configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    pub interval: Option<Span>,
    pub dedup_window: Option<Span>,
    pub triggers: Vec<Entry>,
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
        if self.triggers.is_empty() {
            anyhow::bail!("`triggers` is empty: list at least one trigger instance");
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
