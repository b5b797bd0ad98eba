//! Connections: a name, an Okta org URL and an auth.
//!
//! CONTRACT (filled in by the connections work):
//! * `domain.rs`: `OrgUrl::parse(input, allowed_custom_domains) -> Result<(Url, Vec<Warning>), DomainError>`
//!   (https only except loopback; Okta's domains; explicitly allowed custom domains; `-admin` corrected).
//! * `store.rs`: the SQLite store with secrets encrypted (XChaCha20-Poly1305).
//! * `sdk.rs`: OKTA_CLIENT_* variables and ~/.okta/okta.yaml.
//! * `resolve` below: which connection a command uses.

use std::path::{Path, PathBuf};

use okta_client::{Auth, Client, ClientConfig};
use reqwest::Url;

/// A connection ready to use. `Debug` is safe: `Auth` redacts its secrets.
#[derive(Clone, Debug)]
pub struct Connection {
    pub name: String,
    pub org_url: Url,
    pub auth: Auth,
}

impl Connection {
    pub fn client(&self) -> Result<Client, okta_client::Error> {
        Client::new(ClientConfig::new(self.org_url.clone(), self.auth.clone()))
    }
}

/// Where a connection came from (shown by `connections show` and in errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Named with `--connection` (from the store).
    Named,
    /// OKTA_CLIENT_ORGURL / OKTA_CLIENT_TOKEN.
    Environment,
    /// An okta.yaml file.
    OktaYaml(PathBuf),
    /// The store's default connection.
    StoreDefault,
}

pub struct Resolved {
    pub connection: Connection,
    pub source: Source,
}

/// The environment a resolution reads: injected so tests (and the daemon) never touch the process's.
pub struct Environment<'a> {
    pub var: &'a dyn Fn(&str) -> Option<String>,
    pub home: Option<PathBuf>,
}

/// The connection a command uses: `--connection NAME` from the store; else the Okta SDK conventions
/// (OKTA_CLIENT_* variables, then ~/.okta/okta.yaml); else the store's default. The error says what
/// was tried and how to fix it.
pub fn resolve(
    _state_dir: &Path,
    _name: Option<&str>,
    _env: &Environment<'_>,
) -> anyhow::Result<Resolved> {
    todo!("connections")
}

/// The state directory: `--state DIR`, else OKTA_CONNECTOR_STATE, else the user's data directory.
pub fn state_dir(_flag: Option<&Path>, _env: &Environment<'_>) -> anyhow::Result<PathBuf> {
    todo!("connections")
}
