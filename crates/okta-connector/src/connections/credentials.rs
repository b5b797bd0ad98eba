//! What a connection authenticates with, as the store keeps it: the non-secret settings (client id,
//! scopes, key id, DPoP mode, redirect URI) in plain JSON, the secrets (API token, private key, client
//! secret, DPoP key, refresh token) in a sealed JSON object. [`Credentials`] is both halves together;
//! `to_auth` turns it into the client's [`Auth`].

use std::sync::Arc;

use anyhow::bail;
use okta_client::auth::{AuthorizationCode, ClientCredentials, DpopMode, RefreshTokenStore};
use okta_client::{Auth, PrivateKey, SecretString};
use serde::{Deserialize, Serialize};
use url::{Host, Url};

/// The scopes every connection needs: the connection test reads the System Log and the user schema.
pub const MIN_SCOPES: &[&str] = &["okta.logs.read", "okta.schemas.read"];
/// What the authorization code flow needs on top: a refresh token, so later calls need no browser.
pub const OFFLINE_ACCESS: &str = "offline_access";
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";

/// The non-secret half of an OAuth connection. Shown by `connections show`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthSettings {
    pub client_id: String,
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// auto, on or off.
    pub dpop: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

/// A connection's auth, both halves. `Debug` is safe: every secret is a [`SecretString`].
#[derive(Clone, Debug)]
pub enum Credentials {
    ApiToken(SecretString),
    /// An API Services app: client credentials with private_key_jwt.
    ClientCredentials {
        settings: OAuthSettings,
        /// The PEM or JWK text the user gave.
        private_key: SecretString,
        /// The DPoP key, generated when the connection was added: the same key across restarts.
        dpop_key: SecretString,
    },
    /// A Web app: authorization code with PKCE, then refresh tokens.
    AuthorizationCode {
        settings: OAuthSettings,
        client_secret: SecretString,
        dpop_key: SecretString,
        /// None until `connections login`.
        refresh_token: Option<SecretString>,
    },
}

impl Credentials {
    pub fn settings(&self) -> Option<&OAuthSettings> {
        match self {
            Credentials::ApiToken(_) => None,
            Credentials::ClientCredentials { settings, .. }
            | Credentials::AuthorizationCode { settings, .. } => Some(settings),
        }
    }

    /// The client's auth. `refresh_tokens` is where an authorization-code connection's refresh token
    /// lives (the store): required for that kind, ignored by the others.
    pub fn to_auth(
        &self,
        refresh_tokens: Option<Arc<dyn RefreshTokenStore>>,
    ) -> anyhow::Result<Auth> {
        Ok(match self {
            Credentials::ApiToken(token) => Auth::ApiToken(token.clone()),
            Credentials::ClientCredentials {
                settings,
                private_key,
                dpop_key,
            } => Auth::ClientCredentials(ClientCredentials {
                client_id: settings.client_id.clone(),
                key: parse_key(private_key.expose(), "the private key")?,
                key_id: settings.key_id.clone(),
                scopes: settings.scopes.clone(),
                dpop: settings.dpop_mode()?,
                dpop_key: Some(parse_key(dpop_key.expose(), "the DPoP key")?),
            }),
            Credentials::AuthorizationCode {
                settings,
                client_secret,
                dpop_key,
                ..
            } => Auth::AuthorizationCode(AuthorizationCode {
                client_id: settings.client_id.clone(),
                client_secret: client_secret.clone(),
                scopes: settings.scopes.clone(),
                redirect_uri: settings
                    .redirect_uri
                    .clone()
                    .unwrap_or_else(|| DEFAULT_REDIRECT_URI.to_string()),
                dpop: settings.dpop_mode()?,
                dpop_key: Some(parse_key(dpop_key.expose(), "the DPoP key")?),
                refresh_tokens: refresh_tokens.ok_or_else(|| {
                    anyhow::anyhow!("an authorization-code connection needs a store")
                })?,
            }),
        })
    }
}

impl OAuthSettings {
    pub fn dpop_mode(&self) -> anyhow::Result<DpopMode> {
        self.dpop
            .parse()
            .map_err(|e: String| anyhow::anyhow!("the stored DPoP mode is damaged: {e}"))
    }
}

/// A private key from its PEM or JWK text; the parser's message says which format it found and
/// which it accepts. The text itself never appears in the message.
pub fn parse_key(text: &str, what: &str) -> anyhow::Result<PrivateKey> {
    PrivateKey::parse(text).map_err(|e| anyhow::anyhow!("{what} cannot be used: {e}"))
}

/// Scopes as the SDKs and users write them: space or comma separated, duplicates dropped.
pub fn parse_scopes(text: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in text.split([' ', ',', '\t', '\n']).filter(|s| !s.is_empty()) {
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_string());
        }
    }
    scopes
}

/// Warnings for scopes a connection will miss: the connection test's two reads, and offline_access
/// for the authorization code flow (without it Okta sends no refresh token).
pub fn missing_scopes(scopes: &[String], authorization_code: bool) -> Vec<String> {
    let has = |s: &str| {
        scopes
            .iter()
            .any(|have| have == s || implied_by_manage(have, s))
    };
    let mut missing: Vec<&str> = MIN_SCOPES.iter().copied().filter(|s| !has(s)).collect();
    if authorization_code && !has(OFFLINE_ACCESS) {
        missing.push(OFFLINE_ACCESS);
    }
    missing
        .into_iter()
        .map(|scope| match scope {
            OFFLINE_ACCESS => format!(
                "the scopes do not include {OFFLINE_ACCESS}: Okta sends no refresh token without it, so \
                 every access token would need a new `connections login` after an hour"
            ),
            scope => format!(
                "the scopes do not include {scope}: the connection test and the actions that read {} \
                 will be refused (grant it on the app's Okta API Scopes tab and add it to --scopes)",
                if scope == "okta.logs.read" { "the System Log" } else { "profile schemas" }
            ),
        })
        .collect()
}

/// `okta.x.manage` includes `okta.x.read`.
fn implied_by_manage(have: &str, want: &str) -> bool {
    want.strip_suffix(".read")
        .is_some_and(|base| have.strip_suffix(".manage") == Some(base))
}

/// The redirect URI `connections login` listens on: http on a loopback address with a port. Anything
/// else would need a server this machine does not run, or would send the code off the machine.
pub fn loopback_redirect(text: &str) -> anyhow::Result<Url> {
    let url = Url::parse(text)
        .map_err(|e| anyhow::anyhow!("the redirect URI '{text}' is not a URL: {e}"))?;
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if url.scheme() != "http" || !loopback {
        bail!(
            "the redirect URI '{text}' is not a loopback address: `connections login` receives the code \
             on this machine, so the URI must be http://127.0.0.1:PORT/PATH (or http://localhost:PORT/PATH, \
             or [::1]); register that URI as a sign-in redirect URI of the Okta app"
        );
    }
    if url.port().is_none() {
        bail!(
            "the redirect URI '{text}' has no port: give one that is free here, e.g. {DEFAULT_REDIRECT_URI}"
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("the redirect URI '{text}' has a query or fragment: Okta appends its own query");
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_split_on_spaces_and_commas() {
        assert_eq!(
            parse_scopes("okta.users.read, okta.logs.read okta.users.read\tokta.schemas.read"),
            vec!["okta.users.read", "okta.logs.read", "okta.schemas.read"]
        );
        assert!(parse_scopes(" , ").is_empty());
    }

    #[test]
    fn missing_scopes_are_named() {
        let s = parse_scopes("okta.logs.read okta.schemas.manage");
        assert!(missing_scopes(&s, false).is_empty(), "manage includes read");
        let w = missing_scopes(&parse_scopes("okta.users.read"), true);
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].contains("okta.logs.read") && w[0].contains("Okta API Scopes"));
        assert!(w[2].contains("offline_access"));
    }

    #[test]
    fn only_loopback_redirects_with_a_port() {
        for good in [
            DEFAULT_REDIRECT_URI,
            "http://localhost:9000/cb",
            "http://[::1]:8765/",
        ] {
            loopback_redirect(good).unwrap();
        }
        let e = loopback_redirect("https://app.example.com/callback")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a loopback address"), "{e}");
        let e = loopback_redirect("http://127.0.0.1/cb")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no port"), "{e}");
        assert!(loopback_redirect("http://10.0.0.1:8765/cb").is_err());
        assert!(loopback_redirect("not a url").is_err());
    }
}
