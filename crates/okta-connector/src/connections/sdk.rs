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
//! Decisions:
//! * The first place that names an org supplies the whole connection: unlike the SDKs, the variables
//!   and the file are not merged field by field, so what `connections show` reports is one source.
//! * The org URL goes through the same rules as `connections add`, except that a custom domain is
//!   accepted: the user wrote this URL into their own SDK configuration on purpose, and Okta's SDKs
//!   accept it there. https, no path, and the `-admin` correction still apply.
//! * Only API tokens (SSWS) are supported in this version; the OAuth modes are refused by name.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use okta_client::{Auth, SecretString};
use serde::Deserialize;

use super::domain::OrgUrl;
use super::{Connection, Environment};

pub const ORG_URL_VAR: &str = "OKTA_CLIENT_ORGURL";
pub const TOKEN_VAR: &str = "OKTA_CLIENT_TOKEN";
pub const MODE_VAR: &str = "OKTA_CLIENT_AUTHORIZATIONMODE";

/// The OKTA_CLIENT_* variables the SDKs read, named in messages when set (never their values).
const SDK_VARS: &[&str] = &[
    ORG_URL_VAR,
    TOKEN_VAR,
    MODE_VAR,
    "OKTA_CLIENT_CLIENTID",
    "OKTA_CLIENT_SCOPES",
    "OKTA_CLIENT_PRIVATEKEY",
    "OKTA_CLIENT_PRIVATEKEYID",
];

/// A connection from the SDK conventions, with the corrections made to its org URL.
pub struct SdkConnection {
    pub connection: Connection,
    pub warnings: Vec<String>,
}

/// From the OKTA_CLIENT_* variables: `None` when neither the org URL nor the token is set.
pub fn from_env(env: &Environment<'_>) -> anyhow::Result<Option<SdkConnection>> {
    let org_url = (env.var)(ORG_URL_VAR).filter(|v| !v.trim().is_empty());
    let token = (env.var)(TOKEN_VAR).filter(|v| !v.trim().is_empty());
    let mode = (env.var)(MODE_VAR);
    if org_url.is_none() && token.is_none() {
        return Ok(None);
    }
    let seen: Vec<&str> = SDK_VARS
        .iter()
        .copied()
        .filter(|name| (env.var)(name).is_some())
        .collect();
    let origin = format!("the environment ({})", seen.join(", "));
    build(
        "(environment)",
        &origin,
        org_url.as_deref(),
        token,
        mode.as_deref(),
        [ORG_URL_VAR, TOKEN_VAR],
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
    let token = client.token.filter(|t| !t.trim().is_empty());
    if client.org_url.is_none() && token.is_none() {
        return Ok(None);
    }
    build(
        "(okta.yaml)",
        &path.display().to_string(),
        client.org_url.as_deref(),
        token,
        client.authorization_mode.as_deref(),
        ["okta.client.orgUrl", "okta.client.token"],
    )
    .map(Some)
}

fn build(
    name: &str,
    origin: &str,
    org_url: Option<&str>,
    token: Option<String>,
    mode: Option<&str>,
    [url_field, token_field]: [&str; 2],
) -> anyhow::Result<SdkConnection> {
    match mode.map(str::trim) {
        None | Some("") => {}
        Some(m) if m.eq_ignore_ascii_case("SSWS") => {}
        Some(other) => bail!(
            "{origin} asks for authorization mode '{other}': OAuth connections (PrivateKey, JWT, Bearer) \
             are not supported by this version of okta-connector yet; use an API token \
             (authorization mode SSWS with {token_field})"
        ),
    }
    let Some(org_url) = org_url else {
        bail!(
            "{origin} sets {token_field} but not {url_field}: set {url_field} to your org, e.g. https://acme.okta.com"
        );
    };
    let Some(token) = token else {
        bail!(
            "{origin} sets {url_field} but not {token_field}: set {token_field} to an API token \
             (Admin Console > Security > API > Tokens)"
        );
    };
    // A custom domain is accepted here: see the module comment.
    let parsed =
        OrgUrl::parse(org_url, true).with_context(|| format!("{url_field} in {origin}"))?;
    Ok(SdkConnection {
        connection: Connection {
            name: name.to_string(),
            org_url: parsed.url,
            auth: Auth::ApiToken(SecretString::new(token.trim())),
        },
        warnings: parsed.warnings.iter().map(ToString::to_string).collect(),
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
        let Auth::ApiToken(t) = &c.auth;
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
                (MODE_VAR, "PrivateKey"),
                ("OKTA_CLIENT_CLIENTID", "0oa1"),
                ("OKTA_CLIENT_PRIVATEKEY", "-----BEGIN PRIVATE KEY-----xyz"),
            ],
            from_env,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.contains("'PrivateKey'") && e.contains("not supported by this version"),
            "{e}"
        );
        assert!(
            e.contains("OKTA_CLIENT_CLIENTID") && e.contains("OKTA_CLIENT_PRIVATEKEY"),
            "names the variables: {e}"
        );
        assert!(!e.contains("BEGIN PRIVATE KEY"), "{e}");
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

        std::fs::write(&path, "okta:\n  client:\n    orgUrl: https://dev-1.okta.com\n    authorizationMode: PrivateKey\n    clientId: x\n").unwrap();
        let e = from_okta_yaml(&path).err().unwrap().to_string();
        assert!(e.contains("not supported by this version"), "{e}");

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
}
