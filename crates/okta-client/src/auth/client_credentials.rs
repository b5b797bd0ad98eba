//! Client credentials with `private_key_jwt`: the only way a service app gets `okta.*` scopes
//! (FACTS.md §7).

use super::DpopMode;
use super::keys::PrivateKey;

/// A service app's settings. `Debug` redacts the keys (see [`PrivateKey`]).
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    pub client_id: String,
    /// Signs the client assertion (RS256 or ES256 by the key's type).
    pub key: PrivateKey,
    /// The `kid` of the client assertion; falls back to the key's own `key_id`.
    pub key_id: Option<String>,
    pub scopes: Vec<String>,
    pub dpop: DpopMode,
    /// The DPoP key; `None` → a fresh ES256 key generated once per client.
    pub dpop_key: Option<PrivateKey>,
}
