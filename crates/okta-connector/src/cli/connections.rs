//! `okta-connector connections ...` flags. A secret is never a flag's value: it would be visible in
//! the process list and the shell's history.

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct ConnectionsArgs {
    #[command(subcommand)]
    pub command: ConnectionsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConnectionsCommand {
    /// Store a connection: a name, an org URL and an API token (the token is encrypted at rest).
    #[command(after_help = "\
The API token is read from standard input (--secret-stdin), from an environment variable
(--secret-env VAR) or, in a terminal, from a prompt that does not echo. It is never a flag's value.
Create a token in the Admin Console: Security > API > Tokens.

Examples:
  okta-connector connections add prod --org-url acme.okta.com
  printf '%s' \"$TOKEN\" | okta-connector connections add prod --org-url acme.okta.com --secret-stdin
  okta-connector connections add sso --org-url https://login.example.com --allow-custom-domain --secret-env OKTA_TOKEN")]
    Add(AddArgs),
    /// List the stored connections (never their secrets).
    List,
    /// Show a connection (never its secret) and where it comes from: the store, OKTA_CLIENT_* or okta.yaml.
    Show(ShowArgs),
    /// Check that a connection works: read the System Log (limit=1) and the user profile schema, and
    /// explain any failure.
    Test(TestArgs),
    /// Remove a stored connection.
    Remove(NameArg),
    /// Make a stored connection the default.
    Default(NameArg),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The connection's name (letters, digits, '-', '_', '.').
    pub name: String,
    /// The org: acme.okta.com, https://acme.oktapreview.com, or http://127.0.0.1:PORT for the simulator.
    #[arg(long, value_name = "URL")]
    pub org_url: String,
    /// Accept a domain outside Okta's own (your org's verified custom domain).
    #[arg(long)]
    pub allow_custom_domain: bool,
    /// Make it the default connection (the first connection added is the default anyway).
    #[arg(long)]
    pub default: bool,
    /// Overwrite a connection of the same name.
    #[arg(long)]
    pub replace: bool,
    /// Read the API token from standard input.
    #[arg(long, conflicts_with = "secret_env")]
    pub secret_stdin: bool,
    /// Read the API token from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub secret_env: Option<String>,
}

/// How `list` and `show` print (from the global `--output`).
#[derive(Clone, Copy, Debug)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A stored connection (default: the one commands would use: --connection, OKTA_CLIENT_*,
    /// ~/.okta/okta.yaml, then the store's default).
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// A stored connection (default: the one commands would use).
    pub name: Option<String>,
    /// Seconds to wait for each answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct NameArg {
    pub name: String,
}
