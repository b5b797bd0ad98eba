//! Command-line flags. Parsed here, validated into a `commands::Context` (global settings) and each
//! command's config in `commands/`.

pub mod actions;
pub mod connections;
pub mod friendly;
pub mod triggers;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "okta-connector",
    version,
    about = "Okta connector: triggers and actions over the Core Okta API v1"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Directory of the connection store and other state (default: OKTA_CONNECTOR_STATE, else the
    /// user's data directory, e.g. ~/.local/share/okta-connector).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        help_heading = "Global options"
    )]
    pub state: Option<PathBuf>,
    /// The connection to use (default: OKTA_CLIENT_* variables, then ~/.okta/okta.yaml, then the
    /// store's default connection).
    #[arg(
        long,
        short = 'c',
        global = true,
        value_name = "NAME",
        help_heading = "Global options"
    )]
    pub connection: Option<String>,
    /// Output format: json, ndjson, table or csv (default: a table for lists on a terminal, NDJSON
    /// for lists in a pipe, JSON for single objects).
    #[arg(
        long,
        short = 'o',
        global = true,
        value_name = "FORMAT",
        help_heading = "Global options"
    )]
    pub output: Option<okta_connector::output::Format>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a simulated Okta org on this machine (a sandbox for trying the tool, and what the tests use).
    Sim(SimArgs),
    /// Start a simulated org in-process and walk through what the connector does against it.
    Demo(DemoArgs),
    /// Add, list, test and remove connections to Okta orgs.
    Connections(connections::ConnectionsArgs),
    /// List, describe and run actions (every discovery and lifecycle operation).
    Actions(actions::ActionsArgs),
    /// List and describe triggers; show or reset the state of trigger instances.
    Triggers(triggers::TriggersArgs),
    /// Run one trigger in the foreground, delivering its records to a sink.
    Watch(triggers::WatchArgs),
    /// Run many triggers for many connections from a configuration file (the daemon).
    Serve(triggers::ServeArgs),
    /// The job history of triggers: each delivered batch and each failed attempt.
    Jobs(triggers::JobsArgs),
    /// List and remove the org's Event Hooks (those of real-time triggers).
    Hooks(triggers::HooksArgs),
}

/// The whole CLI: the derived commands plus the friendly subcommands generated from the action
/// registry.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command()
        .subcommands(friendly::commands())
        .after_help(EXIT_CODES)
}

const EXIT_CODES: &str = "Exit codes: 0 success; 1 unexpected failure; 2 bad usage or input; 3 no usable \
connection; 4 Okta refused the request (4xx); 5 Okta unreachable or failing (DNS, TLS, timeout, 5xx, rate limits).";

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to bind. The simulator speaks plain HTTP, so it stays on loopback unless told otherwise.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// The SSWS API token to accept (read from OKTA_SIM_API_TOKEN; generated and printed when absent).
    #[arg(long, env = "OKTA_SIM_API_TOKEN", hide_env_values = true)]
    pub api_token: Option<Secret>,
    /// Users to seed (besides the admin).
    #[arg(long, default_value_t = 50)]
    pub users: usize,
    /// Groups to seed (besides Everyone).
    #[arg(long, default_value_t = 10)]
    pub groups: usize,
    /// Apps to seed.
    #[arg(long, default_value_t = 5)]
    pub apps: usize,
    /// System Log events of seeded history (spread over the last 30 days).
    #[arg(long, default_value_t = 500)]
    pub log_events: usize,
    /// Seed of the generated data: the same seed gives the same org.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Rate limits to enforce: workforce, enterprise or off.
    #[arg(long, default_value = "workforce")]
    pub rate_limits: okta_sim::RateLimitTier,
    /// Latency added to every API response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// The org name used in seeded logins (`alice.smith1@NAME.example.com`).
    #[arg(long, default_value = "acme")]
    pub org_name: String,
    /// OAuth app integrations to register: a JSON file holding an array of apps (see the README's
    /// simulator section for the format).
    #[arg(long, value_name = "FILE")]
    pub oauth_apps: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed of the simulated org.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// A secret taken from a flag or the environment. Its `Debug` is redacted, so printing the parsed
/// flags can never show it.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}
