//! The Okta SDK conventions, so a machine already set up for Okta's SDKs (or Terraform, or okta-cli)
//! works unchanged: the OKTA_CLIENT_* variables, then `~/.okta/okta.yaml`:
//!
//! ```yaml
//! okta:
//!   client:
//!     orgUrl: https://acme.okta.com
//!     token: 00abc...
//!     authorizationMode: SSWS   # optional; SSWS is the default
//! ```
//!
//! or, for an API Services app (client credentials with a private key, as the SDKs' `PrivateKey` mode):
//!
//! ```yaml
//! okta:
//!   client:
//!     orgUrl: https://acme.okta.com
//!     authorizationMode: PrivateKey
//!     clientId: 0oa1b2c3
//!     scopes: [okta.users.read, okta.logs.read, okta.schemas.read]   # or one space/comma separated string
//!     privateKey: /home/me/.okta/key.pem   # the PEM/JWK text, or a file holding it
//!     privateKeyId: kid-1                  # optional (Java's SDK calls it kid)
//! ```
//!
//! The variables are the same names in capitals: OKTA_CLIENT_AUTHORIZATIONMODE, OKTA_CLIENT_CLIENTID,
//! OKTA_CLIENT_SCOPES, OKTA_CLIENT_PRIVATEKEY, OKTA_CLIENT_PRIVATEKEYID (Go, Python) or OKTA_CLIENT_KID
//! (Java).
//!
//! Decisions:
//! * The first place that names an org supplies the whole connection: unlike the SDKs, the variables
//!   and the file are not merged field by field, so what `connections show` reports is one source.
//! * The org URL goes through the same rules as `connections add`, except that a custom domain is
//!   accepted: the user wrote this URL into their own SDK configuration on purpose, and Okta's SDKs
//!   accept it there. https, no path, and the `-admin` correction still apply.
//! * The private key is the key text (PEM or JWK; a PEM whose line breaks were written as `\n`, as
//!   in many shell profiles, is accepted) or else a path to a file holding it: Okta's Go SDK takes the
//!   text, the Java SDK a file, and the two cannot be confused.
//! * DPoP runs in auto mode with a key generated per process: nothing is stored for these sources.
//! * The SDKs' other OAuth modes (JWT with a pre-signed assertion, Bearer) are refused by name.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use okta_client::{PrivateKey, SecretString};
use serde::Deserialize;

use super::credentials::{self, Credentials, OAuthSettings};
use super::domain::OrgUrl;
use super::{Connection, Environment};

pub const ORG_URL_VAR: &str = "OKTA_CLIENT_ORGURL";
pub const TOKEN_VAR: &str = "OKTA_CLIENT_TOKEN";
pub const MODE_VAR: &str = "OKTA_CLIENT_AUTHORIZATIONMODE";
pub const CLIENT_ID_VAR: &str = "OKTA_CLIENT_CLIENTID";
pub const SCOPES_VAR: &str = "OKTA_CLIENT_SCOPES";
pub const PRIVATE_KEY_VAR: &str = "OKTA_CLIENT_PRIVATEKEY";
pub const KEY_ID_VAR: &str = "OKTA_CLIENT_PRIVATEKEYID";
pub const KID_VAR: &str = "OKTA_CLIENT_KID";

/// The OKTA_CLIENT_* variables the SDKs read, named in messages when set (never their values).
const SDK_VARS: &[&str] = &[
    ORG_URL_VAR,
    TOKEN_VAR,
    MODE_VAR,
    CLIENT_ID_VAR,
    SCOPES_VAR,
    PRIVATE_KEY_VAR,
    KEY_ID_VAR,
    KID_VAR,
];

/// A connection from the SDK conventions, with the corrections made to its org URL.
pub struct SdkConnection {
    pub connection: Connection,
    pub warnings: Vec<String>,
}

/// One source's values, and how that source names them (for messages).
struct Fields {
    org_url: Option<String>,
    token: Option<String>,
    mode: Option<String>,
    client_id: Option<String>,
    scopes: Vec<String>,
    private_key: Option<String>,
    key_id: Option<String>,
}

struct Names {
    org_url: &'static str,
    token: &'static str,
    client_id: &'static str,
    scopes: &'static str,
    private_key: &'static str,
}

/// From the OKTA_CLIENT_* variables: `None` when neither the org URL nor the token is set.
pub fn from_env(env: &Environment<'_>) -> anyhow::Result<Option<SdkConnection>> {
    let var = |name: &str| (env.var)(name).filter(|v| !v.trim().is_empty());
    let fields = Fields {
        org_url: var(ORG_URL_VAR),
        token: var(TOKEN_VAR),
        mode: var(MODE_VAR),
        client_id: var(CLIENT_ID_VAR),
        scopes: credentials::parse_scopes(&var(SCOPES_VAR).unwrap_or_default()),
        private_key: var(PRIVATE_KEY_VAR),
        key_id: var(KEY_ID_VAR).or_else(|| var(KID_VAR)),
    };
    if fields.org_url.is_none() && fields.token.is_none() {
        return Ok(None);
    }
    let seen: Vec<&str> = SDK_VARS
        .iter()
        .copied()
        .filter(|name| (env.var)(name).is_some())
        .collect();
    let origin = format!("the environment ({})", seen.join(", "));
    let names = Names {
        org_url: ORG_URL_VAR,
        token: TOKEN_VAR,
        client_id: CLIENT_ID_VAR,
        scopes: SCOPES_VAR,
        private_key: PRIVATE_KEY_VAR,
    };
    build(
        "(environment)",
        &origin,
        fields,
        &names,
        env.home.as_deref(),
    )
    .map(Some)
}

/// `~/.okta/okta.yaml` under `home`.
pub fn okta_yaml_path(home: &Path) -> PathBuf {
    home.join(".okta").join("okta.yaml")
}

/// From `~/.okta/okta.yaml`: `None` when there is no such file or it names no org and no token.
pub fn from_okta_yaml(path: &Path) -> anyhow::Result<Option<SdkConnection>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    // serde_yaml's errors quote the offending line, which may hold the token: report the position only.
    let file: OktaYaml = serde_yaml::from_str(&text).map_err(|e| match e.location() {
        Some(at) => anyhow::anyhow!(
            "{} is not valid okta.yaml (line {}, column {}): expected okta: client: orgUrl / token",
            path.display(),
            at.line(),
            at.column()
        ),
        None => anyhow::anyhow!("{} is not valid okta.yaml", path.display()),
    })?;
    let client = file.okta.and_then(|o| o.client).unwrap_or_default();
    let nonempty = |v: Option<String>| v.filter(|t| !t.trim().is_empty());
    let fields = Fields {
        org_url: nonempty(client.org_url),
        token: nonempty(client.token),
        mode: nonempty(client.authorization_mode),
        client_id: nonempty(client.client_id),
        scopes: match client.scopes {
            Some(Scopes::List(list)) => credentials::parse_scopes(&list.join(" ")),
            Some(Scopes::Text(text)) => credentials::parse_scopes(&text),
            None => Vec::new(),
        },
        private_key: nonempty(client.private_key),
        key_id: nonempty(client.private_key_id).or(nonempty(client.kid)),
    };
    if fields.org_url.is_none() && fields.token.is_none() {
        return Ok(None);
    }
    let names = Names {
        org_url: "okta.client.orgUrl",
        token: "okta.client.token",
        client_id: "okta.client.clientId",
        scopes: "okta.client.scopes",
        private_key: "okta.client.privateKey",
    };
    // A relative key path is relative to the file's directory, as a reader of the file expects.
    let home = path.parent().and_then(Path::parent);
    build(
        "(okta.yaml)",
        &path.display().to_string(),
        fields,
        &names,
        home,
    )
    .map(Some)
}

fn build(
    name: &str,
    origin: &str,
    fields: Fields,
    names: &Names,
    home: Option<&Path>,
) -> anyhow::Result<SdkConnection> {
    let private_key_mode = match fields.mode.as_deref().map(str::trim) {
        None | Some("") => false,
        Some(m) if m.eq_ignore_ascii_case("SSWS") => false,
        Some(m) if m.eq_ignore_ascii_case("PrivateKey") => true,
        Some(other) => bail!(
            "{origin} asks for authorization mode '{other}', which okta-connector does not support: use \
             SSWS (an API token in {}) or PrivateKey (an API Services app: {}, {} and {})",
            names.token,
            names.client_id,
            names.scopes,
            names.private_key
        ),
    };
    let Some(org_url) = fields.org_url.as_deref() else {
        bail!(
            "{origin} sets {} but not {}: set {} to your org, e.g. https://acme.okta.com",
            names.token,
            names.org_url,
            names.org_url
        );
    };
    // A custom domain is accepted here: see the module comment.
    let parsed =
        OrgUrl::parse(org_url, true).with_context(|| format!("{} in {origin}", names.org_url))?;
    let credentials = if private_key_mode {
        private_key_credentials(origin, fields, names, home)?
    } else {
        let Some(token) = fields.token else {
            bail!(
                "{origin} sets {} but not {}: set {} to an API token (Admin Console > Security > API > \
                 Tokens), or use authorization mode PrivateKey",
                names.org_url,
                names.token,
                names.token
            );
        };
        Credentials::ApiToken(SecretString::new(token.trim()))
    };
    Ok(SdkConnection {
        connection: Connection {
            name: name.to_string(),
            org_url: parsed.url,
            auth: credentials.to_auth(None)?,
        },
        warnings: parsed.warnings.iter().map(ToString::to_string).collect(),
    })
}

fn private_key_credentials(
    origin: &str,
    fields: Fields,
    names: &Names,
    home: Option<&Path>,
) -> anyhow::Result<Credentials> {
    let missing = |field: &str, what: &str| {
        anyhow::anyhow!(
            "{origin} asks for authorization mode PrivateKey but does not set {field}: {what}"
        )
    };
    let client_id = fields.client_id.ok_or_else(|| {
        missing(
            names.client_id,
            "the API Services app's Client ID (its General tab)",
        )
    })?;
    if fields.scopes.is_empty() {
        return Err(missing(
            names.scopes,
            "the okta.* scopes granted to the app, e.g. okta.users.read okta.logs.read okta.schemas.read",
        ));
    }
    let value = fields.private_key.ok_or_else(|| {
        missing(
            names.private_key,
            "the app's private key (PEM or JWK text, or a file holding it)",
        )
    })?;
    let text =
        key_text(&value, home).with_context(|| format!("{} in {origin}", names.private_key))?;
    let key = credentials::parse_key(&text, &format!("{} in {origin}", names.private_key))?;
    Ok(Credentials::ClientCredentials {
        settings: OAuthSettings {
            client_id: client_id.trim().to_string(),
            scopes: fields.scopes,
            key_id: fields.key_id.or(key.key_id.clone()),
            dpop: "auto".to_string(),
            redirect_uri: None,
        },
        private_key: SecretString::new(text),
        dpop_key: PrivateKey::generate_es256().to_text(),
    })
}

/// The key text: the value itself when it is a PEM or JWK (a `\n` written for each line break is
/// turned back into one), else the content of the file it names (`~/` is the home directory).
fn key_text(value: &str, home: Option<&Path>) -> anyhow::Result<String> {
    let value = value.trim();
    if value.starts_with("-----BEGIN") || value.starts_with('{') {
        return Ok(if value.contains('\n') {
            value.to_string()
        } else {
            value.replace("\\n", "\n")
        });
    }
    let path = match (value.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(value),
    };
    // The value is a path, not a secret: naming it helps the user find the file.
    std::fs::read_to_string(&path).with_context(|| {
        format!(
            "neither a PEM or JWK key nor a readable file ({}): give the key text or the path of a \
             file holding it",
            path.display()
        )
    })
}

#[derive(Deserialize)]
struct OktaYaml {
    okta: Option<OktaSection>,
}

#[derive(Deserialize)]
struct OktaSection {
    client: Option<ClientSection>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientSection {
    org_url: Option<String>,
    token: Option<String>,
    authorization_mode: Option<String>,
    client_id: Option<String>,
    scopes: Option<Scopes>,
    private_key: Option<String>,
    private_key_id: Option<String>,
    kid: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scopes {
    List(Vec<String>),
    Text(String),
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn with_env<T>(vars: &[(&str, &str)], f: impl FnOnce(&Environment<'_>) -> T) -> T {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let var = move |name: &str| map.get(name).cloned();
        f(&Environment {
            var: &var,
            home: None,
        })
    }

    fn token_of(c: &Connection) -> &str {
        let okta_client::Auth::ApiToken(t) = &c.auth else {
            panic!("{:?}", c.auth)
        };
        t.expose()
    }

    #[test]
    fn env_gives_an_api_token_connection() {
        let got = with_env(
            &[
                (ORG_URL_VAR, "https://acme-admin.okta.com/"),
                (TOKEN_VAR, "00tok"),
            ],
            from_env,
        )
        .unwrap()
        .unwrap();
        assert_eq!(got.connection.org_url.as_str(), "https://acme.okta.com/");
        assert_eq!(token_of(&got.connection), "00tok");
        assert_eq!(got.warnings.len(), 1, "the -admin correction is reported");
        assert!(with_env(&[], from_env).unwrap().is_none());
        // A custom domain is the user's explicit choice here.
        let got = with_env(
            &[(ORG_URL_VAR, "sso.example.com"), (TOKEN_VAR, "00tok")],
            from_env,
        )
        .unwrap()
        .unwrap();
        assert_eq!(got.connection.org_url.as_str(), "https://sso.example.com/");
    }

    #[test]
    fn incomplete_or_oauth_env_is_explained_without_secrets() {
        let e = with_env(&[(ORG_URL_VAR, "acme.okta.com")], from_env)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("sets OKTA_CLIENT_ORGURL but not OKTA_CLIENT_TOKEN"),
            "{e}"
        );
        let e = with_env(&[(TOKEN_VAR, "00secret")], from_env)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("but not OKTA_CLIENT_ORGURL") && !e.contains("00secret"),
            "{e}"
        );
        let e = with_env(
            &[
                (ORG_URL_VAR, "acme.okta.com"),
                (MODE_VAR, "JWT"),
                (CLIENT_ID_VAR, "0oa1"),
                (PRIVATE_KEY_VAR, "-----BEGIN PRIVATE KEY-----xyz"),
            ],
            from_env,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.contains("'JWT'") && e.contains("does not support") && e.contains("PrivateKey"),
            "{e}"
        );
        assert!(
            e.contains("OKTA_CLIENT_CLIENTID") && e.contains("OKTA_CLIENT_PRIVATEKEY"),
            "names the variables: {e}"
        );
        assert!(!e.contains("BEGIN PRIVATE KEY"), "{e}");
        let e = with_env(
            &[
                (ORG_URL_VAR, "acme.okta.com"),
                (MODE_VAR, "PrivateKey"),
                (CLIENT_ID_VAR, "0oa1"),
                (PRIVATE_KEY_VAR, "-----BEGIN PRIVATE KEY-----xyz"),
            ],
            from_env,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("does not set OKTA_CLIENT_SCOPES"), "{e}");
        let e = with_env(
            &[(ORG_URL_VAR, "http://acme.okta.com"), (TOKEN_VAR, "00tok")],
            from_env,
        )
        .err()
        .unwrap();
        assert!(
            format!("{e:#}").contains("OKTA_CLIENT_ORGURL in the environment"),
            "{e:#}"
        );
    }

    #[test]
    fn okta_yaml_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = okta_yaml_path(dir.path());
        assert!(
            from_okta_yaml(&path).unwrap().is_none(),
            "no file, no connection"
        );
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            "okta:\n  client:\n    orgUrl: https://dev-1.oktapreview.com\n    token: 00yaml\n    authorizationMode: SSWS\n",
        )
        .unwrap();
        let got = from_okta_yaml(&path).unwrap().unwrap();
        assert_eq!(
            got.connection.org_url.as_str(),
            "https://dev-1.oktapreview.com/"
        );
        assert_eq!(token_of(&got.connection), "00yaml");

        std::fs::write(&path, "okta:\n  client:\n    orgUrl: https://dev-1.okta.com\n    authorizationMode: PrivateKey\n    clientId: x\n    scopes: [okta.logs.read]\n").unwrap();
        let e = from_okta_yaml(&path).err().unwrap().to_string();
        assert!(e.contains("does not set okta.client.privateKey"), "{e}");

        std::fs::write(&path, "okta:\n  client:\n    token: [00broken-secret\n").unwrap();
        let e = from_okta_yaml(&path).err().unwrap().to_string();
        assert!(
            e.contains("not valid okta.yaml") && !e.contains("00broken"),
            "{e}"
        );

        std::fs::write(&path, "okta:\n  testing:\n    disableHttpsCheck: false\n").unwrap();
        assert!(
            from_okta_yaml(&path).unwrap().is_none(),
            "a file about something else is skipped"
        );
    }

    #[test]
    fn private_key_mode_reads_the_key_text_or_a_file() {
        let key = PrivateKey::generate_es256().to_text();
        let pem = key.expose().to_string();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key.pem"), &pem).unwrap();
        let path = dir.path().join("key.pem").display().to_string();
        // The PEM with each line break written as \n, as shell profiles often hold it.
        let escaped = pem.trim().replace('\n', "\\n");
        for (value, scopes) in [
            (pem.as_str(), "okta.users.read,okta.logs.read"),
            (escaped.as_str(), "okta.users.read okta.logs.read"),
            (path.as_str(), "okta.users.read, okta.logs.read"),
        ] {
            let got = with_env(
                &[
                    (ORG_URL_VAR, "https://acme.okta.com"),
                    (MODE_VAR, "PrivateKey"),
                    (CLIENT_ID_VAR, "0oaSVC"),
                    (SCOPES_VAR, scopes),
                    (PRIVATE_KEY_VAR, value),
                    (KID_VAR, "kid-7"),
                ],
                from_env,
            )
            .unwrap()
            .unwrap();
            let okta_client::Auth::ClientCredentials(c) = &got.connection.auth else {
                panic!("{:?}", got.connection.auth)
            };
            assert_eq!(c.client_id, "0oaSVC");
            assert_eq!(c.scopes, vec!["okta.users.read", "okta.logs.read"]);
            assert_eq!(c.key_id.as_deref(), Some("kid-7"));
            assert_eq!(c.key.algorithm(), "ES256");
        }
        let e = with_env(
            &[
                (ORG_URL_VAR, "https://acme.okta.com"),
                (MODE_VAR, "PrivateKey"),
                (CLIENT_ID_VAR, "0oaSVC"),
                (SCOPES_VAR, "okta.logs.read"),
                (PRIVATE_KEY_VAR, "/nonexistent/key.pem"),
            ],
            from_env,
        )
        .err()
        .unwrap();
        assert!(
            format!("{e:#}").contains("neither a PEM or JWK key nor a readable file"),
            "{e:#}"
        );
    }
}
