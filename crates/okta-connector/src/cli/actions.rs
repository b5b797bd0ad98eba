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
    /// Run an action with a JSON input.
    Run {
        /// The action's name, e.g. search_users.
        name: String,
        /// The input: JSON text, `@FILE` to read it from a file, or `-` for standard input.
        /// Default: `{}`.
        #[arg(long, short = 'i', value_name = "JSON|@FILE|-")]
        input: Option<String>,
    },
    /// Print the Markdown reference of every action (the README's action table is this output).
    #[command(hide = true)]
    Docs,
}
