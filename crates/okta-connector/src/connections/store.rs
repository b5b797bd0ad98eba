//! The connection store: SQLite at `<state dir>/okta-connector.db`, secrets sealed by [`crypto`].
//!
//! One row per connection. Its auth is split in two: `auth_kind` names the kind (`api_token`,
//! `client_credentials`, `authorization_code`) and `secret` is the sealed JSON object of that kind's
//! secrets (`{"token": ...}`, `{"private_key": ..., "dpop_key": ...}`, `{"client_secret": ...,
//! "dpop_key": ..., "refresh_token": ...}`), so a new kind needs a new `auth_kind` value and JSON
//! shape, not a new column. Non-secret settings (client id, scopes, key id, DPoP mode, redirect URI)
//! go in `settings`, plain JSON ([`OAuthSettings`]).
//! The schema version is SQLite's `user_version`, so later versions can migrate in [`migrate`].
//! Every write is one transaction: a failure leaves the store as it was.
//!
//! The master key is loaded only when a secret is sealed or opened, so `list` works without it. The
//! `meta` table keeps a sealed known value (the "key check"): the first secret written records it,
//! and every later use of a key verifies it first, so a different key is refused before it can write
//! a row no other row's key can read.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use okta_client::{Auth, SecretString};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::{Value, json};
use url::Url;

use super::Connection;
use super::credentials::{Credentials, OAuthSettings};
use super::crypto::{self, MasterKey, NONCE_LEN, Sealed};

pub const DB_FILE: &str = "okta-connector.db";
const SCHEMA_VERSION: i64 = 1;
const KEY_CHECK: &[u8] = b"okta-connector key check";
const KEY_CHECK_AD: &[u8] = b"meta:key_check";

/// How a connection authenticates, as stored. Never holds a secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    ApiToken,
    ClientCredentials,
    AuthorizationCode,
}

impl AuthKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::ApiToken => "api_token",
            AuthKind::ClientCredentials => "client_credentials",
            AuthKind::AuthorizationCode => "authorization_code",
        }
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        match text {
            "api_token" => Ok(AuthKind::ApiToken),
            "client_credentials" => Ok(AuthKind::ClientCredentials),
            "authorization_code" => Ok(AuthKind::AuthorizationCode),
            other => bail!(
                "this store has a connection with auth '{other}', which this version of okta-connector \
                 does not know: upgrade okta-connector"
            ),
        }
    }

    /// For people: "API token".
    pub fn label(self) -> &'static str {
        match self {
            AuthKind::ApiToken => "API token",
            AuthKind::ClientCredentials => "OAuth client credentials (API Services app)",
            AuthKind::AuthorizationCode => "OAuth authorization code (Web app)",
        }
    }

    pub fn of(auth: &Auth) -> AuthKind {
        match auth {
            Auth::ApiToken(_) => AuthKind::ApiToken,
            Auth::ClientCredentials(_) => AuthKind::ClientCredentials,
            Auth::AuthorizationCode(_) => AuthKind::AuthorizationCode,
        }
    }

    pub fn of_credentials(credentials: &Credentials) -> AuthKind {
        match credentials {
            Credentials::ApiToken(_) => AuthKind::ApiToken,
            Credentials::ClientCredentials { .. } => AuthKind::ClientCredentials,
            Credentials::AuthorizationCode { .. } => AuthKind::AuthorizationCode,
        }
    }
}

/// The secrets of a connection as the JSON object that gets sealed.
fn secrets_json(credentials: &Credentials) -> Value {
    match credentials {
        Credentials::ApiToken(token) => json!({ "token": token.expose() }),
        Credentials::ClientCredentials {
            private_key,
            dpop_key,
            ..
        } => json!({ "private_key": private_key.expose(), "dpop_key": dpop_key.expose() }),
        Credentials::AuthorizationCode {
            client_secret,
            dpop_key,
            refresh_token,
            ..
        } => json!({
            "client_secret": client_secret.expose(),
            "dpop_key": dpop_key.expose(),
            "refresh_token": refresh_token.as_ref().map(SecretString::expose),
        }),
    }
}

fn credentials_from(
    kind: AuthKind,
    settings: Option<OAuthSettings>,
    secrets: &Value,
) -> anyhow::Result<Credentials> {
    let secret = |field: &str| -> anyhow::Result<SecretString> {
        secrets[field]
            .as_str()
            .map(SecretString::new)
            .with_context(|| {
                format!("the stored connection is damaged (no {field} in the decrypted record)")
            })
    };
    let settings = || {
        settings
            .clone()
            .context("the stored connection is damaged (no settings)")
    };
    Ok(match kind {
        AuthKind::ApiToken => Credentials::ApiToken(secret("token")?),
        AuthKind::ClientCredentials => Credentials::ClientCredentials {
            settings: settings()?,
            private_key: secret("private_key")?,
            dpop_key: secret("dpop_key")?,
        },
        AuthKind::AuthorizationCode => Credentials::AuthorizationCode {
            settings: settings()?,
            client_secret: secret("client_secret")?,
            dpop_key: secret("dpop_key")?,
            refresh_token: secret("refresh_token").ok(),
        },
    })
}

/// A stored connection without its secret: what `list` and `show` print.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub name: String,
    pub org_url: String,
    pub auth: AuthKind,
    pub allow_custom_domain: bool,
    /// RFC 3339, UTC.
    pub created: String,
    pub is_default: bool,
    /// The OAuth settings (client id, scopes, ...): none for an API token.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthSettings>,
}

/// A connection to add.
pub struct NewConnection {
    pub name: String,
    pub org_url: Url,
    pub credentials: Credentials,
    pub allow_custom_domain: bool,
    /// Make it the default. The first connection of a store becomes the default anyway.
    pub make_default: bool,
}

/// What `add` did.
#[derive(Debug, PartialEq, Eq)]
pub struct Added {
    pub replaced: bool,
    pub is_default: bool,
}

pub struct Store {
    db: rusqlite::Connection,
    dir: PathBuf,
    key_env: Option<String>,
    key: OnceCell<MasterKey>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.path().display())
    }
}

/// Connection names: short, and safe in a shell, a file name and a URL.
pub fn validate_name(name: &str) -> anyhow::Result<()> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if name.is_empty() || name.len() > 64 || !ok_chars || name.starts_with(['-', '.']) {
        bail!(
            "'{name}' is not a usable connection name: use 1 to 64 letters, digits, '-', '_' or '.', \
             starting with a letter or digit (e.g. prod, acme-preview)"
        );
    }
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the store in `state_dir`. `key_env` is OKTA_CONNECTOR_MASTER_KEY.
    pub fn open(state_dir: &Path, key_env: Option<String>) -> anyhow::Result<Store> {
        crypto::create_private_dir(state_dir)?;
        let path = state_dir.join(DB_FILE);
        let mut db = rusqlite::Connection::open(&path)
            .with_context(|| format!("cannot open the connection store {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).with_context(
                || format!("cannot restrict the permissions of {}", path.display()),
            )?;
        }
        // Two commands at once (a CLI call while the daemon runs) wait for each other.
        db.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut db)
            .with_context(|| format!("cannot prepare the connection store {}", path.display()))?;
        Ok(Store {
            db,
            dir: state_dir.to_path_buf(),
            key_env,
            key: OnceCell::new(),
        })
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }

    pub fn list(&self) -> anyhow::Result<Vec<Entry>> {
        let mut stmt = self.db.prepare(&format!("{SELECT_ENTRY} ORDER BY name"))?;
        let rows = stmt.query_map([], entry_row)?;
        let mut entries = Vec::new();
        for row in rows {
            entries.push(row??);
        }
        Ok(entries)
    }

    pub fn entry(&self, name: &str) -> anyhow::Result<Option<Entry>> {
        let entry = self
            .db
            .query_row(
                &format!("{SELECT_ENTRY} WHERE name = ?1"),
                [name],
                entry_row,
            )
            .optional()?;
        entry.transpose()
    }

    pub fn default_entry(&self) -> anyhow::Result<Option<Entry>> {
        let entry = self
            .db
            .query_row(
                &format!("{SELECT_ENTRY} WHERE is_default = 1"),
                [],
                entry_row,
            )
            .optional()?;
        entry.transpose()
    }

    /// The entry, or an error that lists what the store has.
    pub fn require(&self, name: &str) -> anyhow::Result<Entry> {
        match self.entry(name)? {
            Some(entry) => Ok(entry),
            None => Err(self.not_found(name)),
        }
    }

    fn not_found(&self, name: &str) -> anyhow::Error {
        let names: Vec<String> = self
            .list()
            .map(|entries| entries.into_iter().map(|e| e.name).collect())
            .unwrap_or_default();
        if names.is_empty() {
            anyhow::anyhow!(
                "no connection named '{name}': the store {} has none; add one with \
                 `okta-connector connections add {name} --org-url ORG.okta.com`",
                self.path().display()
            )
        } else {
            anyhow::anyhow!(
                "no connection named '{name}' (stored: {}); see `okta-connector connections list`",
                names.join(", ")
            )
        }
    }

    /// Adds a connection (or replaces one of the same name when `replace`), all or nothing.
    pub fn add(&mut self, new: &NewConnection, replace: bool) -> anyhow::Result<Added> {
        validate_name(&new.name)?;
        let has_check = has_key_check(&self.db)?;
        self.unlock(!has_check)?;
        let key = self.key.get().expect("unlocked above");
        let tx = self.db.transaction()?;
        if !has_key_check(&tx)? {
            let sealed = key.seal(KEY_CHECK, KEY_CHECK_AD)?;
            tx.execute(
                "INSERT INTO meta (key, nonce, value) VALUES ('key_check', ?1, ?2)",
                params![&sealed.nonce[..], sealed.ciphertext],
            )?;
        }
        let existing: Option<bool> = tx
            .query_row(
                "SELECT is_default FROM connections WHERE name = ?1",
                [&new.name],
                |r| r.get(0),
            )
            .optional()?;
        if existing.is_some() && !replace {
            bail!(
                "a connection named '{}' already exists: add --replace to overwrite it, or choose another name",
                new.name
            );
        }
        let has_default: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM connections WHERE is_default = 1 AND name <> ?1)",
            [&new.name],
            |r| r.get(0),
        )?;
        let is_default = new.make_default || !has_default;
        if is_default {
            tx.execute("UPDATE connections SET is_default = 0", [])?;
        }
        let plaintext = serde_json::to_vec(&secrets_json(&new.credentials))?;
        let sealed = key.seal(&plaintext, new.name.as_bytes())?;
        let settings = match new.credentials.settings() {
            Some(settings) => serde_json::to_string(settings)?,
            None => "{}".to_string(),
        };
        let created = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)?;
        tx.execute(
            "INSERT INTO connections
                 (name, org_url, auth_kind, nonce, secret, settings, allow_custom_domain, created, is_default)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (name) DO UPDATE SET
                 org_url = excluded.org_url, auth_kind = excluded.auth_kind, nonce = excluded.nonce,
                 secret = excluded.secret, settings = excluded.settings,
                 allow_custom_domain = excluded.allow_custom_domain, created = excluded.created,
                 is_default = excluded.is_default",
            params![
                new.name,
                new.org_url.as_str(),
                AuthKind::of_credentials(&new.credentials).as_str(),
                &sealed.nonce[..],
                sealed.ciphertext,
                settings,
                new.allow_custom_domain,
                created,
                is_default,
            ],
        )?;
        tx.commit()?;
        Ok(Added {
            replaced: existing.is_some(),
            is_default,
        })
    }

    /// The connection, ready to use: its credentials decrypted and turned into the client's auth.
    pub fn connection(&self, name: &str) -> anyhow::Result<Connection> {
        let entry = self.require(name)?;
        let credentials = self.credentials(name)?;
        let refresh_tokens = StoredRefreshToken {
            dir: self.dir.clone(),
            key_env: self.key_env.clone(),
            name: name.to_string(),
        };
        Ok(Connection {
            name: entry.name,
            org_url: Url::parse(&entry.org_url)?,
            auth: credentials.to_auth(Some(std::sync::Arc::new(refresh_tokens)))?,
        })
    }

    /// The stored credentials of `name`, secrets decrypted.
    pub fn credentials(&self, name: &str) -> anyhow::Result<Credentials> {
        let entry = self.require(name)?;
        let secrets = self.secrets(&self.db, name)?;
        credentials_from(entry.auth, entry.oauth, &secrets)
    }

    fn secrets(&self, db: &rusqlite::Connection, name: &str) -> anyhow::Result<Value> {
        let (nonce, ciphertext): (Vec<u8>, Vec<u8>) = db.query_row(
            "SELECT nonce, secret FROM connections WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        self.unlock(false)?;
        let key = self.key.get().expect("unlocked above");
        let sealed = Sealed {
            nonce: nonce.try_into().map_err(|_| {
                anyhow::anyhow!("the stored secret of '{name}' is damaged (bad nonce)")
            })?,
            ciphertext,
        };
        let plaintext = key.open(&sealed, name.as_bytes()).map_err(|_| {
            anyhow::anyhow!("cannot decrypt the secret of '{name}': it was altered in the store")
        })?;
        serde_json::from_slice(&plaintext)
            .map_err(|_| anyhow::anyhow!("the stored secret of '{name}' is damaged"))
    }

    /// Stores a new refresh token for an authorization-code connection, in one transaction: read the
    /// sealed secrets, replace the token, seal again, write. SQLite syncs the commit to disk, so after
    /// this returns the new token survives a crash; if it fails, the old token is still there.
    pub fn set_refresh_token(&mut self, name: &str, token: &SecretString) -> anyhow::Result<()> {
        let entry = self.require(name)?;
        if entry.auth != AuthKind::AuthorizationCode {
            bail!("'{name}' is not an authorization code connection: it has no refresh token");
        }
        self.unlock(false)?;
        // IMMEDIATE: take the write lock before reading, so two processes rotating at once serialize.
        let tx = rusqlite::Transaction::new_unchecked(
            &self.db,
            rusqlite::TransactionBehavior::Immediate,
        )?;
        let mut secrets = self.secrets(&tx, name)?;
        secrets["refresh_token"] = json!(token.expose());
        let key = self.key.get().expect("unlocked above");
        let sealed = key.seal(&serde_json::to_vec(&secrets)?, name.as_bytes())?;
        tx.execute(
            "UPDATE connections SET nonce = ?1, secret = ?2 WHERE name = ?3",
            params![&sealed.nonce[..], sealed.ciphertext, name],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn remove(&mut self, name: &str) -> anyhow::Result<Entry> {
        let entry = self.require(name)?;
        self.db
            .execute("DELETE FROM connections WHERE name = ?1", [name])?;
        Ok(entry)
    }

    pub fn set_default(&mut self, name: &str) -> anyhow::Result<()> {
        self.require(name)?;
        let tx = self.db.transaction()?;
        // Two statements: SQLite checks the one-default index row by row, not at the end.
        tx.execute("UPDATE connections SET is_default = 0", [])?;
        tx.execute(
            "UPDATE connections SET is_default = 1 WHERE name = ?1",
            [name],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Loads the master key once and checks it against the store's key check (when there is one):
    /// a different key is refused here, before it decrypts or writes anything.
    fn unlock(&self, create: bool) -> anyhow::Result<()> {
        if self.key.get().is_some() {
            return Ok(());
        }
        let key = MasterKey::load(&self.dir, self.key_env.as_deref(), create)?;
        let check: Option<(Vec<u8>, Vec<u8>)> = self
            .db
            .query_row(
                "SELECT nonce, value FROM meta WHERE key = 'key_check'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((nonce, ciphertext)) = check {
            let sealed = Sealed {
                nonce: nonce.try_into().unwrap_or([0; NONCE_LEN]),
                ciphertext,
            };
            if key.open(&sealed, KEY_CHECK_AD).is_err() {
                bail!(
                    "cannot decrypt: the master key differs from the one that encrypted this store \
                     (key from {}; store {}). Set {} to the key the store was created with, or use \
                     another --state directory",
                    key.origin,
                    self.path().display(),
                    crypto::MASTER_KEY_VAR,
                );
            }
        }
        let _ = self.key.set(key);
        Ok(())
    }
}

const SELECT_ENTRY: &str = "SELECT name, org_url, auth_kind, allow_custom_domain, created, is_default, \
     settings FROM connections";

fn entry_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<anyhow::Result<Entry>> {
    let kind: String = r.get(2)?;
    let settings: String = r.get(6)?;
    let name: String = r.get(0).unwrap_or_default();
    Ok(AuthKind::parse(&kind).and_then(|auth| {
        let oauth = match auth {
            AuthKind::ApiToken => None,
            _ => Some(
                serde_json::from_str(&settings)
                    .map_err(|_| anyhow::anyhow!("the stored settings of '{name}' are damaged"))?,
            ),
        };
        Ok(Entry {
            name,
            org_url: r.get(1).unwrap_or_default(),
            auth,
            allow_custom_domain: r.get(3).unwrap_or_default(),
            created: r.get(4).unwrap_or_default(),
            is_default: r.get(5).unwrap_or_default(),
            oauth,
        })
    }))
}

/// The refresh token of an authorization-code connection, read from and written to the store: what
/// okta-client calls when Okta rotates the token. Each call opens the store afresh, so a token rotated
/// by another process (the daemon, another CLI call) is seen, and nothing is held between calls.
struct StoredRefreshToken {
    dir: PathBuf,
    key_env: Option<String>,
    name: String,
}

impl StoredRefreshToken {
    fn store(&self) -> anyhow::Result<Store> {
        Store::open(&self.dir, self.key_env.clone())
    }
}

impl okta_client::RefreshTokenStore for StoredRefreshToken {
    fn current(&self) -> Option<SecretString> {
        match self.store().and_then(|s| s.credentials(&self.name)).ok()? {
            Credentials::AuthorizationCode { refresh_token, .. } => refresh_token,
            _ => None,
        }
    }

    fn replace(&self, new: &SecretString) -> Result<(), String> {
        self.store()
            .and_then(|mut s| s.set_refresh_token(&self.name, new))
            .map_err(|e| {
                format!(
                    "cannot store the new refresh token of '{}': {e:#}",
                    self.name
                )
            })
    }
}

fn has_key_check(db: &rusqlite::Connection) -> anyhow::Result<bool> {
    Ok(db.query_row(
        "SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'key_check')",
        [],
        |r| r.get(0),
    )?)
}

/// Brings the schema to [`SCHEMA_VERSION`], one version step per transaction.
fn migrate(db: &mut rusqlite::Connection) -> anyhow::Result<()> {
    let version: i64 = db.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        bail!(
            "the store was written by a newer okta-connector (schema {version}, this one knows {SCHEMA_VERSION}): \
             upgrade okta-connector"
        );
    }
    if version < 1 {
        let tx = db.transaction()?;
        create_v1(&tx)?;
        tx.pragma_update(None, "user_version", 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn create_v1(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE connections (
             name                TEXT PRIMARY KEY NOT NULL,
             org_url             TEXT NOT NULL,
             auth_kind           TEXT NOT NULL,
             nonce               BLOB NOT NULL,
             secret              BLOB NOT NULL,
             settings            TEXT NOT NULL DEFAULT '{}',
             allow_custom_domain INTEGER NOT NULL DEFAULT 0,
             created             TEXT NOT NULL,
             is_default          INTEGER NOT NULL DEFAULT 0
         );
         CREATE UNIQUE INDEX connections_one_default ON connections (is_default) WHERE is_default = 1;
         CREATE TABLE meta (
             key   TEXT PRIMARY KEY NOT NULL,
             nonce BLOB NOT NULL,
             value BLOB NOT NULL
         );",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const KEY_B: &str = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const TOKEN: &str = "00TOKENvalue-never-in-clear";

    fn new(name: &str, make_default: bool) -> NewConnection {
        NewConnection {
            name: name.into(),
            org_url: Url::parse("https://acme.okta.com/").unwrap(),
            credentials: Credentials::ApiToken(SecretString::new(TOKEN)),
            allow_custom_domain: false,
            make_default,
        }
    }

    #[test]
    fn add_list_load_default_remove() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), Some(KEY_A.into())).unwrap();
        assert!(store.list().unwrap().is_empty());
        let added = store.add(&new("prod", false), false).unwrap();
        assert_eq!(
            added,
            Added {
                replaced: false,
                is_default: true
            },
            "the first is the default"
        );
        store.add(&new("dev", false), false).unwrap();
        let names: Vec<_> = store
            .list()
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.is_default))
            .collect();
        assert_eq!(names, vec![("dev".into(), false), ("prod".into(), true)]);

        let conn = store.connection("dev").unwrap();
        let Auth::ApiToken(token) = &conn.auth else {
            panic!("{:?}", conn.auth)
        };
        assert_eq!(token.expose(), TOKEN);
        assert_eq!(conn.org_url.as_str(), "https://acme.okta.com/");
        assert!(!format!("{conn:?}").contains(TOKEN));

        store.set_default("dev").unwrap();
        assert_eq!(store.default_entry().unwrap().unwrap().name, "dev");
        let removed = store.remove("dev").unwrap();
        assert!(removed.is_default);
        assert!(store.default_entry().unwrap().is_none());
        let e = store.remove("dev").unwrap_err().to_string();
        assert!(
            e.contains("no connection named 'dev' (stored: prod)"),
            "{e}"
        );
    }

    const CLIENT_SECRET: &str = "client-secret-never-in-clear";
    const REFRESH_1: &str = "refresh-token-one-never-in-clear";
    const REFRESH_2: &str = "refresh-token-two-never-in-clear";

    fn web_app(name: &str) -> NewConnection {
        NewConnection {
            credentials: Credentials::AuthorizationCode {
                settings: OAuthSettings {
                    client_id: "0oaWEB".into(),
                    scopes: vec!["okta.logs.read".into(), "offline_access".into()],
                    key_id: None,
                    dpop: "auto".into(),
                    redirect_uri: Some("http://127.0.0.1:8765/callback".into()),
                },
                client_secret: SecretString::new(CLIENT_SECRET),
                dpop_key: SecretString::new("dpop-key-text"),
                refresh_token: None,
            },
            ..new(name, false)
        }
    }

    fn refresh_token_of(store: &Store, name: &str) -> Option<String> {
        match store.credentials(name).unwrap() {
            Credentials::AuthorizationCode { refresh_token, .. } => {
                refresh_token.map(|t| t.expose().to_string())
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn oauth_settings_are_plain_and_secrets_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), Some(KEY_A.into())).unwrap();
        store.add(&web_app("web"), false).unwrap();
        let entry = store.entry("web").unwrap().unwrap();
        assert_eq!(entry.auth, AuthKind::AuthorizationCode);
        assert_eq!(entry.oauth.as_ref().unwrap().client_id, "0oaWEB");
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(
            json["client_id"], "0oaWEB",
            "settings are shown flat: {json}"
        );
        assert_eq!(json["auth"], "authorization_code");
        assert_eq!(refresh_token_of(&store, "web"), None, "not logged in yet");
        store
            .set_refresh_token("web", &SecretString::new(REFRESH_1))
            .unwrap();
        assert_eq!(refresh_token_of(&store, "web").as_deref(), Some(REFRESH_1));
        let e = store
            .set_refresh_token("web-missing", &SecretString::new(REFRESH_1))
            .unwrap_err();
        assert!(e.to_string().contains("no connection named"), "{e}");
        drop(store);
        let bytes = std::fs::read(dir.path().join(DB_FILE)).unwrap();
        for secret in [CLIENT_SECRET, REFRESH_1, "dpop-key-text"] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret}"
            );
        }
        assert!(
            bytes.windows(6).any(|w| w == b"0oaWEB"),
            "settings are plain"
        );
    }

    #[test]
    fn a_rotated_refresh_token_is_stored_atomically() {
        use okta_client::RefreshTokenStore;
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), Some(KEY_A.into())).unwrap();
        store.add(&web_app("web"), false).unwrap();
        store
            .set_refresh_token("web", &SecretString::new(REFRESH_1))
            .unwrap();
        let tokens = StoredRefreshToken {
            dir: dir.path().to_path_buf(),
            key_env: Some(KEY_A.into()),
            name: "web".into(),
        };
        assert_eq!(tokens.current().unwrap().expose(), REFRESH_1);
        tokens.replace(&SecretString::new(REFRESH_2)).unwrap();
        assert_eq!(tokens.current().unwrap().expose(), REFRESH_2);
        assert_eq!(
            refresh_token_of(&store, "web").as_deref(),
            Some(REFRESH_2),
            "another handle sees it"
        );

        // A write that fails inside the transaction (a disk error, say) must leave the old token.
        store
            .db
            .execute_batch(
                "CREATE TRIGGER fail BEFORE UPDATE ON connections BEGIN SELECT RAISE(ABORT, 'injected'); END;",
            )
            .unwrap();
        let e = tokens.replace(&SecretString::new(REFRESH_1)).unwrap_err();
        assert!(
            e.contains("cannot store the new refresh token") && e.contains("injected"),
            "{e}"
        );
        assert!(!e.contains(REFRESH_1), "{e}");
        assert_eq!(
            tokens.current().unwrap().expose(),
            REFRESH_2,
            "the old token is still there"
        );
    }

    #[test]
    fn add_refuses_duplicates_unless_replacing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), Some(KEY_A.into())).unwrap();
        store.add(&new("prod", false), false).unwrap();
        let e = store
            .add(&new("prod", false), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("already exists: add --replace"), "{e}");
        let again = store.add(&new("prod", false), true).unwrap();
        assert_eq!(
            again,
            Added {
                replaced: true,
                is_default: true
            }
        );
        assert_eq!(store.list().unwrap().len(), 1);
    }

    #[test]
    fn the_secret_is_not_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), Some(KEY_A.into())).unwrap();
        store.add(&new("prod", false), false).unwrap();
        drop(store);
        let bytes = std::fs::read(dir.path().join(DB_FILE)).unwrap();
        assert!(!bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()));
        assert!(
            bytes.windows(13).any(|w| w == b"acme.okta.com"),
            "the file is the store"
        );
    }

    #[test]
    fn a_wrong_key_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), Some(KEY_A.into())).unwrap();
        store.add(&new("prod", false), false).unwrap();
        drop(store);
        let before = std::fs::read(dir.path().join(DB_FILE)).unwrap();

        let mut wrong = Store::open(dir.path(), Some(KEY_B.into())).unwrap();
        let e = wrong.connection("prod").unwrap_err().to_string();
        assert!(e.contains("master key differs"), "{e}");
        let e = wrong
            .add(&new("dev", false), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("master key differs"), "{e}");
        assert_eq!(wrong.list().unwrap().len(), 1, "list needs no key");
        drop(wrong);
        assert_eq!(std::fs::read(dir.path().join(DB_FILE)).unwrap(), before);
    }

    #[test]
    fn a_secret_moved_to_another_row_does_not_decrypt() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), Some(KEY_A.into())).unwrap();
        store.add(&new("a", false), false).unwrap();
        store.add(&new("b", false), false).unwrap();
        store
            .db
            .execute(
                "UPDATE connections SET nonce = (SELECT nonce FROM connections WHERE name = 'a'),
                 secret = (SELECT secret FROM connections WHERE name = 'a') WHERE name = 'b'",
                [],
            )
            .unwrap();
        let e = store.connection("b").unwrap_err().to_string();
        assert!(e.contains("altered"), "{e}");
    }

    #[test]
    fn schema_is_versioned_and_newer_stores_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), None).unwrap();
        let v: i64 = store
            .db
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        store.db.pragma_update(None, "user_version", 99).unwrap();
        drop(store);
        let e = Store::open(dir.path(), None).unwrap_err();
        assert!(format!("{e:#}").contains("newer okta-connector"), "{e:#}");
    }

    #[test]
    fn names_are_checked() {
        for good in ["prod", "acme-preview", "a.b_c", "X1"] {
            validate_name(good).unwrap();
        }
        for bad in ["", "-x", ".x", "a b", "a/b", &"x".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }
}
