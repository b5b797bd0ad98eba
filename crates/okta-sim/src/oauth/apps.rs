//! OAuth app integrations registered with the org: API Services apps (client credentials with
//! private_key_jwt) and web apps (authorization code with a client secret). One shape serves the
//! control API, `SimConfig::oauth_apps` and `okta-connector sim --oauth-apps FILE`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::jwt::PublicJwk;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppKind {
    /// An API Services app: client_credentials with private_key_jwt only (FACTS.md §7).
    Service,
    /// A web app: authorization_code (+ refresh_token) with client_secret_basic or _post.
    Web,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Rotation {
    /// Every refresh hands out a new refresh token; the spent one works for `leeway` seconds more.
    Rotate,
    /// The refresh token stays the same (Okta's default for web apps, FACTS.md §7).
    #[default]
    Static,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshPolicy {
    #[serde(default)]
    pub rotation: Rotation,
    /// Seconds a rotated-away refresh token stays usable (Okta: 0 to 60, default 30).
    #[serde(default = "default_leeway")]
    pub leeway: u32,
}

fn default_leeway() -> u32 {
    30
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        RefreshPolicy {
            rotation: Rotation::Static,
            leeway: default_leeway(),
        }
    }
}

/// An app integration as registered. Its `Debug` never shows the client secret.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuthApp {
    pub client_id: String,
    #[serde(rename = "type")]
    pub kind: AppKind,
    /// Web apps: the client secret (never echoed by the control API).
    #[serde(default, skip_serializing)]
    pub client_secret: Option<String>,
    /// Service apps: the public keys, as a JWKS `{"keys":[...]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// The Okta API scopes granted to the app (its "Okta API Scopes" tab).
    #[serde(default)]
    pub granted_scopes: Vec<String>,
    /// Whether an admin role is assigned to the app (service apps) or held by the signed-in user.
    #[serde(default = "yes")]
    pub admin_role: bool,
    /// "Require Demonstrating Proof of Possession (DPoP) header in token requests" (FACTS.md §8).
    #[serde(default)]
    pub dpop_required: bool,
    #[serde(default)]
    pub refresh_token: RefreshPolicy,
    /// The login /authorize signs in (web apps); the org's admin when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_as: Option<String>,
}

fn yes() -> bool {
    true
}

impl std::fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field("kind", &self.kind)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("keys", &self.jwks.as_ref().map(|_| "<public JWKS>"))
            .field("redirect_uris", &self.redirect_uris)
            .field("granted_scopes", &self.granted_scopes)
            .field("admin_role", &self.admin_role)
            .field("dpop_required", &self.dpop_required)
            .field("refresh_token", &self.refresh_token)
            .field("sign_in_as", &self.sign_in_as)
            .finish()
    }
}

/// A registered app with its keys parsed.
#[derive(Debug, Clone)]
pub struct App {
    pub config: OAuthApp,
    pub keys: Vec<PublicJwk>,
}

/// The OpenID Connect scopes any web app may ask for besides its granted Okta scopes.
const OIDC_SCOPES: [&str; 5] = ["openid", "profile", "email", "offline_access", "groups"];

impl App {
    /// Checks a registration: what each kind of app needs, as Okta's app settings enforce.
    pub fn new(config: OAuthApp) -> Result<App, String> {
        let id = &config.client_id;
        if id.is_empty() || id.len() > 200 || !id.chars().all(|c| c.is_ascii_graphic()) {
            return Err("clientId must be 1 to 200 printable characters".into());
        }
        if config.refresh_token.leeway > 60 {
            return Err(format!("{id}: refreshToken.leeway must be 0 to 60 seconds"));
        }
        let keys = match &config.jwks {
            None => Vec::new(),
            Some(jwks) => jwks
                .get("keys")
                .and_then(Value::as_array)
                .ok_or(format!("{id}: jwks must be {{\"keys\": [...]}}"))?
                .iter()
                .map(PublicJwk::from_json)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{id}: {e}"))?,
        };
        match config.kind {
            AppKind::Service if keys.is_empty() => {
                return Err(format!(
                    "{id}: a service app needs jwks with at least one public key (private_key_jwt)"
                ));
            }
            AppKind::Web
                if config
                    .client_secret
                    .as_deref()
                    .is_none_or(|s| s.trim().is_empty()) =>
            {
                return Err(format!("{id}: a web app needs a clientSecret"));
            }
            _ => {}
        }
        // Okta: "every key in the JWKS must have a unique kid" once there is more than one (§7).
        if keys.len() > 1 {
            let mut kids: Vec<_> = keys.iter().map(|k| k.kid()).collect();
            kids.sort();
            kids.dedup();
            if kids.len() != keys.len() || kids.contains(&None) {
                return Err(format!("{id}: with several keys, each needs its own kid"));
            }
        }
        Ok(App { config, keys })
    }

    pub fn client_id(&self) -> &str {
        &self.config.client_id
    }

    /// Whether the org authorization server may grant `scope` to this app.
    pub fn may_grant(&self, scope: &str) -> bool {
        self.config.granted_scopes.iter().any(|g| g == scope)
            || (self.config.kind == AppKind::Web && OIDC_SCOPES.contains(&scope))
    }
}
