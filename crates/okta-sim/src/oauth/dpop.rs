//! DPoP (RFC 9449) as Okta enforces it (FACTS.md §8): proof checks shared by the token endpoint and
//! the resource server, the replay store for proof `jti`s, and the authorization server's nonces.

use std::collections::HashMap;

use axum::http::HeaderMap;
use parking_lot::Mutex;

use super::jwt::{Jws, PublicJwk, supported_alg};

/// How far back a proof's `iat` may lie (FACTS.md §8: "more than five minutes in the past").
const MAX_AGE_MS: i64 = 5 * 60_000;
/// How far ahead of the simulator's clock a proof's `iat` may lie: clocks are never exactly equal.
pub const FUTURE_SKEW_MS: i64 = 60_000;
/// Okta renews its DPoP nonce every 24 h; a superseded nonce keeps working for 3 days (§8).
const NONCE_ROTATE_MS: i64 = 24 * 3_600_000;
const NONCE_GRACE_MS: i64 = 3 * 24 * 3_600_000;

/// What a proof is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub method: &'a str,
    /// The URL the proof's `htu` must equal: the org's base URL + the percent-decoded path.
    pub url: &'a str,
    /// At a resource: the access token presented, whose hash must be the proof's `ath`.
    pub access_token: Option<&'a str>,
    /// At the token endpoint the proof must carry a current nonce.
    pub nonce: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofError {
    /// 400 invalid_dpop_proof with this description.
    Invalid(&'static str),
    /// 400 use_dpop_nonce: the proof has no nonce, or one no longer accepted.
    UseNonce,
}

const MISSING: &str = "The DPoP proof JWT header is missing.";

/// The authorization server's nonces, newest last.
#[derive(Debug)]
struct Nonce {
    value: String,
    issued_ms: i64,
    superseded_ms: Option<i64>,
}

#[derive(Debug, Default)]
pub struct Dpop {
    nonces: Mutex<Vec<Nonce>>,
    /// Proof `jti`s seen, with when they may be forgotten (their proof is too old by then).
    seen: Mutex<HashMap<String, i64>>,
}

impl Dpop {
    /// The nonce to hand out now, renewed when it is 24 h old.
    pub fn nonce(&self, now_ms: i64) -> String {
        let mut nonces = self.nonces.lock();
        let due = nonces
            .last()
            .is_none_or(|n| now_ms - n.issued_ms >= NONCE_ROTATE_MS);
        if due {
            push_nonce(&mut nonces, now_ms);
        }
        nonces.last().map(|n| n.value.clone()).unwrap_or_default()
    }

    /// Issues a new nonce now (control API). With `expire_previous`, older ones stop working at
    /// once, so a client holding one meets `use_dpop_nonce` again.
    pub fn rotate(&self, now_ms: i64, expire_previous: bool) -> String {
        let mut nonces = self.nonces.lock();
        if expire_previous {
            nonces.clear();
        }
        push_nonce(&mut nonces, now_ms);
        nonces.last().map(|n| n.value.clone()).unwrap_or_default()
    }

    fn accepts_nonce(&self, nonce: &str, now_ms: i64) -> bool {
        self.nonce(now_ms); // renews first if due
        self.nonces.lock().iter().any(|n| {
            n.value == nonce && n.superseded_ms.is_none_or(|s| now_ms - s < NONCE_GRACE_MS)
        })
    }

    /// Checks the `DPoP` header of a request and returns the proof's key. A proof that passes the
    /// signature check has its `jti` spent, even if the request then fails (e.g. `use_dpop_nonce`).
    pub fn check(
        &self,
        headers: &HeaderMap,
        expected: Expected<'_>,
        now_ms: i64,
    ) -> Result<PublicJwk, ProofError> {
        use ProofError::Invalid;
        let mut values = headers.get_all("dpop").iter();
        let header = values.next().ok_or(Invalid(MISSING))?;
        if values.next().is_some() {
            return Err(Invalid("Multiple DPoP proof JWT headers are not allowed."));
        }
        let unparsable = Invalid("The DPoP proof JWT cannot be parsed.");
        let jws = header
            .to_str()
            .ok()
            .and_then(Jws::parse)
            .ok_or(unparsable.clone())?;
        if jws.header.get("typ").and_then(|v| v.as_str()) != Some("dpop+jwt") {
            return Err(Invalid("'typ' must be 'dpop+jwt' in the DPoP proof JWT."));
        }
        let bad_alg = Invalid("The DPoP proof JWT signature algorithm is invalid.");
        if !jws.alg().is_some_and(supported_alg) {
            return Err(bad_alg);
        }
        let key = jws
            .header
            .get("jwk")
            .map(PublicJwk::from_json)
            .ok_or(unparsable)?
            .map_err(|_| Invalid("The DPoP proof JWT is invalid."))?;
        if jws.alg() != Some(key.alg()) {
            return Err(bad_alg);
        }
        if !jws.verify(&key) {
            return Err(Invalid("The DPoP proof JWT signature is invalid."));
        }
        if jws.claim_str("htm") != Some(expected.method) {
            return Err(Invalid("'htm' claim in the DPoP proof JWT is invalid."));
        }
        if jws.claim_str("htu") != Some(expected.url) {
            return Err(Invalid("'htu' claim in the DPoP proof JWT is invalid."));
        }
        let iat_ms = jws
            .claim_secs("iat")
            .ok_or(Invalid("'iat' claim in the DPoP proof JWT is invalid."))?
            .saturating_mul(1000);
        // `iat` has whole seconds: a proof made in the current second is not "in the future".
        if iat_ms > now_ms + FUTURE_SKEW_MS {
            return Err(Invalid("The DPoP proof JWT is issued in the future."));
        }
        if iat_ms < now_ms - MAX_AGE_MS - 999 {
            return Err(Invalid(
                "The DPoP proof JWT is issued more than five minutes in the past.",
            ));
        }
        let jti = jws
            .claim_str("jti")
            .filter(|j| !j.is_empty() && j.len() <= 256)
            .ok_or(Invalid("'jti' claim in the DPoP proof JWT is invalid."))?;
        if !self.spend(jti, iat_ms + MAX_AGE_MS + FUTURE_SKEW_MS, now_ms) {
            return Err(Invalid("The DPoP proof JWT has already been used."));
        }
        if let Some(token) = expected.access_token
            && jws.claim_str("ath") != Some(super::jwt::sha256_b64(token).as_str())
        {
            return Err(Invalid(
                "'ath' claim in the DPoP proof does not match the presented access_token.",
            ));
        }
        if expected.nonce
            && !jws
                .claim_str("nonce")
                .is_some_and(|n| self.accepts_nonce(n, now_ms))
        {
            return Err(ProofError::UseNonce);
        }
        Ok(key)
    }

    /// Records a proof `jti`; false if it was seen before.
    fn spend(&self, jti: &str, forget_after_ms: i64, now_ms: i64) -> bool {
        let mut seen = self.seen.lock();
        if seen.len() > 10_000 {
            seen.retain(|_, until| *until > now_ms);
        }
        seen.insert(jti.to_string(), forget_after_ms).is_none()
    }
}

fn push_nonce(nonces: &mut Vec<Nonce>, now_ms: i64) {
    if let Some(last) = nonces.last_mut() {
        last.superseded_ms.get_or_insert(now_ms);
    }
    nonces.retain(|n| n.superseded_ms.is_none_or(|s| now_ms - s < NONCE_GRACE_MS));
    nonces.push(Nonce {
        value: super::random_token(24),
        issued_ms: now_ms,
        superseded_ms: None,
    });
}
