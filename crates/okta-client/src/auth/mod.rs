//! How a request proves who it is: an API token (SSWS, FACTS.md §9), or an OAuth 2.0 access token from
//! the org authorization server (§7), optionally bound to a DPoP key (§8).
//!
//! * [`keys`]: private keys in the formats admins have (PEM, JWK), signing RS256 / ES256.
//! * [`jwt`]: compact JWTs and base64url.
//! * [`dpop`]: DPoP proofs.
//! * [`client_credentials`], [`auth_code`]: the two grants' settings.
//! * `state`: the live side (token cache, DPoP nonce, clock offset) the client consults per attempt.

pub mod auth_code;
pub mod client_credentials;
pub mod dpop;
pub mod jwt;
pub mod keys;
pub(crate) mod state;

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

pub use auth_code::{AuthorizationCode, Pkce, RefreshTokenStore, authorize_url, random_state};
pub use client_credentials::ClientCredentials;
pub use keys::{KeyError, PrivateKey};

use crate::secret::SecretString;

/// A connection's credentials. `Debug` never shows a secret (the variants' own `Debug` redact).
#[derive(Clone, Debug)]
pub enum Auth {
    /// `Authorization: SSWS <token>`.
    ApiToken(SecretString),
    /// A service app: client credentials grant with `private_key_jwt` (FACTS.md §7).
    ClientCredentials(ClientCredentials),
    /// A web app: authorization code with PKCE, then refresh tokens (FACTS.md §7).
    AuthorizationCode(AuthorizationCode),
}

impl Auth {
    /// A short name for messages: never the secret.
    pub fn kind(&self) -> &'static str {
        match self {
            Auth::ApiToken(_) => "API token",
            Auth::ClientCredentials(_) => "OAuth client credentials",
            Auth::AuthorizationCode(_) => "OAuth authorization code",
        }
    }

    /// The DPoP mode of an OAuth connection; `None` for an API token.
    pub fn dpop_mode(&self) -> Option<DpopMode> {
        match self {
            Auth::ApiToken(_) => None,
            Auth::ClientCredentials(c) => Some(c.dpop),
            Auth::AuthorizationCode(c) => Some(c.dpop),
        }
    }
}

/// Whether access tokens are bound to a DPoP key (FACTS.md §8).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DpopMode {
    /// Use DPoP only once Okta asks for it (400 `invalid_dpop_proof` "…header is missing." at /token),
    /// then keep using it: new API Services apps require DPoP by default, older ones refuse nothing.
    #[default]
    Auto,
    /// Always send DPoP proofs.
    On,
    /// Never; a token request to an app that requires DPoP fails with a message saying so.
    Off,
}

impl FromStr for DpopMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(DpopMode::Auto),
            "on" => Ok(DpopMode::On),
            "off" => Ok(DpopMode::Off),
            _ => Err(format!("{s:?} is not a DPoP mode: use auto, on or off")),
        }
    }
}

impl fmt::Display for DpopMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DpopMode::Auto => "auto",
            DpopMode::On => "on",
            DpopMode::Off => "off",
        })
    }
}

/// What the client knows about its credentials right now, for the connection test.
#[derive(Clone, Debug, PartialEq)]
pub struct AuthStatus {
    /// [`Auth::kind`].
    pub kind: &'static str,
    /// The configured DPoP mode (`None` for an API token).
    pub dpop_mode: Option<DpopMode>,
    /// Whether requests carry DPoP proofs now.
    pub dpop_in_use: bool,
    /// Whether Okta asked for DPoP (auto mode switched on).
    pub dpop_required_by_okta: bool,
    /// `Bearer` or `DPoP`, once a token was granted.
    pub token_type: Option<String>,
    /// The scopes granted with the current access token.
    pub scopes: Vec<String>,
    /// When the current access token expires.
    pub expires_at: Option<SystemTime>,
}

impl AuthStatus {
    /// "on (Okta required it)", "on", "off", or "not used" for an API token.
    pub fn dpop_summary(&self) -> &'static str {
        match (self.dpop_mode, self.dpop_in_use, self.dpop_required_by_okta) {
            (None, _, _) => "not used",
            (Some(_), true, true) => "on (Okta required it)",
            (Some(_), true, false) => "on",
            (Some(DpopMode::Auto), false, _) => "off (Okta did not ask for it)",
            (Some(_), false, _) => "off",
        }
    }
}
