//! Connections: a name, an Okta org URL and an auth.
//!
//! * [`domain`]: what the user typed → the org's base URL (https only except loopback; Okta's domains;
//!   custom domains when allowed; `-admin` corrected).
//! * [`store`]: the SQLite store, secrets sealed by [`crypto`] (XChaCha20-Poly1305, master key from
//!   OKTA_CONNECTOR_MASTER_KEY or `<state dir>/master.key`).
//! * [`sdk`]: the Okta SDK conventions (OKTA_CLIENT_* variables, `~/.okta/okta.yaml`).
//! * [`diagnose`]: a failed connection test explained in plain words.
//! * [`resolve`] below: which connection a command uses.

pub mod credentials;
pub mod crypto;
pub mod diagnose;
pub mod domain;
pub mod login;
pub mod sdk;
pub mod store;

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
    // okta_client::Error is large by design (status, Okta's body, request id); it is returned once.
    pub fn client(&self) -> Result<Client, okta_client::Error> {
        self.client_observed(None)
    }

    /// A client whose every request is reported to `observer` (the daemon's metrics).
    pub fn client_observed(
        &self,
        observer: Option<std::sync::Arc<dyn okta_client::Observer>>,
    ) -> Result<Client, okta_client::Error> {
        let mut config = ClientConfig::new(self.org_url.clone(), self.auth.clone());
        config.observer = observer;
        Client::new(config)
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

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Named => f.write_str("the connection store"),
            Source::Environment => write!(
                f,
                "the environment ({} / {})",
                sdk::ORG_URL_VAR,
                sdk::TOKEN_VAR
            ),
            Source::OktaYaml(path) => write!(f, "{}", path.display()),
            Source::StoreDefault => f.write_str("the connection store (its default connection)"),
        }
    }
}

pub struct Resolved {
    pub connection: Connection,
    pub source: Source,
    /// Corrections made on the way (an `-admin` org URL from the environment): for the user to see.
    pub warnings: Vec<String>,
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
    state_dir: &Path,
    name: Option<&str>,
    env: &Environment<'_>,
) -> anyhow::Result<Resolved> {
    let resolved = |connection, source, warnings| Resolved {
        connection,
        source,
        warnings,
    };
    if let Some(name) = name {
        let store = open_store(state_dir, env)?;
        return Ok(resolved(store.connection(name)?, Source::Named, Vec::new()));
    }
    let mut tried = Vec::new();

    if let Some(sdk) = sdk::from_env(env)? {
        return Ok(resolved(sdk.connection, Source::Environment, sdk.warnings));
    }
    tried.push(format!(
        "{} / {}: not set",
        sdk::ORG_URL_VAR,
        sdk::TOKEN_VAR
    ));

    match &env.home {
        Some(home) => {
            let path = sdk::okta_yaml_path(home);
            if let Some(sdk) = sdk::from_okta_yaml(&path)? {
                return Ok(resolved(
                    sdk.connection,
                    Source::OktaYaml(path),
                    sdk.warnings,
                ));
            }
            tried.push(format!("{}: absent or names no org", path.display()));
        }
        None => tried.push("~/.okta/okta.yaml: HOME is not set".to_string()),
    }

    // Looking for a default must not create a store: only open one that exists.
    let db = state_dir.join(store::DB_FILE);
    if db.exists() {
        let store = open_store(state_dir, env)?;
        if let Some(entry) = store.default_entry()? {
            let connection = store.connection(&entry.name)?;
            return Ok(resolved(connection, Source::StoreDefault, Vec::new()));
        }
        tried.push(format!("{}: no default connection", db.display()));
    } else {
        tried.push(format!("{}: no store yet", db.display()));
    }

    anyhow::bail!(
        "no connection: add one with `okta-connector connections add NAME --org-url ORG.okta.com`, \
         or set {} and {} (tried: {})",
        sdk::ORG_URL_VAR,
        sdk::TOKEN_VAR,
        tried.join("; ")
    )
}

/// The store in `state_dir`, with the master key from the environment when it is set there.
pub fn open_store(state_dir: &Path, env: &Environment<'_>) -> anyhow::Result<store::Store> {
    store::Store::open(state_dir, (env.var)(crypto::MASTER_KEY_VAR))
}

pub const STATE_VAR: &str = "OKTA_CONNECTOR_STATE";

/// The state directory: `--state DIR`, else OKTA_CONNECTOR_STATE, else the user's data directory
/// ($XDG_DATA_HOME/okta-connector, else ~/.local/share/okta-connector: on macOS too, like most CLIs).
pub fn state_dir(flag: Option<&Path>, env: &Environment<'_>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir.to_path_buf());
    }
    let var = |name| (env.var)(name).filter(|v| !v.is_empty());
    if let Some(dir) = var(STATE_VAR) {
        return Ok(PathBuf::from(dir));
    }
    // The XDG spec says a relative value is invalid and must be ignored.
    if let Some(data) = var("XDG_DATA_HOME").filter(|v| Path::new(v).is_absolute()) {
        return Ok(Path::new(&data).join("okta-connector"));
    }
    match &env.home {
        Some(home) => Ok(home.join(".local/share/okta-connector")),
        None => anyhow::bail!(
            "no state directory: HOME is not set; pass --state DIR or set {STATE_VAR}"
        ),
    }
}
