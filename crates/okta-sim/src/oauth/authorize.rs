//! `GET /oauth2/v1/authorize`: the authorization code flow with PKCE (FACTS.md §7). The simulator
//! has no login page: it signs in the app's configured user (the org's admin by default) and
//! consents on their behalf, then redirects with a code valid for 300 s.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::apps::AppKind;
use super::tokens::{CODE_TTL_MS, Code, app_entity};
use crate::Sim;
use crate::syslog::{Entity, NewEvent, RequestCtx};

#[derive(Debug, Deserialize)]
pub struct Params {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// An error shown on Okta's own page: when the client or redirect URI can't be trusted, Okta
/// must not redirect.
fn error_page(error: &str, description: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html><head><title>400 Bad Request</title></head><body>\
         <h1>{error}</h1><p id=\"error-description\">{}</p></body></html>",
        description.replace('<', "&lt;").replace('\'', "&#39;")
    );
    let mut resp = (StatusCode::BAD_REQUEST, html).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

/// A 302 to the client's redirect URI with `params` added to its query.
fn redirect(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{redirect_uri}{sep}{}", query.finish());
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// `state`: "alphanumeric, comma, period, underscore, and hyphen characters" (§7).
fn valid_state(state: &str) -> bool {
    state
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ",._-".contains(c))
}

pub async fn authorize(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    Query(p): Query<Params>,
) -> Response {
    let Some(app) = p.client_id.as_deref().and_then(|id| sim.oauth.app(id)) else {
        return error_page("invalid_client", "Invalid value for 'client_id' parameter.");
    };
    if app.config.kind == AppKind::Service {
        return error_page(
            "invalid_request",
            "Clients with 'application_type' of 'service' are not allowed to access the 'authorize' endpoint.",
        );
    }
    let Some(redirect_uri) = p
        .redirect_uri
        .as_deref()
        .filter(|r| app.config.redirect_uris.iter().any(|u| u == r))
    else {
        return error_page(
            "invalid_request",
            "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.",
        );
    };
    // From here on errors go back to the client, with its state.
    let state = p.state.as_deref().unwrap_or("");
    let fail = |error: &str, description: &str| {
        let mut params = vec![("error", error), ("error_description", description)];
        if !state.is_empty() {
            params.push(("state", state));
        }
        redirect(redirect_uri, &params)
    };
    if p.response_type.as_deref() != Some("code") {
        return fail(
            "unsupported_response_type",
            "The response type is not supported by the authorization server. Configured response types: [code].",
        );
    }
    if state.is_empty() || !valid_state(state) {
        return fail(
            "invalid_request",
            "The authentication request has an invalid 'state' parameter.",
        );
    }
    let scopes: Vec<String> = p
        .scope
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if scopes.is_empty() {
        return fail("invalid_scope", "No scopes were requested.");
    }
    if scopes.iter().any(|s| !app.may_grant(s)) {
        return fail(
            "invalid_scope",
            "The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource owner.",
        );
    }
    if p.code_challenge_method
        .as_deref()
        .is_some_and(|m| m != "S256")
    {
        return fail(
            "invalid_request",
            "PKCE code challenge method is not supported. Valid values: [S256]",
        );
    }
    let Some(challenge) = p.code_challenge.as_deref() else {
        return fail(
            "invalid_request",
            "PKCE code challenge is required by the application.",
        );
    };
    // An S256 challenge is base64url(SHA-256), 43 characters.
    if challenge.len() != 43 || super::jwt::unb64(challenge).is_none() {
        return fail(
            "invalid_request",
            "PKCE code challenge contains illegal characters.",
        );
    }
    let user = signed_in_user(&sim, app.config.sign_in_as.as_deref());
    let code = sim.oauth.tokens.add_code(Code {
        client_id: app.client_id().to_string(),
        redirect_uri: redirect_uri.to_string(),
        code_challenge: challenge.to_string(),
        scopes,
        user: user.clone(),
        expires_ms: sim.clock.now_ms() + CODE_TTL_MS,
    });
    sim.log(
        &RequestCtx { actor: user, ..ctx },
        NewEvent::success(
            "app.oauth2.authorize.code",
            "OIDC authorization code request",
            vec![app_entity(&app)],
        ),
    );
    redirect(redirect_uri, &[("code", &code), ("state", state)])
}

/// The app's configured user if it exists in the org, else the admin.
fn signed_in_user(sim: &Sim, login: Option<&str>) -> Arc<Entity> {
    let org = sim.org.read();
    login
        .and_then(|l| org.find_user_id(l))
        .and_then(|id| org.users.get(&id).map(|u| u.entity()))
        .unwrap_or_else(|| sim.admin.clone())
}
