//! The tests' own JWT signing (ES256 and RS256), written apart from the simulator's verifier so a
//! shared bug cannot hide: client assertions, DPoP proofs, PKCE and JWK thumbprints.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::rsa::PublicKeyComponents;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256(text: &str) -> String {
    b64(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref())
}

/// A fresh random string (jti, PKCE verifier).
pub fn random() -> String {
    let mut b = [0u8; 24];
    getrandom::fill(&mut b).unwrap();
    b64(&b)
}

pub enum Key {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

impl Key {
    /// A P-256 key made now.
    pub fn ec() -> Key {
        let rng = SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        Key::Ec(EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap())
    }

    /// The checked-in 2048-bit test key (PKCS#8 PEM).
    pub fn rsa() -> Key {
        let pem = include_str!("keys/rsa2048.pem");
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        Key::Rsa(RsaKeyPair::from_pkcs8(&STANDARD.decode(body).unwrap()).unwrap())
    }

    pub fn alg(&self) -> &'static str {
        match self {
            Key::Ec(_) => "ES256",
            Key::Rsa(_) => "RS256",
        }
    }

    pub fn public_jwk(&self) -> Value {
        match self {
            Key::Ec(k) => {
                let p = k.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "x": b64(&p[1..33]), "y": b64(&p[33..65])})
            }
            Key::Rsa(k) => {
                let c = PublicKeyComponents::<Vec<u8>>::from(k.public());
                json!({"kty": "RSA", "n": b64(&c.n), "e": b64(&c.e)})
            }
        }
    }

    /// RFC 7638 thumbprint, members in lexicographic order.
    pub fn thumbprint(&self) -> String {
        let j = self.public_jwk();
        let canonical = match self {
            Key::Ec(_) => json!({"crv": j["crv"], "kty": "EC", "x": j["x"], "y": j["y"]}),
            Key::Rsa(_) => json!({"e": j["e"], "kty": "RSA", "n": j["n"]}),
        };
        // serde_json keeps insertion order (preserve_order), which is already sorted here.
        sha256(&canonical.to_string())
    }

    pub fn sign(&self, header: Value, claims: Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let rng = SystemRandom::new();
        let sig = match self {
            Key::Ec(k) => k.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
            Key::Rsa(k) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .unwrap();
                sig
            }
        };
        format!("{input}.{}", b64(&sig))
    }
}
