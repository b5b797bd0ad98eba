//! Who is calling: SSWS API tokens, and the org authorization server's access tokens as `Bearer` or
//! `DPoP` (with a proof). Routes never look at credentials, only at the [`Principal`] this module
//! puts on the request.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::Sim;
use crate::http::ApiError;
use crate::oauth::dpop::{Expected, ProofError};
use crate::syslog::Entity;

/// An SSWS token the org accepts. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct ApiToken {
    pub value: String,
    /// Whether the token's user holds an admin role. A token inherits its user's privileges, so one
    /// whose user has none authenticates but may do nothing (403 E0000006), as after a demotion.
    pub admin_role: bool,
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiToken")
            .field("value", &"<redacted>")
            .field("admin_role", &self.admin_role)
            .finish()
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The admin user acting (the System Log actor).
    pub actor: Arc<Entity>,
    /// Granted OAuth scopes; `None` for an API token, which carries its admin's full rights.
    pub scopes: Option<Vec<String>>,
    /// Whether the caller holds an admin role; without one every management call is refused.
    pub admin_role: bool,
}

impl Principal {
    /// Whether the caller may use an endpoint that needs `scope` (`okta.x.manage` implies `.read`).
    pub fn allows(&self, scope: &str) -> bool {
        match &self.scopes {
            None => true,
            Some(granted) => granted.iter().any(|g| {
                g == scope
                    || (scope.ends_with(".read")
                        && g.strip_suffix(".manage") == scope.strip_suffix(".read"))
            }),
        }
    }
}

/// The scope Okta requires for a `/api/v1` request (FACTS.md §1a), checked once OAuth tokens exist.
pub fn required_scope(method: &str, path: &str) -> Option<&'static str> {
    let read = method == "GET";
    let rest = path.strip_prefix("/api/v1/")?;
    let family = rest.split('/').next().unwrap_or("");
    let pick = |r: &'static str, m: &'static str| Some(if read { r } else { m });
    match family {
        "users" => pick("okta.users.read", "okta.users.manage"),
        "groups" => pick("okta.groups.read", "okta.groups.manage"),
        "apps" => pick("okta.apps.read", "okta.apps.manage"),
        "logs" => Some("okta.logs.read"),
        "eventHooks" => pick("okta.eventHooks.read", "okta.eventHooks.manage"),
        "meta" if rest.starts_with("meta/types") => {
            pick("okta.userTypes.read", "okta.userTypes.manage")
        }
        "meta" => pick("okta.schemas.read", "okta.schemas.manage"),
        _ => None,
    }
}

/// Why a request was refused before reaching its route.
#[derive(Debug)]
pub enum Denied {
    /// An Okta error body (E0000005, E0000011, E0000006...), with any extra headers it carries.
    Okta(ApiError),
    /// An RFC 6750 / RFC 9449 challenge from the resource server: the error is in the
    /// `WWW-Authenticate` header and the body is empty (FACTS.md §4, §8).
    Challenge {
        status: u16,
        www_authenticate: String,
    },
}

impl From<ApiError> for Denied {
    fn from(e: ApiError) -> Self {
        Denied::Okta(e)
    }
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::Okta(e) => e.into_response(),
            Denied::Challenge {
                status,
                www_authenticate,
            } => {
                let mut resp = StatusCode::from_u16(status)
                    .unwrap_or(StatusCode::BAD_REQUEST)
                    .into_response();
                if let Ok(v) = HeaderValue::from_str(&www_authenticate) {
                    resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                resp
            }
        }
    }
}

/// The resource server's `WWW-Authenticate` value, in the shape Okta sends (okta-sdk-golang #145,
/// okta-sdk-nodejs #453): `Bearer authorization_uri=…, realm=…, scope=…, error=…,
/// error_description=…, resource=…`; the DPoP scheme adds `algs` first.
pub fn challenge(
    sim: &Sim,
    dpop: bool,
    scope: Option<&str>,
    error: &str,
    description: &str,
    path: &str,
) -> String {
    let base = sim.base_url();
    let mut parts = Vec::new();
    if dpop {
        parts.push(r#"DPoP algs="RS256 ES256""#.to_string());
    }
    parts.push(format!(r#"authorization_uri="{base}/oauth2/v1/authorize""#));
    parts.push(format!(r#"realm="{base}""#));
    if let Some(scope) = scope {
        parts.push(format!(r#"scope="{scope}""#));
    }
    parts.push(format!(r#"error="{error}""#));
    parts.push(format!(r#"error_description="{description}""#));
    parts.push(format!(r#"resource="{path}""#));
    let joined = parts.join(", ");
    if dpop {
        joined
    } else {
        format!("Bearer {joined}")
    }
}

/// Checks the `Authorization` header. A missing or malformed header (no known scheme, no
/// credential) is 403 E0000005 "Invalid session"; a well-formed one with a token the org does not
/// know is 401 E0000011 "Invalid token provided" (FACTS.md §9). OAuth access tokens come as
/// `Bearer` or, when DPoP-bound, as `DPoP` with a proof (FACTS.md §8).
pub fn authenticate(
    sim: &Sim,
    method: &str,
    path: &str,
    headers: &HeaderMap,
) -> Result<Principal, Denied> {
    let invalid_session = || ApiError::new(403, "E0000005", "Invalid session");
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or_else(invalid_session)?;
    let (scheme, credential) = value.split_once(' ').ok_or_else(invalid_session)?;
    let credential = credential.trim();
    let scheme = ["SSWS", "Bearer", "DPoP"]
        .into_iter()
        .find(|s| scheme.eq_ignore_ascii_case(s));
    let Some(scheme) = scheme.filter(|_| !credential.is_empty()) else {
        return Err(invalid_session().into());
    };
    if scheme != "SSWS" {
        return oauth_principal(sim, method, path, headers, scheme == "DPoP", credential);
    }
    let token = sim
        .api_tokens
        .read()
        .iter()
        .find(|t| constant_time_eq(&t.value, credential))
        .cloned();
    let Some(token) = token else {
        return Err(ApiError::new(401, "E0000011", "Invalid token provided").into());
    };
    Ok(Principal {
        actor: sim.admin.clone(),
        scopes: None,
        admin_role: token.admin_role,
    })
}

/// An access token from the org authorization server, presented as `Bearer` or `DPoP`.
fn oauth_principal(
    sim: &Sim,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    dpop_scheme: bool,
    token: &str,
) -> Result<Principal, Denied> {
    let now = sim.clock.now_ms();
    let scope = required_scope(method, path);
    let deny = |status: u16, error: &str, description: &str| Denied::Challenge {
        status,
        www_authenticate: challenge(sim, dpop_scheme, scope, error, description, path),
    };
    let Some(access) = sim
        .oauth
        .tokens
        .access(token)
        .filter(|t| t.expires_ms > now)
    else {
        // Unknown, revoked or expired: 401 E0000011 with the RFC 6750 challenge (FACTS.md §4).
        let mut e = ApiError::new(401, "E0000011", "Invalid token provided");
        let header_value = challenge(
            sim,
            dpop_scheme,
            scope,
            "invalid_token",
            "The access token is invalid.",
            path,
        );
        e.headers.push((header::WWW_AUTHENTICATE, header_value));
        return Err(e.into());
    };
    match (&access.jkt, dpop_scheme) {
        (Some(_), false) => {
            return Err(deny(
                400,
                "invalid_request",
                "The resource request must use the DPoP authentication scheme when using a DPoP bound token.",
            ));
        }
        (None, true) => {
            return Err(deny(
                401,
                "invalid_token",
                "The presented access_token is not DPoP bound.",
            ));
        }
        (Some(jkt), true) => {
            if headers.get("dpop").is_none() {
                return Err(deny(
                    400,
                    "invalid_request",
                    "The resource request requires a DPoP proof.",
                ));
            }
            // `htu` is compared with the percent-decoded path, query left out (FACTS.md §8).
            let url = format!("{}{}", sim.base_url(), percent_decode(path));
            let expected = Expected {
                method,
                url: &url,
                access_token: Some(token),
                nonce: false,
            };
            let key = sim
                .oauth
                .dpop
                .check(headers, expected, now)
                .map_err(|e| match e {
                    ProofError::Invalid(d) => deny(400, "invalid_dpop_proof", d),
                    ProofError::UseNonce => deny(
                        400,
                        "use_dpop_nonce",
                        "Resource server requires nonce in DPoP proof.",
                    ),
                })?;
            if key.thumbprint() != *jkt {
                return Err(deny(
                    400,
                    "invalid_dpop_proof",
                    "The access_token is not bound to the provided DPoP proof.",
                ));
            }
        }
        (None, false) => {}
    }
    let app = sim.oauth.app(&access.client_id);
    let principal = Principal {
        actor: match (&access.user, &app) {
            (Some(user), _) => user.clone(),
            (None, Some(app)) => crate::oauth::tokens::app_entity(app),
            (None, None) => sim.admin.clone(),
        },
        scopes: Some(access.scopes),
        // Looked up on every call: unassigning the role takes effect at once, as in Okta.
        admin_role: app.is_some_and(|a| a.config.admin_role),
    };
    // A missing scope is told in the header, with an empty body (FACTS.md §4). It is checked
    // here, before the admin role, as the resource server checks the token first.
    if let Some(scope) = scope
        && !principal.allows(scope)
    {
        return Err(deny(
            403,
            "insufficient_scope",
            "The access token provided does not contain the required scopes.",
        ));
    }
    Ok(principal)
}

/// `%XX` sequences decoded (`+` stays a plus: this is a path, not a form).
pub fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Compares secrets without an early exit, so timing does not reveal a prefix.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_follow_okta_naming() {
        assert_eq!(
            required_scope("GET", "/api/v1/users"),
            Some("okta.users.read")
        );
        assert_eq!(
            required_scope("POST", "/api/v1/users/x/lifecycle/activate"),
            Some("okta.users.manage")
        );
        assert_eq!(
            required_scope("GET", "/api/v1/meta/types/user"),
            Some("okta.userTypes.read")
        );
        assert_eq!(
            required_scope("GET", "/api/v1/meta/schemas/user/default"),
            Some("okta.schemas.read")
        );
        let p = Principal {
            actor: Arc::new(Entity {
                id: "x".into(),
                kind: "User",
                alternate_id: "a".into(),
                display_name: "A".into(),
            }),
            scopes: Some(vec!["okta.users.manage".into()]),
            admin_role: true,
        };
        assert!(p.allows("okta.users.read"));
        assert!(p.allows("okta.users.manage"));
        assert!(!p.allows("okta.groups.read"));
        assert!(constant_time_eq("abc", "abc") && !constant_time_eq("abc", "abd"));
    }
}
