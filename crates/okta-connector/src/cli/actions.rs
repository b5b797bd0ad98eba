//! `okta-connector actions ...` flags.

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct ActionsArgs {
    #[command(subcommand)]
    pub command: ActionsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// List every action with what it does.
    List,
    /// Show an action's input schema, what it returns, and how to run it.
    Describe {
        /// The action's name, e.g. search_users.
        name: String,
    },
    /// Run an action with a JSON input, or over many inputs (a bulk run).
    ///
    /// A bulk run (`--input @FILE.ndjson|.jsonl|.csv`, or `--bulk`) takes one input per line (CSV:
    /// a header row naming the input properties), runs them with bounded concurrency within the
    /// rate limits, prints one result line per input in completion order
    /// ({"line": N, "ok": true, "output": ...} or {"line": N, "ok": false, "error": ...}) and a
    /// summary on stderr. A bad line is reported and skipped. The run is journaled in the state
    /// database: the same command again (same connection, action and file content) resumes it,
    /// skipping what is done and re-sending what was in flight (safe for actions idempotent by
    /// state, like the user lifecycle actions). Exit code: 0 if every input succeeded, 4 if some
    /// failed, 130 after Ctrl-C (in-flight inputs finish and are recorded first).
    Run {
        /// The action's name, e.g. search_users.
        name: String,
        /// The input: JSON text, `@FILE` to read it from a file, or `-` for standard input.
        /// Default: `{}`.
        #[arg(long, short = 'i', value_name = "JSON|@FILE|-")]
        input: Option<String>,
        /// Treat the input as many inputs, one JSON per line (implied by a .ndjson, .jsonl or .csv file).
        #[arg(long)]
        bulk: bool,
        /// Bulk runs: inputs in flight at once.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
        concurrency: u16,
        /// Bulk runs: start a new run instead of resuming the journaled one for this file.
        #[arg(long)]
        fresh: bool,
    },
    /// Print the Markdown reference of every action (the README's action table is this output).
    #[command(hide = true)]
    Docs,
}
