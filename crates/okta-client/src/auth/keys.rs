//! Private keys: PEM (RSA PKCS#1, PKCS#8 RSA or EC P-256, EC SEC1) and JWK JSON, signing RS256 or
//! ES256 (FACTS.md §7 lists the algorithms Okta accepts; these two cover every key an admin gets from
//! Okta's console or `openssl`).

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use ring::rsa::{KeyPairComponents, PublicKeyComponents};
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use serde_json::{Value, json};

use super::jwt::{b64url, b64url_decode};
use crate::secret::SecretString;

/// Said after every refusal, so the user knows what would work.
const ACCEPTED: &str = "accepted: a PEM \"RSA PRIVATE KEY\" (PKCS#1), \"PRIVATE KEY\" (unencrypted \
PKCS#8, RSA or EC P-256) or \"EC PRIVATE KEY\" (SEC1, P-256), or a private JWK as JSON (RSA or EC P-256)";

/// A private key that signs client assertions or DPoP proofs. `Debug` shows only the algorithm and kid.
#[derive(Clone)]
pub struct PrivateKey {
    /// The `kid` sent in JWT headers (from a JWK's `kid`, or set explicitly).
    pub key_id: Option<String>,
    signer: Signer,
    /// The text the key was read from (or generated as), for the encrypted store.
    text: SecretString,
}

#[derive(Clone)]
enum Signer {
    Rsa(Arc<RsaKeyPair>),
    Ec(Arc<EcdsaKeyPair>),
}

/// Why a key was refused: what was found, and the formats accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyError(pub String);

impl KeyError {
    fn found(what: impl fmt::Display) -> KeyError {
        KeyError(format!("found {what}; {ACCEPTED}"))
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

impl PrivateKey {
    /// Reads a PEM or JWK private key; the error names the format found and the formats accepted.
    pub fn parse(text: &str) -> Result<PrivateKey, KeyError> {
        let text = text.trim();
        let (signer, key_id) = if text.starts_with('{') {
            parse_jwk(text)?
        } else if text.contains("-----BEGIN ") {
            (parse_pem(text)?, None)
        } else if text.is_empty() {
            return Err(KeyError::found("nothing (the key is empty)"));
        } else {
            return Err(KeyError::found("neither a PEM block nor JSON"));
        };
        Ok(PrivateKey {
            key_id,
            signer,
            text: SecretString::new(text),
        })
    }

    /// A fresh ES256 key: the default DPoP key (FACTS.md §8: the Java SDK signs proofs with ES256).
    pub fn generate_es256() -> PrivateKey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("generating a P-256 key");
        let pem = pem_encode("PRIVATE KEY", pkcs8.as_ref());
        PrivateKey::parse(&pem).expect("a generated key parses")
    }

    /// The same key with another `kid`.
    pub fn with_key_id(mut self, key_id: Option<String>) -> PrivateKey {
        self.key_id = key_id;
        self
    }

    /// "RS256" or "ES256".
    pub fn algorithm(&self) -> &'static str {
        match self.signer {
            Signer::Rsa(_) => "RS256",
            Signer::Ec(_) => "ES256",
        }
    }

    /// The public JWK (with `kid` when set): what the admin registers with the app, and what a DPoP
    /// proof carries in its header.
    pub fn public_jwk(&self) -> Value {
        let mut jwk = self.required_members();
        if let Some(kid) = &self.key_id {
            jwk["kid"] = json!(kid);
        }
        jwk
    }

    /// RFC 7638 thumbprint: base64url(SHA-256) of the required public members in lexical order
    /// (Okta binds a DPoP token to it as `cnf.jkt`, FACTS.md §8).
    pub fn thumbprint(&self) -> String {
        thumbprint_of(&self.required_members())
    }

    /// The key as text that [`PrivateKey::parse`] reads back (for the encrypted store only).
    pub fn to_text(&self) -> SecretString {
        self.text.clone()
    }

    /// Signs `message` with the key's algorithm: the JWS signature bytes.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Rsa(key) => {
                let mut signature = vec![0; key.public().modulus_len()];
                key.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .expect("RSA signing with a valid key");
                signature
            }
            Signer::Ec(key) => key
                .sign(&rng, message)
                .expect("ECDSA signing with a valid key")
                .as_ref()
                .to_vec(),
        }
    }

    fn required_members(&self) -> Value {
        match &self.signer {
            Signer::Rsa(key) => {
                let public: PublicKeyComponents<Vec<u8>> = key.public().into();
                json!({"kty": "RSA", "n": b64url(unsigned(&public.n)), "e": b64url(unsigned(&public.e))})
            }
            Signer::Ec(key) => {
                // The uncompressed point: 04 || x || y.
                let point = key.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "x": b64url(&point[1..33]), "y": b64url(&point[33..65])})
            }
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm())
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// RFC 7638 over a public JWK: the required members, lexically ordered, no whitespace.
fn thumbprint_of(jwk: &Value) -> String {
    let member = |name: &str| jwk[name].as_str().unwrap_or_default().to_string();
    // Written out rather than serialized: serde_json keeps insertion order here (preserve_order).
    let canonical = match jwk["kty"].as_str() {
        Some("RSA") => format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            member("e"),
            member("n")
        ),
        _ => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            member("crv"),
            member("x"),
            member("y")
        ),
    };
    b64url(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref())
}

fn unsigned(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    &bytes[zeros.min(bytes.len().saturating_sub(1))..]
}

// --- PEM -----------------------------------------------------------------------------------------

/// The first private key among the PEM blocks (openssl writes "EC PARAMETERS" before an EC key).
fn parse_pem(text: &str) -> Result<Signer, KeyError> {
    let mut rest = text;
    let mut labels = Vec::new();
    while let Some((label, headers, der, after)) = next_pem_block(rest)? {
        rest = after;
        let encrypted = headers.contains("ENCRYPTED");
        match label {
            "RSA PRIVATE KEY" if encrypted => {
                return Err(KeyError::found(
                    "a passphrase-encrypted RSA key; decrypt it first (`openssl pkey -in key.pem -out plain.pem`)",
                ));
            }
            "EC PRIVATE KEY" if encrypted => {
                return Err(KeyError::found(
                    "a passphrase-encrypted EC key; decrypt it first (`openssl pkey -in key.pem -out plain.pem`)",
                ));
            }
            "RSA PRIVATE KEY" => {
                return RsaKeyPair::from_der(&der)
                    .map(|k| Signer::Rsa(Arc::new(k)))
                    .map_err(|e| rsa_refused("an RSA PKCS#1 key", e));
            }
            "PRIVATE KEY" => return parse_pkcs8(&der),
            "EC PRIVATE KEY" => return parse_sec1(&der),
            "ENCRYPTED PRIVATE KEY" => {
                return Err(KeyError::found(
                    "an encrypted PKCS#8 key; decrypt it first (`openssl pkey -in key.pem -out plain.pem`)",
                ));
            }
            "PUBLIC KEY" | "RSA PUBLIC KEY" => {
                return Err(KeyError::found("a public key, not a private key"));
            }
            "CERTIFICATE" => {
                return Err(KeyError::found(
                    "a certificate, not a private key (give the private key it was issued for)",
                ));
            }
            "OPENSSH PRIVATE KEY" => {
                return Err(KeyError::found(
                    "an OpenSSH private key (convert it: `ssh-keygen -p -m PKCS8 -f key`)",
                ));
            }
            other => labels.push(other.to_string()),
        }
    }
    if labels.is_empty() {
        Err(KeyError::found("a PEM header without a complete block"))
    } else {
        Err(KeyError::found(format!(
            "PEM blocks labelled {} but no private key",
            labels.join(", ")
        )))
    }
}

/// (label, header lines, DER, rest of the text) of the next block, if any.
#[allow(clippy::type_complexity)]
fn next_pem_block(text: &str) -> Result<Option<(&str, String, Vec<u8>, &str)>, KeyError> {
    let Some(start) = text.find("-----BEGIN ") else {
        return Ok(None);
    };
    let after_begin = &text[start + "-----BEGIN ".len()..];
    let Some(label_end) = after_begin.find("-----") else {
        return Ok(None);
    };
    let label = &after_begin[..label_end];
    let body_start = &after_begin[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let Some(body_end) = body_start.find(&end_marker) else {
        return Err(KeyError::found(format!(
            "a PEM \"{label}\" block without its END line"
        )));
    };
    let (mut headers, mut base64) = (String::new(), String::new());
    for line in body_start[..body_end].lines().map(str::trim) {
        if line.contains(':') {
            headers.push_str(line);
            headers.push('\n');
        } else {
            base64.push_str(line);
        }
    }
    let der = STANDARD.decode(&base64).map_err(|_| {
        KeyError::found(format!(
            "a PEM \"{label}\" block whose body is not valid base64"
        ))
    })?;
    Ok(Some((
        label,
        headers,
        der,
        &body_start[body_end + end_marker.len()..],
    )))
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let base64 = STANDARD.encode(der);
    let lines: Vec<&str> = base64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

// --- DER: just enough to read the algorithm and curve of PKCS#8 and SEC1 ---------------------------

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// One DER element: (tag, contents, what follows).
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

fn malformed(what: &str) -> KeyError {
    KeyError::found(format!("{what} whose DER structure could not be read"))
}

fn curve_name(oid: &[u8]) -> String {
    match oid {
        OID_P384 => "P-384".into(),
        OID_P521 => "P-521".into(),
        _ => "an unknown curve".into(),
    }
}

/// PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier { oid, params }, OCTET STRING, ... }
fn parse_pkcs8(bytes: &[u8]) -> Result<Signer, KeyError> {
    let info = (|| {
        let (_, seq, _) = der(bytes)?;
        let (_, _version, rest) = der(seq)?;
        let (_, alg_id, _) = der(rest)?;
        let (_, oid, params) = der(alg_id)?;
        let param_oid = der(params)
            .filter(|(tag, ..)| *tag == 0x06)
            .map(|(_, p, _)| p);
        Some((oid, param_oid))
    })()
    .ok_or_else(|| malformed("a PKCS#8 key"))?;
    match info {
        (OID_RSA, _) => RsaKeyPair::from_pkcs8(bytes)
            .map(|k| Signer::Rsa(Arc::new(k)))
            .map_err(|e| rsa_refused("an RSA PKCS#8 key", e)),
        (OID_EC, Some(OID_P256)) => ec_from_pkcs8(bytes, "an EC P-256 PKCS#8 key"),
        (OID_EC, Some(curve)) => Err(curve_refused(curve)),
        (OID_ED25519, _) => Err(KeyError::found(
            "an Ed25519 key (Okta does not accept EdDSA here)",
        )),
        _ => Err(KeyError::found(
            "a PKCS#8 key of an algorithm other than RSA or EC",
        )),
    }
}

/// ECPrivateKey ::= SEQUENCE { version 1, OCTET STRING key, [0] curve OID, [1] BIT STRING public }
fn parse_sec1(bytes: &[u8]) -> Result<Signer, KeyError> {
    let fields = (|| {
        let (_, seq, _) = der(bytes)?;
        let (_, _version, rest) = der(seq)?;
        let (_, private, mut rest) = der(rest)?;
        let (mut curve, mut public) = (None, None);
        while let Some((tag, content, after)) = der(rest) {
            match tag {
                0xa0 => curve = der(content).map(|(_, oid, _)| oid),
                // A BIT STRING: the first byte counts unused bits (0).
                0xa1 => public = der(content).and_then(|(_, bits, _)| bits.get(1..)),
                _ => {}
            }
            rest = after;
        }
        Some((private, curve, public))
    })()
    .ok_or_else(|| malformed("an EC (SEC1) key"))?;
    match fields {
        (private, Some(OID_P256) | None, Some(public)) => {
            ec_from_parts(private, public, "an EC P-256 SEC1 key")
        }
        (_, Some(OID_P256) | None, None) => Err(KeyError::found(
            "an EC SEC1 key without its public key (re-export it with `openssl ec -in key.pem -out full.pem`)",
        )),
        (_, Some(curve), _) => Err(curve_refused(curve)),
    }
}

fn curve_refused(curve: &[u8]) -> KeyError {
    KeyError(format!(
        "EC key on curve {} is not supported: use P-256 ({ACCEPTED})",
        curve_name(curve)
    ))
}

fn rsa_refused(what: &str, e: ring::error::KeyRejected) -> KeyError {
    KeyError::found(format!(
        "{what} that could not be used ({e}; RSA keys must be 2048 to 4096 bits)"
    ))
}

fn ec_from_pkcs8(bytes: &[u8], what: &str) -> Result<Signer, KeyError> {
    EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        bytes,
        &SystemRandom::new(),
    )
    .map(|k| Signer::Ec(Arc::new(k)))
    .map_err(|e| KeyError::found(format!("{what} that could not be used ({e})")))
}

fn ec_from_parts(private: &[u8], public: &[u8], what: &str) -> Result<Signer, KeyError> {
    EcdsaKeyPair::from_private_key_and_public_key(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        private,
        public,
        &SystemRandom::new(),
    )
    .map(|k| Signer::Ec(Arc::new(k)))
    .map_err(|e| KeyError::found(format!("{what} that could not be used ({e})")))
}

// --- JWK -------------------------------------------------------------------------------------------

fn parse_jwk(text: &str) -> Result<(Signer, Option<String>), KeyError> {
    let jwk: Value = serde_json::from_str(text)
        .map_err(|_| KeyError::found("text that starts like JSON but does not parse"))?;
    if let Some(keys) = jwk.get("keys").and_then(Value::as_array) {
        return Err(KeyError::found(format!(
            "a JWK set with {} key(s); give the one private JWK",
            keys.len()
        )));
    }
    let field = |name: &str| -> Result<Vec<u8>, KeyError> {
        let value = jwk
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| KeyError::found(format!("a JWK without its \"{name}\" member")))?;
        b64url_decode(value)
            .ok_or_else(|| KeyError::found(format!("a JWK whose \"{name}\" is not base64url")))
    };
    let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_string);
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or("");
    if matches!(kty, "RSA" | "EC") && jwk.get("d").is_none() {
        return Err(KeyError::found(
            "a public key, not a private key (the JWK has no \"d\")",
        ));
    }
    let signer = match kty {
        "RSA" => {
            if ["p", "q", "dp", "dq", "qi"]
                .iter()
                .any(|m| jwk.get(m).is_none())
            {
                return Err(KeyError::found(
                    "an RSA JWK without its CRT members (p, q, dp, dq, qi)",
                ));
            }
            let components = KeyPairComponents {
                public_key: PublicKeyComponents {
                    n: field("n")?,
                    e: field("e")?,
                },
                d: field("d")?,
                p: field("p")?,
                q: field("q")?,
                dP: field("dp")?,
                dQ: field("dq")?,
                qInv: field("qi")?,
            };
            RsaKeyPair::from_components(&components)
                .map(|k| Signer::Rsa(Arc::new(k)))
                .map_err(|e| rsa_refused("an RSA JWK", e))?
        }
        "EC" => match jwk.get("crv").and_then(Value::as_str) {
            Some("P-256") => {
                let mut point = vec![0x04];
                point.extend(field("x")?);
                point.extend(field("y")?);
                ec_from_parts(&field("d")?, &point, "an EC P-256 JWK")?
            }
            other => {
                return Err(KeyError(format!(
                    "EC key on curve {} is not supported: use P-256 ({ACCEPTED})",
                    other.unwrap_or("(none given)")
                )));
            }
        },
        "" => {
            return Err(KeyError::found(
                "a JSON object that is not a JWK (no \"kty\")",
            ));
        }
        other => return Err(KeyError::found(format!("a JWK of type {other:?}"))),
    };
    Ok((signer, kid))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    macro_rules! key {
        ($file:literal) => {
            include_str!(concat!("../../tests/keys/", $file))
        };
    }

    /// Verifies `signature` over `message` with the key's public JWK, as Okta would.
    pub(crate) fn verify(jwk: &Value, message: &[u8], signature: &[u8]) -> bool {
        let b = |m: &str| b64url_decode(jwk[m].as_str().unwrap()).unwrap();
        match jwk["kty"].as_str().unwrap() {
            "RSA" => ring::rsa::PublicKeyComponents {
                n: b("n"),
                e: b("e"),
            }
            .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
            .is_ok(),
            _ => {
                let mut point = vec![4];
                point.extend(b("x"));
                point.extend(b("y"));
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
        }
    }

    fn signs_and_verifies(key: &PrivateKey) {
        let signature = key.sign(b"message");
        assert!(verify(&key.public_jwk(), b"message", &signature));
        assert!(!verify(&key.public_jwk(), b"massage", &signature));
    }

    #[test]
    fn reads_every_accepted_format_and_round_trips_through_to_text() {
        let cases = [
            (key!("rsa-pkcs1.pem"), "RS256"),
            (key!("rsa-pkcs8.pem"), "RS256"),
            (key!("rsa-private.jwk.json"), "RS256"),
            (key!("ec-sec1.pem"), "ES256"),
            (key!("ec-pkcs8.pem"), "ES256"),
        ];
        for (text, alg) in cases {
            let key = PrivateKey::parse(text).unwrap();
            assert_eq!(key.algorithm(), alg);
            signs_and_verifies(&key);
            let again = PrivateKey::parse(key.to_text().expose()).unwrap();
            assert_eq!(again.thumbprint(), key.thumbprint());
        }
        // One RSA key in three formats, one EC key in two: the same public key.
        let rsa = PrivateKey::parse(key!("rsa-pkcs1.pem"))
            .unwrap()
            .thumbprint();
        assert_eq!(
            PrivateKey::parse(key!("rsa-pkcs8.pem"))
                .unwrap()
                .thumbprint(),
            rsa
        );
        let jwk = PrivateKey::parse(key!("rsa-private.jwk.json")).unwrap();
        assert_eq!(jwk.thumbprint(), rsa);
        assert_eq!(jwk.key_id.as_deref(), Some("test-rsa-1"));
        assert_eq!(jwk.public_jwk()["kid"], "test-rsa-1");
        assert!(jwk.public_jwk().get("d").is_none());
        let ec = PrivateKey::parse(key!("ec-sec1.pem")).unwrap().thumbprint();
        assert_eq!(
            PrivateKey::parse(key!("ec-pkcs8.pem"))
                .unwrap()
                .thumbprint(),
            ec
        );
    }

    #[test]
    fn reads_a_generated_ec_jwk_and_openssl_ec_parameters_before_the_key() {
        let generated = PrivateKey::generate_es256();
        assert_eq!(generated.algorithm(), "ES256");
        signs_and_verifies(&generated);
        // A private EC JWK built from the generated key's parts.
        let pkcs8 = next_pem_block(generated.to_text().expose())
            .unwrap()
            .unwrap()
            .2;
        let private = &pkcs8[36..68]; // ring's PKCS#8 template: the scalar at a fixed offset
        let mut jwk = generated.public_jwk();
        jwk["d"] = json!(b64url(private));
        jwk["kid"] = json!("ec-1");
        let parsed = PrivateKey::parse(&jwk.to_string()).unwrap();
        assert_eq!(parsed.thumbprint(), generated.thumbprint());
        assert_eq!(parsed.key_id.as_deref(), Some("ec-1"));
        signs_and_verifies(&parsed);

        let with_params = format!(
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}",
            key!("ec-sec1.pem")
        );
        assert_eq!(
            PrivateKey::parse(&with_params).unwrap().algorithm(),
            "ES256"
        );
    }

    #[test]
    fn each_refusal_names_what_it_found_and_what_is_accepted() {
        let refused = |text: &str| PrivateKey::parse(text).unwrap_err().0;
        let cases = [
            (
                refused(key!("rsa-pkcs8-encrypted.pem")),
                "found an encrypted PKCS#8 key",
            ),
            (
                refused(key!("rsa-public.pem")),
                "found a public key, not a private key",
            ),
            (
                refused(key!("ec-p384-sec1.pem")),
                "EC key on curve P-384 is not supported: use P-256",
            ),
            (
                refused(key!("ec-p384-pkcs8.pem")),
                "EC key on curve P-384 is not supported: use P-256",
            ),
            (
                refused(key!("rsa-1024.pem")),
                "found an RSA PKCS#1 key that could not be used",
            ),
            (refused(""), "found nothing"),
            (refused("hello"), "found neither a PEM block nor JSON"),
            (
                refused("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
                "found a certificate",
            ),
            (
                refused(
                    "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----",
                ),
                "found a passphrase-encrypted RSA key",
            ),
            (
                refused("-----BEGIN PRIVATE KEY-----\nAAAA"),
                "without its END line",
            ),
            (
                refused(r#"{"kty":"EC","crv":"P-384","x":"AA","y":"AA","d":"AA"}"#),
                "EC key on curve P-384 is not supported: use P-256",
            ),
            (
                refused(r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#),
                "found a public key, not a private key",
            ),
            (refused(r#"{"keys":[]}"#), "found a JWK set"),
            (
                refused(r#"{"kty":"OKP","crv":"Ed25519"}"#),
                "found a JWK of type \"OKP\"",
            ),
        ];
        for (message, expected) in cases {
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
            assert!(
                message.contains("accepted: a PEM"),
                "{message:?} lists no formats"
            );
        }
    }

    #[test]
    fn thumbprint_matches_rfc_7638_example() {
        // RFC 7638 §3.1: the public key's thumbprint is NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs.
        // Only the public members count, so a key that shares them gives the same value: check the
        // canonical hashing through an RSA key whose members are the RFC's.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let jwk = json!({"kty": "RSA", "n": n, "e": "AQAB"});
        let canonical = format!(r#"{{"e":"AQAB","kty":"RSA","n":"{n}"}}"#);
        let digest =
            b64url(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref());
        assert_eq!(digest, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        assert_eq!(thumbprint_of(&jwk), digest);
    }

    #[test]
    fn debug_shows_no_key_material() {
        let key = PrivateKey::parse(key!("rsa-private.jwk.json")).unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains("RS256"));
        let d = PrivateKey::parse(key!("rsa-private.jwk.json")).unwrap();
        let jwk: Value = serde_json::from_str(d.to_text().expose()).unwrap();
        assert!(!debug.contains(jwk["d"].as_str().unwrap()));
        assert!(!debug.contains("BEGIN"));
    }
}
