//! Private keys: PEM (PKCS#1, PKCS#8, SEC1) and JWK, signing RS256 or ES256 (FACTS.md §7).

use std::fmt;

use serde_json::Value;

use crate::secret::SecretString;

/// A private key that signs client assertions or DPoP proofs. `Debug` shows only the algorithm.
#[derive(Clone)]
pub struct PrivateKey {
    /// The `kid` sent in JWT headers (from a JWK's `kid`, or set explicitly).
    pub key_id: Option<String>,
}

/// Why a key was refused: the format found and the formats accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyError(pub String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

impl PrivateKey {
    /// Reads a PEM (RSA PKCS#1, PKCS#8 RSA or EC P-256, EC SEC1) or JWK JSON private key.
    pub fn parse(text: &str) -> Result<PrivateKey, KeyError> {
        let _ = text;
        todo!()
    }

    /// A fresh ES256 key (the default DPoP key).
    pub fn generate_es256() -> PrivateKey {
        todo!()
    }

    /// The same key with another `kid`.
    pub fn with_key_id(mut self, key_id: Option<String>) -> PrivateKey {
        self.key_id = key_id;
        self
    }

    /// "RS256" or "ES256".
    pub fn algorithm(&self) -> &'static str {
        todo!()
    }

    /// The public JWK (with `kid` when set).
    pub fn public_jwk(&self) -> Value {
        todo!()
    }

    /// RFC 7638 thumbprint: base64url(SHA-256) of the required public members.
    pub fn thumbprint(&self) -> String {
        todo!()
    }

    /// The key as text that [`PrivateKey::parse`] reads back (for the encrypted store only).
    pub fn to_text(&self) -> SecretString {
        todo!()
    }

    /// Signs `message` with the key's algorithm (JWS signature bytes).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let _ = message;
        todo!()
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}
