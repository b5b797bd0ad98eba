//! `okta-connector connections ...` flags. Filled in by the connections work.

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct ConnectionsArgs {
    #[command(subcommand)]
    pub command: ConnectionsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConnectionsCommand {
    /// List the stored connections.
    List,
}
