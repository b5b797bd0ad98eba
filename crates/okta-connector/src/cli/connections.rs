//! `okta-connector connections ...` flags. A secret is never a flag's value: it would be visible in
//! the process list and the shell's history.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Args)]
pub struct ConnectionsArgs {
    #[command(subcommand)]
    pub command: ConnectionsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConnectionsCommand {
    /// Store a connection: a name, an org URL and how it authenticates (secrets encrypted at rest).
    #[command(after_help = "\
Three kinds of connection (--auth):
  api-token            an API token (Security > API > Tokens), with the roles of the admin who made it
  client-credentials   an API Services app: --client-id, --scopes and its private key (PEM or JWK),
                       from --private-key-file FILE, --secret-stdin or --secret-env VAR
  authorization-code   a Web app: --client-id, --scopes, --redirect-uri and its client secret; then
                       `okta-connector connections login NAME` signs in once in a browser

A secret (API token, private key text, client secret) is read from standard input (--secret-stdin),
from an environment variable (--secret-env VAR) or, in a terminal, from a prompt that does not echo.
It is never a flag's value. The README's \"Connect to an Okta org\" has the admin's steps for each.

Examples:
  okta-connector connections add prod --org-url acme.okta.com
  printf '%s' \"$TOKEN\" | okta-connector connections add prod --org-url acme.okta.com --secret-stdin
  okta-connector connections add svc --org-url acme.okta.com --auth client-credentials \\
      --client-id 0oa1b2c3 --scopes 'okta.users.read okta.logs.read okta.schemas.read' --private-key-file key.pem
  okta-connector connections add web --org-url acme.okta.com --auth authorization-code --client-id 0oa4d5e6 \\
      --scopes 'okta.users.read okta.logs.read okta.schemas.read offline_access' --secret-env CLIENT_SECRET")]
    Add(Box<AddArgs>),
    /// Sign in once in a browser for an authorization-code connection and store its refresh token.
    #[command(after_help = "\
Prints the sign-in URL (and opens it in a browser unless --no-browser), then waits on the connection's
loopback redirect URI (default http://127.0.0.1:8765/callback) for Okta to send the browser back.
The refresh token is stored encrypted; later commands refresh the access token silently.")]
    Login(LoginArgs),
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
    /// How the connection authenticates.
    #[arg(long, value_enum, default_value_t = AuthArg::ApiToken)]
    pub auth: AuthArg,
    /// Read the secret (API token, private key text, client secret) from standard input.
    #[arg(long, conflicts_with = "secret_env")]
    pub secret_stdin: bool,
    /// Read the secret (API token, private key text, client secret) from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub secret_env: Option<String>,
    /// OAuth: the app's client ID (General tab of the app integration).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// OAuth: the scopes to request, space or comma separated (each granted on the app's Okta API
    /// Scopes tab), e.g. "okta.users.read okta.logs.read okta.schemas.read".
    #[arg(long, value_name = "SCOPES")]
    pub scopes: Option<String>,
    /// Client credentials: the file with the app's private key (PEM: PKCS#1, PKCS#8 or SEC1; or JWK JSON).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["secret_stdin", "secret_env"])]
    pub private_key_file: Option<PathBuf>,
    /// Client credentials: the key ID (kid) of the public key registered in Okta, sent with each
    /// client assertion (needed when the app has more than one key).
    #[arg(long, value_name = "KID")]
    pub key_id: Option<String>,
    /// OAuth: DPoP (proof of possession). auto uses it when Okta asks for it.
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = ["auto", "on", "off"])]
    pub dpop: String,
    /// OAuth: the DPoP private key to use (PEM or JWK) instead of a new ES256 key.
    #[arg(long, value_name = "FILE")]
    pub dpop_key_file: Option<PathBuf>,
    /// Authorization code: the app's sign-in redirect URI, on this machine's loopback address.
    #[arg(long, value_name = "URI", default_value = crate::cli::connections::DEFAULT_REDIRECT_URI)]
    pub redirect_uri: String,
}

pub const DEFAULT_REDIRECT_URI: &str =
    okta_connector::connections::credentials::DEFAULT_REDIRECT_URI;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    /// An API token (SSWS).
    ApiToken,
    /// An API Services app: client credentials with a private key (private_key_jwt).
    ClientCredentials,
    /// A Web app: authorization code with PKCE, then refresh tokens.
    AuthorizationCode,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The authorization-code connection to sign in for.
    pub name: String,
    /// Only print the sign-in URL; do not try to open a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Seconds to wait for the browser to come back (an authorization code lasts 300 seconds).
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
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
    /// Print the public key (a JWKS to upload to the app's Public keys) of a client-credentials
    /// connection's private key, or the DPoP key's public JWK.
    #[arg(long)]
    pub public_key: bool,
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
