//! Who is calling. Today: SSWS API tokens. The OAuth issue adds bearer and DPoP access tokens here;
//! routes never look at credentials, only at the [`Principal`] this module puts on the request.

use std::sync::Arc;

use axum::http::{HeaderMap, header};

use crate::Sim;
use crate::http::ApiError;
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

/// Checks the `Authorization` header. A missing or malformed header (no known scheme, no
/// credential) is 403 E0000005 "Invalid session"; a well-formed one with a token the org does not
/// know is 401 E0000011 "Invalid token provided" (FACTS.md §9).
pub fn authenticate(sim: &Sim, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let invalid_session = || ApiError::new(403, "E0000005", "Invalid session");
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or_else(invalid_session)?;
    let (scheme, credential) = value.split_once(' ').ok_or_else(invalid_session)?;
    let credential = credential.trim();
    let known_scheme = ["SSWS", "Bearer", "DPoP"]
        .iter()
        .any(|s| scheme.eq_ignore_ascii_case(s));
    if !known_scheme || credential.is_empty() {
        return Err(invalid_session());
    }
    let token = scheme
        .eq_ignore_ascii_case("SSWS")
        .then(|| {
            sim.api_tokens
                .read()
                .iter()
                .find(|t| constant_time_eq(&t.value, credential))
                .cloned()
        })
        .flatten();
    let Some(token) = token else {
        return Err(ApiError::new(401, "E0000011", "Invalid token provided"));
    };
    Ok(Principal {
        actor: sim.admin.clone(),
        scopes: None,
        admin_role: token.admin_role,
    })
}

/// Compares secrets without an early exit, so timing does not reveal a prefix.
fn constant_time_eq(a: &str, b: &str) -> bool {
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
