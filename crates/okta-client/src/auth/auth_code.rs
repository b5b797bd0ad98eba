//! Authorization code with PKCE, then refresh tokens (FACTS.md §7).

use std::fmt;
use std::sync::Arc;

use url::Url;

use super::DpopMode;
use super::keys::PrivateKey;
use crate::secret::SecretString;

/// A web app's settings.
#[derive(Clone)]
pub struct AuthorizationCode {
    pub client_id: String,
    pub client_secret: SecretString,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    pub dpop: DpopMode,
    /// The DPoP key; `None` → a fresh ES256 key generated once per client.
    pub dpop_key: Option<PrivateKey>,
    /// Where the refresh token lives (the connector's encrypted store).
    pub refresh_tokens: Arc<dyn RefreshTokenStore>,
}

impl fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCode")
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("redirect_uri", &self.redirect_uri)
            .field("dpop", &self.dpop)
            .finish_non_exhaustive()
    }
}

/// The refresh token's home. `replace` is called with a rotated token and must have stored it durably
/// when it returns `Ok`: the client uses the new access token only after that, so a crash never leaves
/// only a spent refresh token behind (FACTS.md §7: reuse of a spent token revokes everything).
pub trait RefreshTokenStore: Send + Sync {
    fn current(&self) -> Option<SecretString>;
    fn replace(&self, new: &SecretString) -> Result<(), String>;
}

/// A PKCE pair (S256, the only method Okta accepts).
#[derive(Clone, Debug)]
pub struct Pkce {
    pub verifier: SecretString,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Pkce {
        todo!()
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Pkce::new()
    }
}

/// The URL to open in a browser: `{org}/oauth2/v1/authorize?...`.
pub fn authorize_url(
    org: &Url,
    client_id: &str,
    redirect_uri: &str,
    scopes: &[String],
    state: &str,
    pkce: &Pkce,
) -> Url {
    let _ = (org, client_id, redirect_uri, scopes, state, pkce);
    todo!()
}

/// A random `state` (base64url: within Okta's allowed characters).
pub fn random_state() -> String {
    super::jwt::random_id()
}
