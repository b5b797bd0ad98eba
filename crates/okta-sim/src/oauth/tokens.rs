//! `/oauth2/v1/token`, `/revoke` and `/introspect`: client authentication (client secret or
//! private_key_jwt), the three grants, DPoP binding, refresh token rotation and reuse detection,
//! and the store of issued codes and tokens (FACTS.md §7–8).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use parking_lot::Mutex;
use serde_json::{Value, json};

use super::apps::{App, AppKind, Rotation};
use super::dpop::{Expected, FUTURE_SKEW_MS, ProofError};
use super::jwt::{Jws, sha256_b64, supported_alg};
use super::{OAuthError, endpoint, no_store, random_token};
use crate::Sim;
use crate::syslog::{Entity, NewEvent, RequestCtx, Severity};

/// The org authorization server's access tokens live one hour, fixed (FACTS.md §7).
pub const ACCESS_TOKEN_TTL_MS: i64 = 3_600_000;
/// Authorization codes are valid 300 s (§7).
pub const CODE_TTL_MS: i64 = 300_000;
/// A client assertion may expire at most one hour ahead (§7).
const ASSERTION_MAX_TTL_MS: i64 = 3_600_000;
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A code /authorize handed out, waiting for its exchange.
#[derive(Debug, Clone)]
pub struct Code {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub scopes: Vec<String>,
    pub user: Arc<Entity>,
    pub expires_ms: i64,
}

/// An access token as the resource server sees it.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub client_id: String,
    pub scopes: Vec<String>,
    /// The signed-in user (authorization code); `None` for a service app's token.
    pub user: Option<Arc<Entity>>,
    pub issued_ms: i64,
    pub expires_ms: i64,
    /// DPoP binding: the JWK thumbprint of the proof key (`cnf.jkt`).
    pub jkt: Option<String>,
    /// The refresh token family it came from, revoked together on reuse.
    family: Option<u64>,
}

#[derive(Debug, Clone)]
struct RefreshToken {
    client_id: String,
    scopes: Vec<String>,
    user: Arc<Entity>,
    family: u64,
    jkt: Option<String>,
    issued_ms: i64,
    /// When it was rotated away (ROTATE): usable `leeway` seconds more, then a reuse.
    spent_ms: Option<i64>,
}

#[derive(Default)]
struct Grants {
    codes: HashMap<String, Code>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    /// `client_id jti` of client assertions seen, with their `exp` (forgotten once expired).
    assertion_jtis: HashMap<String, i64>,
    next_family: u64,
}

/// Issued codes and tokens. Its `Debug` shows counts only: the keys are credentials.
#[derive(Default)]
pub struct Store {
    inner: Mutex<Grants>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = self.inner.lock();
        f.debug_struct("Store")
            .field("codes", &g.codes.len())
            .field("access_tokens", &g.access.len())
            .field("refresh_tokens", &g.refresh.len())
            .finish()
    }
}

impl Store {
    /// Stores a code for /authorize and returns its value.
    pub fn add_code(&self, code: Code) -> String {
        let value = random_token(32);
        let mut g = self.inner.lock();
        let now = code.expires_ms - CODE_TTL_MS;
        g.codes.retain(|_, c| c.expires_ms > now);
        g.codes.insert(value.clone(), code);
        value
    }

    /// The access token with this value, expired or not (the caller judges expiry).
    pub fn access(&self, token: &str) -> Option<AccessToken> {
        self.inner.lock().access.get(token).cloned()
    }

    /// How many access tokens have been issued and not revoked (for tests and the control API).
    pub fn access_count(&self) -> usize {
        self.inner.lock().access.len()
    }

    fn issue_access(
        g: &mut Grants,
        client_id: &str,
        scopes: &[String],
        user: Option<Arc<Entity>>,
        jkt: Option<String>,
        family: Option<u64>,
        now: i64,
    ) -> String {
        if g.access.len() > 10_000 {
            g.access.retain(|_, t| t.expires_ms > now);
        }
        let value = random_token(48);
        g.access.insert(
            value.clone(),
            AccessToken {
                client_id: client_id.to_string(),
                scopes: scopes.to_vec(),
                user,
                issued_ms: now,
                expires_ms: now + ACCESS_TOKEN_TTL_MS,
                jkt,
                family,
            },
        );
        value
    }

    fn revoke_family(g: &mut Grants, family: u64) {
        g.access.retain(|_, t| t.family != Some(family));
        g.refresh.retain(|_, t| t.family != family);
    }
}

/// What a successful grant hands back.
struct Issued {
    access_token: String,
    scopes: Vec<String>,
    refresh_token: Option<String>,
    /// Who the token acts for, the System Log actor of the grant.
    actor: Arc<Entity>,
}

/// A form body; the first value of each name counts.
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &[u8]) -> Form {
        Form(form_urlencoded::parse(body).into_owned().collect())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// The client app as a System Log entity.
pub fn app_entity(app: &App) -> Arc<Entity> {
    Arc::new(Entity {
        id: app.client_id().to_string(),
        kind: "PublicClientApp",
        alternate_id: app.client_id().to_string(),
        display_name: app.client_id().to_string(),
    })
}

pub async fn token(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    match grant(&sim, &ctx, &headers, &form) {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

const GRANT_TYPES: [&str; 3] = ["authorization_code", "client_credentials", "refresh_token"];

fn grant(
    sim: &Sim,
    ctx: &RequestCtx,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Response, OAuthError> {
    let now = sim.clock.now_ms();
    let grant_type = form.get("grant_type").ok_or_else(|| {
        OAuthError::invalid_request(
            "The token request must specify a 'grant_type'. Valid values: [authorization_code, client_credentials, refresh_token]",
        )
    })?;
    let url = endpoint(sim, "/oauth2/v1/token");
    let app = authenticate_client(sim, headers, form, &url, now)?;
    let configured: &[&str] = match app.config.kind {
        AppKind::Service => &["client_credentials"],
        AppKind::Web => &["authorization_code", "refresh_token"],
    };
    if !configured.contains(&grant_type) {
        let list = configured.join(", ");
        return Err(match grant_type {
            "client_credentials" => OAuthError::invalid_client(
                "Only clients with 'application_type' of 'service' may use the client_credentials 'grant_type' with the Org Authorization Server.",
            ),
            g if GRANT_TYPES.contains(&g) => OAuthError::new(
                400,
                "unauthorized_client",
                format!(
                    "The client is not authorized to use the provided grant type. Configured grant types: [{list}]."
                ),
            ),
            _ => OAuthError::new(
                400,
                "unsupported_grant_type",
                format!(
                    "The authorization grant type is not supported by the authorization server. Configured grant types: [{list}]."
                ),
            ),
        });
    }
    // DPoP comes after client authentication: the assertion's jti is spent even when the
    // request then fails with use_dpop_nonce (FACTS.md §8).
    let jkt = if app.config.dpop_required {
        let expected = Expected {
            method: "POST",
            url: &url,
            access_token: None,
            nonce: true,
        };
        match sim.oauth.dpop.check(headers, expected, now) {
            Ok(key) => Some(key.thumbprint()),
            Err(ProofError::Invalid(d)) => {
                return Err(OAuthError::new(400, "invalid_dpop_proof", d));
            }
            Err(ProofError::UseNonce) => {
                let mut e = OAuthError::new(
                    400,
                    "use_dpop_nonce",
                    "Authorization server requires nonce in DPoP proof.",
                );
                e.dpop_nonce = Some(sim.oauth.dpop.nonce(now));
                return Err(e);
            }
        }
    } else {
        None
    };
    let issued = match grant_type {
        "client_credentials" => client_credentials(sim, &app, form, jkt.clone(), now)?,
        "authorization_code" => authorization_code(sim, &app, form, jkt.clone(), now)?,
        _ => refresh(sim, ctx, &app, form, jkt.clone(), now)?,
    };
    let ctx = RequestCtx {
        actor: issued.actor.clone(),
        ..ctx.clone()
    };
    let target = app_entity(&app);
    sim.log(
        &ctx,
        NewEvent::success(
            "app.oauth2.token.grant.access_token",
            "OIDC access token is granted",
            vec![target.clone()],
        ),
    );
    if issued.refresh_token.is_some() {
        sim.log(
            &ctx,
            NewEvent::success(
                "app.oauth2.token.grant.refresh_token",
                "OIDC refresh token is granted",
                vec![target],
            ),
        );
    }
    let mut body = json!({
        "token_type": if jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": ACCESS_TOKEN_TTL_MS / 1000,
        "access_token": issued.access_token,
        "scope": issued.scopes.join(" "),
    });
    if let Some(rt) = issued.refresh_token {
        body["refresh_token"] = json!(rt);
    }
    let mut resp = (StatusCode::OK, axum::Json(body)).into_response();
    no_store(&mut resp);
    // The recordings show the nonce on successful DPoP token responses too (FACTS.md §8).
    if jkt.is_some()
        && let Ok(v) = HeaderValue::from_str(&sim.oauth.dpop.nonce(now))
    {
        resp.headers_mut().insert("dpop-nonce", v);
    }
    Ok(resp)
}

/// The requested scopes: present, and each granted to the app (FACTS.md §7).
fn requested_scopes(app: &App, form: &Form) -> Result<Vec<String>, OAuthError> {
    let scopes: Vec<String> = form
        .get("scope")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if scopes.is_empty() {
        return Err(OAuthError::invalid_scope("No scopes were requested."));
    }
    if app.config.kind == AppKind::Service && scopes.iter().any(|s| s == "openid") {
        return Err(OAuthError::invalid_scope(
            "Cannot request 'openid' scopes using client credentials.",
        ));
    }
    if scopes.iter().any(|s| !app.may_grant(s)) {
        return Err(OAuthError::invalid_scope(
            "The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource owner.",
        ));
    }
    Ok(scopes)
}

fn client_credentials(
    sim: &Sim,
    app: &App,
    form: &Form,
    jkt: Option<String>,
    now: i64,
) -> Result<Issued, OAuthError> {
    let scopes = requested_scopes(app, form)?;
    let mut g = sim.oauth.tokens.inner.lock();
    let access_token = Store::issue_access(&mut g, app.client_id(), &scopes, None, jkt, None, now);
    Ok(Issued {
        access_token,
        scopes,
        refresh_token: None,
        actor: app_entity(app),
    })
}

fn authorization_code(
    sim: &Sim,
    app: &App,
    form: &Form,
    jkt: Option<String>,
    now: i64,
) -> Result<Issued, OAuthError> {
    let value = form
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("The required parameter 'code' is missing."))?;
    let mut g = sim.oauth.tokens.inner.lock();
    // A code is single use: any attempt spends it.
    let code = g
        .codes
        .remove(value)
        .filter(|c| c.expires_ms > now)
        .ok_or_else(|| {
            OAuthError::invalid_grant("The authorization code is invalid or has expired.")
        })?;
    if code.client_id != app.client_id() {
        return Err(OAuthError::invalid_grant(
            "The grant was issued to another client. Please make sure the 'client_id' matches the one used at the authorize request.",
        ));
    }
    if form.get("redirect_uri") != Some(code.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "The 'redirect_uri' does not match the redirection URI used in the authorization request.",
        ));
    }
    let verifier = form.get("code_verifier").ok_or_else(|| {
        OAuthError::invalid_request("PKCE code verifier is required by the application.")
    })?;
    if sha256_b64(verifier) != code.code_challenge {
        return Err(OAuthError::invalid_grant("PKCE verification failed."));
    }
    let refresh_token = code.scopes.iter().any(|s| s == "offline_access").then(|| {
        let family = g.next_family;
        g.next_family += 1;
        let value = random_token(48);
        g.refresh.insert(
            value.clone(),
            RefreshToken {
                client_id: code.client_id.clone(),
                scopes: code.scopes.clone(),
                user: code.user.clone(),
                family,
                jkt: jkt.clone(),
                issued_ms: now,
                spent_ms: None,
            },
        );
        (value, family)
    });
    let access_token = Store::issue_access(
        &mut g,
        app.client_id(),
        &code.scopes,
        Some(code.user.clone()),
        jkt,
        refresh_token.as_ref().map(|(_, f)| *f),
        now,
    );
    Ok(Issued {
        access_token,
        scopes: code.scopes,
        refresh_token: refresh_token.map(|(v, _)| v),
        actor: code.user,
    })
}

fn refresh(
    sim: &Sim,
    ctx: &RequestCtx,
    app: &App,
    form: &Form,
    jkt: Option<String>,
    now: i64,
) -> Result<Issued, OAuthError> {
    let value = form.get("refresh_token").ok_or_else(|| {
        OAuthError::invalid_request("The required parameter 'refresh_token' is missing.")
    })?;
    let invalid = || OAuthError::invalid_grant("The refresh token is invalid or expired.");
    let mut g = sim.oauth.tokens.inner.lock();
    let old = g
        .refresh
        .get(value)
        .filter(|t| t.client_id == app.client_id())
        .cloned()
        .ok_or_else(invalid)?;
    // A DPoP-bound family is refreshed with the same key only (FACTS.md §8).
    if old.jkt.is_some() && old.jkt != jkt {
        return Err(OAuthError::new(
            400,
            "invalid_dpop_proof",
            "Invalid DPoP Public Key binding in refresh token",
        ));
    }
    let policy = app.config.refresh_token;
    if let Some(spent) = old.spent_ms
        && !(policy.rotation == Rotation::Rotate && now - spent <= i64::from(policy.leeway) * 1000)
    {
        // Reuse outside the grace period: the whole family goes (FACTS.md §7).
        Store::revoke_family(&mut g, old.family);
        drop(g);
        let mut event = NewEvent::success(
            "app.oauth2.token.detect_reuse",
            "Detect one-time refresh token attempted reuse",
            vec![app_entity(app)],
        );
        event.severity = Severity::Warn;
        event.result = "FAILURE";
        sim.log(
            &RequestCtx {
                actor: old.user.clone(),
                ..ctx.clone()
            },
            event,
        );
        return Err(invalid());
    }
    let scopes = match form.get("scope") {
        None => old.scopes.clone(),
        Some(s) => {
            let asked: Vec<String> = s
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            let denied: Vec<&str> = asked
                .iter()
                .filter(|s| !old.scopes.contains(s))
                .map(String::as_str)
                .collect();
            if !denied.is_empty() {
                return Err(OAuthError::new(
                    400,
                    "access_denied",
                    format!(
                        "Some of the scopes requested for the refresh request were not granted in the original authorize request. Denied scopes: {}.",
                        denied.join(", ")
                    ),
                ));
            }
            asked
        }
    };
    let refresh_token = match policy.rotation {
        Rotation::Static => value.to_string(),
        Rotation::Rotate => {
            if let Some(t) = g.refresh.get_mut(value) {
                t.spent_ms.get_or_insert(now);
            }
            let next = random_token(48);
            g.refresh.insert(
                next.clone(),
                RefreshToken {
                    spent_ms: None,
                    issued_ms: now,
                    ..old.clone()
                },
            );
            next
        }
    };
    let access_token = Store::issue_access(
        &mut g,
        app.client_id(),
        &scopes,
        Some(old.user.clone()),
        jkt,
        Some(old.family),
        now,
    );
    Ok(Issued {
        access_token,
        scopes,
        refresh_token: Some(refresh_token),
        actor: old.user,
    })
}

/// Client authentication at the token, revoke and introspect endpoints: `client_secret_basic`,
/// `client_secret_post` or `private_key_jwt`, exactly one of them.
fn authenticate_client(
    sim: &Sim,
    headers: &HeaderMap,
    form: &Form,
    url: &str,
    now: i64,
) -> Result<Arc<App>, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    let assertion = form.get("client_assertion");
    let post_secret = form.get("client_secret");
    let given = [basic.is_some(), assertion.is_some(), post_secret.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(OAuthError::new(
            401,
            "invalid_request",
            "Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.",
        ));
    }
    if let Some(assertion) = assertion {
        return private_key_jwt(sim, form, assertion, url, now);
    }
    if let Some(basic) = basic {
        let (id, secret) = parse_basic(basic).ok_or_else(|| {
            OAuthError::invalid_client(
                "Found Authentication header but was not valid client credentials.",
            )
        })?;
        return check_secret(sim, &id, &secret);
    }
    match (form.get("client_id"), post_secret) {
        (Some(id), Some(secret)) => check_secret(sim, id, secret),
        _ => Err(OAuthError::invalid_client("No client credentials found.")),
    }
}

/// `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn parse_basic(value: &str) -> Option<(String, String)> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| {
        form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((decode(id)?, decode(secret)?))
}

fn check_secret(sim: &Sim, client_id: &str, secret: &str) -> Result<Arc<App>, OAuthError> {
    let app = sim.oauth.app(client_id).ok_or_else(|| {
        OAuthError::invalid_client(
            "Client authentication failed. Either the client or the client credentials are invalid.",
        )
    })?;
    match &app.config.client_secret {
        Some(s) if crate::auth::constant_time_eq(s, secret) => Ok(app),
        Some(_) => Err(OAuthError::invalid_client(
            "The client secret supplied for a confidential client is invalid.",
        )),
        None => Err(OAuthError::invalid_client(
            "Client authentication failed. Either the client or the client credentials are invalid.",
        )),
    }
}

/// Checks a client assertion as Okta does (FACTS.md §7), in the order its errors suggest: parse,
/// issuer, subject, key, signature, audience, expiry, issue time, and last the `jti`, which is
/// spent from then on whatever happens to the request.
fn private_key_jwt(
    sim: &Sim,
    form: &Form,
    assertion: &str,
    url: &str,
    now: i64,
) -> Result<Arc<App>, OAuthError> {
    use OAuthError as E;
    if form.get("client_assertion_type") != Some(JWT_BEARER) {
        return Err(E::invalid_request("The client_assertion_type is invalid."));
    }
    let jws = Jws::parse(assertion)
        .ok_or_else(|| E::invalid_client("The parsing of the client_assertion failed."))?;
    let iss = jws.claim_str("iss").unwrap_or("");
    let app = sim.oauth.app(iss).ok_or_else(|| {
        E::invalid_client("The issuer claim for client_assertion is not a valid client_id.")
    })?;
    if jws.claim_str("sub") != Some(iss) {
        return Err(E::invalid_client(
            "The subject claim for client_assertion is not a valid client_id.",
        ));
    }
    if app.keys.is_empty() {
        return Err(E::invalid_client(
            "The client does not have a JWKSet configured, but the client_assertion requires one.",
        ));
    }
    let bad_alg = || E::invalid_client("The client_assertion JWT signature algorithm is invalid.");
    if !jws.alg().is_some_and(supported_alg) {
        return Err(bad_alg());
    }
    // `kid` picks the key; it may be left out only when the app has a single key (§7).
    let key = match jws.kid() {
        Some(kid) => app.keys.iter().find(|k| k.kid() == Some(kid)),
        None if app.keys.len() == 1 => app.keys.first(),
        None => None,
    }
    .ok_or_else(|| E::invalid_client("The client_assertion JWT kid is invalid."))?;
    if jws.alg() != Some(key.alg()) {
        return Err(bad_alg());
    }
    if !jws.verify(key) {
        return Err(E::invalid_client(
            "The client_assertion signature is invalid.",
        ));
    }
    let aud_ok = match jws.claims.get("aud") {
        Some(Value::String(a)) => a == url,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(url)),
        _ => false,
    };
    if !aud_ok {
        return Err(E::invalid_client(
            "The audience claim for client_assertion must be the endpoint invoked for the request.",
        ));
    }
    let exp_ms = jws
        .claim_secs("exp")
        .ok_or_else(|| {
            E::invalid_client(
                "The client_assertion must contain the 'exp' claim as seconds since epoch.",
            )
        })?
        .saturating_mul(1000);
    if exp_ms <= now {
        return Err(E::invalid_client("The client_assertion token is expired."));
    }
    // The SDKs set exp = now + 1 h on their own clocks: a little skew is tolerated.
    if exp_ms > now + ASSERTION_MAX_TTL_MS + FUTURE_SKEW_MS {
        return Err(E::invalid_client(
            "The client_assertion token has an expiration too far into the future.",
        ));
    }
    if let Some(iat) = jws.claim_secs("iat")
        && iat.saturating_mul(1000) > now + FUTURE_SKEW_MS
    {
        return Err(E::invalid_client(
            "The client_assertion token must be issued before the current time.",
        ));
    }
    if let Some(jti) = jws.claim_str("jti") {
        let mut g = sim.oauth.tokens.inner.lock();
        if g.assertion_jtis.len() > 10_000 {
            g.assertion_jtis.retain(|_, exp| *exp > now);
        }
        if g.assertion_jtis
            .insert(format!("{iss} {jti}"), exp_ms)
            .is_some()
        {
            return Err(E::invalid_client(
                "The client_assertion token has already been used.",
            ));
        }
    }
    Ok(app)
}

/// The `token` parameter of /revoke and /introspect, after client authentication.
fn token_param<'f>(
    sim: &Sim,
    headers: &HeaderMap,
    form: &'f Form,
    path: &str,
) -> Result<(Arc<App>, &'f str), OAuthError> {
    let app = authenticate_client(sim, headers, form, &endpoint(sim, path), sim.clock.now_ms())?;
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("The 'token' parameter is required."))?;
    Ok((app, token))
}

/// RFC 7009: 200 whatever the token was (unknown, expired, another client's). Revoking a
/// refresh token revokes its family, access tokens included.
pub async fn revoke(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let (app, token) = match token_param(&sim, &headers, &form, "/oauth2/v1/revoke") {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let revoked = {
        let mut g = sim.oauth.tokens.inner.lock();
        let own_access = g
            .access
            .get(token)
            .is_some_and(|t| t.client_id == app.client_id());
        let family = g
            .refresh
            .get(token)
            .filter(|t| t.client_id == app.client_id())
            .map(|t| t.family);
        if own_access {
            g.access.remove(token);
        }
        if let Some(f) = family {
            Store::revoke_family(&mut g, f);
        }
        own_access || family.is_some()
    };
    if revoked {
        sim.log(
            &ctx,
            NewEvent::success(
                "app.oauth2.token.revoke",
                "OIDC token revocation request",
                vec![app_entity(&app)],
            ),
        );
    }
    let mut resp = StatusCode::OK.into_response();
    no_store(&mut resp);
    resp
}

/// RFC 7662, for the calling client's own tokens; anything else is `{"active": false}`.
pub async fn introspect(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let (app, token) = match token_param(&sim, &headers, &form, "/oauth2/v1/introspect") {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let now = sim.clock.now_ms();
    let g = sim.oauth.tokens.inner.lock();
    let body = if let Some(t) = g
        .access
        .get(token)
        .filter(|t| t.client_id == app.client_id() && t.expires_ms > now)
    {
        let mut v = json!({
            "active": true,
            "scope": t.scopes.join(" "),
            "client_id": t.client_id,
            "token_type": if t.jkt.is_some() { "DPoP" } else { "Bearer" },
            "exp": t.expires_ms / 1000,
            "iat": t.issued_ms / 1000,
            "iss": sim.base_url(),
        });
        if let Some(user) = &t.user {
            v["sub"] = json!(user.alternate_id);
            v["uid"] = json!(user.id);
        } else {
            v["sub"] = json!(t.client_id);
        }
        if let Some(jkt) = &t.jkt {
            v["cnf"] = json!({"jkt": jkt});
        }
        v
    } else if let Some(t) = g
        .refresh
        .get(token)
        .filter(|t| t.client_id == app.client_id() && t.spent_ms.is_none())
    {
        json!({
            "active": true,
            "scope": t.scopes.join(" "),
            "client_id": t.client_id,
            "token_type": "refresh_token",
            "iat": t.issued_ms / 1000,
            "sub": t.user.alternate_id,
            "iss": sim.base_url(),
        })
    } else {
        json!({"active": false})
    };
    let mut resp = axum::Json(body).into_response();
    no_store(&mut resp);
    resp
}
