//! `okta-connector triggers|watch|serve|jobs` flags.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use okta_connector::triggers::time_spec::Span;

#[derive(Debug, Args)]
pub struct TriggersArgs {
    #[command(subcommand)]
    pub command: TriggersCommand,
}

#[derive(Debug, Subcommand)]
pub enum TriggersCommand {
    /// List every trigger with what it watches.
    List,
    /// Show a trigger's configuration schema, its records, and how to run it.
    Describe {
        /// The trigger's name, e.g. new_events.
        name: String,
    },
    /// Show the trigger instances this state directory knows: their cursors and last update.
    Status,
    /// Forget an instance's cursor and de-duplication memory (its job history stays): the next run
    /// starts over from its `start`.
    Reset {
        /// The instance's name (see `triggers status`).
        name: String,
    },
    /// Print the Markdown reference of every trigger (the README's trigger table is this output).
    #[command(hide = true)]
    Docs,
}

/// `okta-connector watch`: one trigger in the foreground.
#[derive(Debug, Args)]
#[command(
    after_help = "Records are NDJSON envelopes: {\"trigger\", \"connection\", \"id\", \"cursor\", \
\"emitted\", \"record\" (the Okta object as Okta sent it), \"details\" (when the trigger derives any)}.\n\
The position is kept in the state database under the instance's name (printed at start; by default \
derived from the connection, trigger, configuration and sink): the same command resumes where it \
stopped, delivering nothing twice. Ctrl-C or SIGTERM finishes the batch in flight, then stops."
)]
pub struct WatchArgs {
    /// The trigger, e.g. new_events (see `okta-connector triggers list`).
    pub trigger: String,
    /// The trigger's configuration: JSON text, `@FILE`, or `-` for standard input. Default: `{}`.
    #[arg(long, value_name = "JSON|@FILE|-")]
    pub config: Option<String>,
    /// Where records go: stdout, file:PATH, webhook:URL or exec:COMMAND [ARGS...].
    #[arg(long, default_value = "stdout", value_name = "SINK")]
    pub sink: String,
    /// The instance's name: where its cursor is kept (default: derived, see below).
    #[arg(long)]
    pub name: Option<String>,
    /// The wait after catching up (s, m, h, d).
    #[arg(long, default_value = "15s", value_parser = Span::parse)]
    pub interval: Span,
    /// How long delivered record ids are remembered to drop re-reads.
    #[arg(long, default_value = "1h", value_parser = Span::parse)]
    pub dedup_window: Span,
    /// Stop once caught up instead of waiting for more (exit 0).
    #[arg(long)]
    pub once: bool,
}

/// `okta-connector serve`: many triggers from a configuration file.
#[derive(Debug, Args)]
#[command(after_help = "The configuration (YAML or JSON):\n\n\
interval: 15s\n\
dedup_window: 1h\n\
triggers:\n  \
  - name: audit\n    \
    connection: acme\n    \
    trigger: new_events\n    \
    config: {categories: [user_lifecycle], start: 7d}\n    \
    sink: {file: /var/lib/okta-connector/audit.jsonl}\n\n\
SIGINT or SIGTERM lets every trigger finish the batch in flight, then stops.")]
pub struct ServeArgs {
    /// The configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The log on stderr: text lines, or JSON objects (one per line, with the Okta request id of
    /// failed and retried requests as `okta_request_id`).
    #[arg(long, value_enum, default_value_t = okta_connector::logging::LogFormat::Text)]
    pub log_format: okta_connector::logging::LogFormat,
}

#[derive(Debug, Args)]
pub struct JobsArgs {
    #[command(subcommand)]
    pub command: JobsCommand,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// The job history: each delivered batch (records, duplicates dropped) and each failed attempt,
    /// newest first.
    List {
        /// Only this trigger instance.
        #[arg(long)]
        name: Option<String>,
        /// At most this many rows.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Debug, Args)]
pub struct HooksArgs {
    #[command(subcommand)]
    pub command: HooksCommand,
}

/// `serve` registers, verifies and activates the Event Hooks of its real-time triggers itself;
/// these show and remove them.
#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// The org's Event Hooks: id, name, status, verification, address, event types.
    List,
    /// Deactivate and delete an Event Hook (by id, see `hooks list`).
    Remove {
        /// The hook's id (who...).
        id: String,
    },
}
