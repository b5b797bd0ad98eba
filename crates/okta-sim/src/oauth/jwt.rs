//! Just enough JOSE for the org authorization server: compact JWS signed RS256 or ES256, public
//! JWKs, and RFC 7638 thumbprints. Written here on purpose: the simulator shares no code with the
//! client, so the two are independent readings of the same RFCs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{Map, Value, json};

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// base64url without padding, as JOSE requires (padded input is refused).
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// base64url(SHA-256(text)): PKCE's S256 challenge and DPoP's `ath`.
pub fn sha256_b64(text: &str) -> String {
    b64(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref())
}

/// A parsed (not yet verified) compact JWS.
#[derive(Debug)]
pub struct Jws {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

impl Jws {
    /// `header.claims.signature`, each part base64url JSON (the signature raw bytes).
    pub fn parse(compact: &str) -> Option<Jws> {
        let mut parts = compact.trim().split('.');
        let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let object = |part: &str| match serde_json::from_slice(&unb64(part)?) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        };
        Some(Jws {
            header: object(h)?,
            claims: object(c)?,
            signing_input: format!("{h}.{c}"),
            signature: unb64(s)?,
        })
    }

    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A NumericDate claim, in whole seconds (fractions are allowed by RFC 7519 and dropped).
    pub fn claim_secs(&self, name: &str) -> Option<i64> {
        let v = self.claims.get(name)?;
        v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
    }

    /// Whether the signature is `key`'s, with the header's `alg` (RS256 or ES256, matching the key).
    pub fn verify(&self, key: &PublicJwk) -> bool {
        self.alg() == Some(key.alg()) && key.verify(self.signing_input.as_bytes(), &self.signature)
    }
}

/// The JWS algorithms the simulator verifies. Okta also takes RS384/512 and ES384/512 for client
/// assertions (FACTS.md §7); the connector signs RS256 or ES256 only.
pub fn supported_alg(alg: &str) -> bool {
    matches!(alg, "RS256" | "ES256")
}

/// A public key from a JWK: RSA (2048 bits or more) or EC P-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicJwk {
    /// `n` and `e` as the JWK spells them (base64url), kept for the thumbprint.
    Rsa {
        n: String,
        e: String,
        kid: Option<String>,
    },
    Ec {
        x: String,
        y: String,
        kid: Option<String>,
    },
}

impl PublicJwk {
    /// Reads a public JWK; one carrying private parts is refused (it should never be sent).
    pub fn from_json(v: &Value) -> Result<PublicJwk, String> {
        let obj = v.as_object().ok_or("a JWK must be a JSON object")?;
        let field = |name: &str| obj.get(name).and_then(Value::as_str);
        if ["d", "p", "q", "dp", "dq", "qi"]
            .iter()
            .any(|k| obj.contains_key(*k))
        {
            return Err("the JWK holds private key parts; register the public key only".into());
        }
        let kid = field("kid").map(str::to_string);
        match field("kty") {
            Some("RSA") => {
                let (n, e) = (
                    field("n").ok_or("RSA JWK without n")?,
                    field("e").ok_or("RSA JWK without e")?,
                );
                let modulus = unb64(n).ok_or("RSA n is not base64url")?;
                unb64(e).ok_or("RSA e is not base64url")?;
                let bits = modulus.iter().skip_while(|b| **b == 0).count() * 8;
                if bits < 2048 {
                    return Err(format!("RSA keys must be 2048 bits or more, got {bits}"));
                }
                Ok(PublicJwk::Rsa {
                    n: n.into(),
                    e: e.into(),
                    kid,
                })
            }
            Some("EC") => {
                if field("crv") != Some("P-256") {
                    return Err("EC keys must be on curve P-256".into());
                }
                let (x, y) = (
                    field("x").ok_or("EC JWK without x")?,
                    field("y").ok_or("EC JWK without y")?,
                );
                let ok = |c: &str| unb64(c).is_some_and(|b| b.len() == 32);
                if !ok(x) || !ok(y) {
                    return Err("EC x and y must be 32 bytes, base64url".into());
                }
                Ok(PublicJwk::Ec {
                    x: x.into(),
                    y: y.into(),
                    kid,
                })
            }
            other => Err(format!("unsupported kty {other:?}: use RSA or EC")),
        }
    }

    pub fn kid(&self) -> Option<&str> {
        match self {
            PublicJwk::Rsa { kid, .. } | PublicJwk::Ec { kid, .. } => kid.as_deref(),
        }
    }

    /// The one algorithm the simulator pairs with this key type.
    pub fn alg(&self) -> &'static str {
        match self {
            PublicJwk::Rsa { .. } => "RS256",
            PublicJwk::Ec { .. } => "ES256",
        }
    }

    /// RFC 7638: SHA-256 over the required members, sorted, without whitespace; base64url.
    pub fn thumbprint(&self) -> String {
        let canonical = match self {
            PublicJwk::Rsa { n, e, .. } => format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
            PublicJwk::Ec { x, y, .. } => {
                format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#)
            }
        };
        sha256_b64(&canonical)
    }

    pub fn to_json(&self) -> Value {
        let mut v = match self {
            PublicJwk::Rsa { n, e, .. } => json!({"kty": "RSA", "n": n, "e": e}),
            PublicJwk::Ec { x, y, .. } => json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}),
        };
        if let Some(kid) = self.kid() {
            v["kid"] = json!(kid);
        }
        v
    }

    fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        let decode = |s: &String| unb64(s).unwrap_or_default();
        match self {
            PublicJwk::Rsa { n, e, .. } => RsaPublicKeyComponents {
                n: decode(n),
                e: decode(e),
            }
            .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig)
            .is_ok(),
            PublicJwk::Ec { x, y, .. } => {
                let mut point = vec![4u8];
                point.extend(decode(x));
                point.extend(decode(y));
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, sig)
                    .is_ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc_7638_example() {
        // RFC 7638 §3.1.
        let jwk = PublicJwk::Rsa {
            n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw".into(),
            e: "AQAB".into(),
            kid: None,
        };
        assert_eq!(
            jwk.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn refuses_private_and_small_keys() {
        let private = json!({"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c"});
        assert!(PublicJwk::from_json(&private).is_err());
        let small = json!({"kty":"RSA","n": b64(&[1u8; 128]),"e":"AQAB"});
        assert!(PublicJwk::from_json(&small).unwrap_err().contains("2048"));
        assert!(Jws::parse("a.b").is_none());
    }
}
