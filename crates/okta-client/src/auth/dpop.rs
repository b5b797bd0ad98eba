//! DPoP proofs (RFC 9449) as Okta checks them (FACTS.md §8).

use percent_encoding::percent_decode_str;
use ring::digest::{SHA256, digest};
use serde_json::{Value, json};
use url::Url;

use super::jwt::{self, b64url};
use super::keys::PrivateKey;

/// One proof: a JWT signed by the DPoP key, for exactly one HTTP attempt (a fresh `jti` each time).
/// `nonce`: the server's latest `DPoP-Nonce`; `access_token`: at a resource, bound through `ath`.
pub fn proof(
    key: &PrivateKey,
    method: &str,
    url: &Url,
    now: i64,
    nonce: Option<&str>,
    access_token: Option<&str>,
) -> String {
    let header = json!({"typ": "dpop+jwt", "alg": key.algorithm(), "jwk": key.public_jwk()});
    let mut claims = json!({
        "htm": method,
        "htu": htu(url),
        "iat": now,
        "jti": jwt::random_id(),
    });
    if let Some(nonce) = nonce {
        claims["nonce"] = Value::from(nonce);
    }
    if let Some(token) = access_token {
        claims["ath"] = Value::from(ath(token));
    }
    jwt::sign(&header, &claims, key)
}

/// `ath`: base64url(SHA-256(the ASCII access token)), no padding.
pub fn ath(access_token: &str) -> String {
    b64url(digest(&SHA256, access_token.as_bytes()).as_ref())
}

/// The `htu` claim: the URL without query or fragment, its path percent-DECODED, because Okta compares
/// against the decoded path (a proof for `/users/a%40b.com` fails, FACTS.md §8). Like the Java SDK, only
/// `%`, space, `"` and `#` stay encoded, so the value is still one unambiguous URL.
pub fn htu(url: &Url) -> String {
    let decoded = percent_decode_str(url.path()).decode_utf8_lossy();
    let mut path = String::with_capacity(decoded.len());
    for c in decoded.chars() {
        match c {
            '%' => path.push_str("%25"),
            ' ' => path.push_str("%20"),
            '"' => path.push_str("%22"),
            '#' => path.push_str("%23"),
            c => path.push(c),
        }
    }
    format!("{}{path}", url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::jwt::b64url_decode;
    use crate::auth::keys::tests::verify;

    fn part(jwt: &str, i: usize) -> Value {
        serde_json::from_slice(&b64url_decode(jwt.split('.').nth(i).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn a_resource_proof_has_okta_claims_and_verifies_with_the_header_key() {
        let key = PrivateKey::generate_es256();
        let url: Url = "https://acme.okta.com/api/v1/users/a%40b.com?limit=2#x"
            .parse()
            .unwrap();
        let jwt = proof(&key, "GET", &url, 1_700_000_000, Some("n0nce"), Some("tok"));
        let (header, claims) = (part(&jwt, 0), part(&jwt, 1));
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"], key.public_jwk());
        assert!(header["jwk"].get("d").is_none());
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["htu"], "https://acme.okta.com/api/v1/users/a@b.com");
        assert_eq!(claims["iat"], 1_700_000_000);
        assert_eq!(claims["nonce"], "n0nce");
        // base64url(sha256("tok")), computed independently.
        assert_eq!(claims["ath"], "GnZ0607njffhrEOak8P6jjyUV4TU3sn9jjARc4svHWI");
        let (input, signature) = jwt.rsplit_once('.').unwrap();
        assert!(verify(
            &header["jwk"],
            input.as_bytes(),
            &b64url_decode(signature).unwrap()
        ));
        let again = proof(&key, "GET", &url, 1_700_000_000, Some("n0nce"), Some("tok"));
        assert_ne!(
            part(&again, 1)["jti"],
            claims["jti"],
            "a fresh jti per proof"
        );
    }

    #[test]
    fn a_token_proof_has_no_ath_and_no_nonce_until_given() {
        let key = PrivateKey::generate_es256();
        let url: Url = "http://127.0.0.1:8080/oauth2/v1/token".parse().unwrap();
        let claims = part(&proof(&key, "POST", &url, 1, None, None), 1);
        assert_eq!(claims["htu"], "http://127.0.0.1:8080/oauth2/v1/token");
        assert!(claims.get("ath").is_none() && claims.get("nonce").is_none());
    }

    #[test]
    fn htu_keeps_only_the_ambiguous_characters_encoded() {
        let url: Url = "https://a.okta.com/x/%25%20%22%23%2F%C3%A9"
            .parse()
            .unwrap();
        assert_eq!(htu(&url), "https://a.okta.com/x/%25%20%22%23/é");
    }
}
