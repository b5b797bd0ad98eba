//! Authorization code with PKCE, then refresh tokens (FACTS.md §7).

use std::fmt;
use std::sync::Arc;

use ring::digest::{SHA256, digest};
use url::Url;

use super::DpopMode;
use super::jwt::b64url;
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
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the OS random source failed");
        // 43 characters of base64url: within RFC 7636's 43..=128 unreserved characters.
        let verifier = b64url(&bytes);
        let challenge = b64url(digest(&SHA256, verifier.as_bytes()).as_ref());
        Pkce {
            verifier: SecretString::new(verifier),
            challenge,
        }
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
    let mut url = org
        .join("/oauth2/v1/authorize")
        .expect("a fixed path joins");
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("response_type", "code")
        .append_pair("scope", &scopes.join(" "))
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", state)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256");
    url
}

/// A random `state` (base64url: within Okta's allowed characters).
pub fn random_state() -> String {
    super::jwt::random_id()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_s256_of_the_verifier() {
        let pkce = Pkce::new();
        assert_eq!(pkce.verifier.expose().len(), 43);
        let expected = b64url(digest(&SHA256, pkce.verifier.expose().as_bytes()).as_ref());
        assert_eq!(pkce.challenge, expected);
        assert_ne!(Pkce::new().challenge, pkce.challenge);
        assert!(!format!("{pkce:?}").contains(pkce.verifier.expose()));
    }

    #[test]
    fn authorize_url_carries_every_required_parameter() {
        let pkce = Pkce::new();
        let org: Url = "https://acme.okta.com".parse().unwrap();
        let scopes = ["okta.users.read".to_string(), "offline_access".to_string()];
        let url = authorize_url(
            &org,
            "0oa1",
            "http://127.0.0.1:8765/callback",
            &scopes,
            "st",
            &pkce,
        );
        assert_eq!(url.path(), "/oauth2/v1/authorize");
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("client_id"), Some("0oa1"));
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(get("scope"), Some("okta.users.read offline_access"));
        assert_eq!(get("redirect_uri"), Some("http://127.0.0.1:8765/callback"));
        assert_eq!(get("state"), Some("st"));
        assert_eq!(get("code_challenge"), Some(pkce.challenge.as_str()));
        assert_eq!(get("code_challenge_method"), Some("S256"));
        // Okta allows only alphanumerics, comma, period, underscore and hyphen in state (FACTS.md §7).
        assert!(
            random_state()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        );
    }
}
