//! The bearer token every /v1 route requires.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiError, DaemonState};

/// Proof that the request carried the daemon's API token: take it as a handler's first argument.
/// Refused with 401 (and a `WWW-Authenticate: Bearer` challenge) when the token is missing or
/// wrong, and 404 when the daemon has no token, since the API is then off.
pub struct Authorized;

const REALM: &str = r#"Bearer realm="okta-connector""#;

impl FromRequestParts<Arc<DaemonState>> for Authorized {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<DaemonState>,
    ) -> Result<Self, Response> {
        let Some(expected) = &state.api_token else {
            return Err(
                ApiError::not_found("the HTTP API is off: the daemon has no API token")
                    .into_response(),
            );
        };
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer);
        match presented {
            Some(token) if constant_time_eq(token.as_bytes(), expected.expose().as_bytes()) => {
                Ok(Authorized)
            }
            // RFC 6750 §3: no `error` when no credentials came, `invalid_token` when they were wrong.
            Some(_) => Err(unauthorized(
                r#"Bearer realm="okta-connector", error="invalid_token""#,
                "the bearer token is not the daemon's API token",
            )),
            None => Err(unauthorized(
                REALM,
                "this API needs `Authorization: Bearer <the daemon's API token>`",
            )),
        }
    }
}

/// The token of `Bearer <token>` (the scheme is case-insensitive).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn unauthorized(challenge: &'static str, message: &str) -> Response {
    let mut response =
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

/// Whether two secrets are equal, in time that depends on neither: both are hashed to 32 bytes
/// first (so the length does not show either), then compared without an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let a = ring::digest::digest(&ring::digest::SHA256, a);
    let b = ring::digest::digest(&ring::digest::SHA256, b);
    let diff = a
        .as_ref()
        .iter()
        .zip(b.as_ref())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_and_equality() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
