//! Client credentials with `private_key_jwt`: the only way a service app gets `okta.*` scopes
//! (FACTS.md §7).

use serde_json::json;

use super::DpopMode;
use super::jwt;
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

impl ClientCredentials {
    /// The `private_key_jwt` client assertion for one token request (FACTS.md §7): a fresh `jti` every
    /// time, because Okta spends it even on a 400 `use_dpop_nonce` (§8); exp 5 minutes away (Okta's limit
    /// is one hour); `now` is Okta's clock as seen in its `Date` header.
    pub(crate) fn assertion(&self, token_url: &str, now: i64) -> String {
        let mut header = json!({"alg": self.key.algorithm(), "typ": "JWT"});
        if let Some(kid) = self.key_id.as_ref().or(self.key.key_id.as_ref()) {
            header["kid"] = json!(kid);
        }
        let claims = json!({
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": token_url,
            "iat": now,
            "exp": now + 300,
            "jti": jwt::random_id(),
        });
        jwt::sign(&header, &claims, &self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::jwt::b64url_decode;
    use crate::auth::keys::tests::verify;
    use serde_json::Value;

    #[test]
    fn the_assertion_has_okta_claims_a_kid_and_a_fresh_jti() {
        let key = PrivateKey::parse(include_str!("../../tests/keys/rsa-pkcs8.pem")).unwrap();
        let creds = ClientCredentials {
            client_id: "0oa1".into(),
            key,
            key_id: Some("kid-1".into()),
            scopes: vec![],
            dpop: DpopMode::Auto,
            dpop_key: None,
        };
        let url = "https://acme.okta.com/oauth2/v1/token";
        let jwt = creds.assertion(url, 1000);
        let parts: Vec<Value> = jwt
            .split('.')
            .take(2)
            .map(|p| serde_json::from_slice(&b64url_decode(p).unwrap()).unwrap())
            .collect();
        assert_eq!(
            parts[0],
            json!({"alg": "RS256", "typ": "JWT", "kid": "kid-1"})
        );
        let claims = &parts[1];
        assert_eq!(
            (claims["iss"].as_str(), claims["sub"].as_str()),
            (Some("0oa1"), Some("0oa1"))
        );
        assert_eq!(claims["aud"], url);
        assert_eq!(
            (claims["iat"].as_i64(), claims["exp"].as_i64()),
            (Some(1000), Some(1300))
        );
        let (input, signature) = jwt.rsplit_once('.').unwrap();
        assert!(verify(
            &creds.key.public_jwk(),
            input.as_bytes(),
            &b64url_decode(signature).unwrap()
        ));
        let other = creds.assertion(url, 1000);
        assert_ne!(other, jwt, "a fresh jti per assertion");
    }
}
