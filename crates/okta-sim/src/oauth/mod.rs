//! The org authorization server (`/oauth2/v1`, FACTS.md §7–8): registered app integrations,
//! `/authorize` (code + PKCE, auto-consent), `/token` (authorization_code, refresh_token,
//! client_credentials with private_key_jwt), DPoP, `/keys`, `/revoke`, `/introspect`. The access
//! tokens it issues are what [`crate::auth`] accepts as `Bearer` and `DPoP` credentials.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use parking_lot::RwLock;
use serde_json::{Value, json};

use crate::Sim;

pub mod apps;
mod authorize;
pub mod dpop;
pub mod jwt;
pub mod tokens;

pub use apps::{App, AppKind, OAuthApp, RefreshPolicy, Rotation};

/// The org authorization server's state.
#[derive(Debug)]
pub struct OAuth {
    apps: RwLock<BTreeMap<String, Arc<App>>>,
    pub tokens: tokens::Store,
    pub dpop: dpop::Dpop,
    /// The server's signing key, published on `/keys` (tokens are opaque; the key is there for
    /// clients that fetch the JWKS).
    server_jwk: Value,
}

impl OAuth {
    /// Registers the configured apps; an invalid one is skipped with a warning (`spawn` refuses
    /// a configuration with one, so this only matters for callers of `Sim::new`).
    pub fn new(configured: &[OAuthApp]) -> OAuth {
        let oauth = OAuth {
            apps: RwLock::default(),
            tokens: tokens::Store::default(),
            dpop: dpop::Dpop::default(),
            server_jwk: server_jwk(),
        };
        for app in configured {
            if let Err(e) = oauth.register(app.clone()) {
                tracing::warn!("OAuth app not registered: {e}");
            }
        }
        oauth
    }

    /// Adds or replaces an app. Tokens already issued keep working; their scopes were fixed when
    /// granted, while the admin role is looked up on each call.
    pub fn register(&self, app: OAuthApp) -> Result<Arc<App>, String> {
        let app = Arc::new(App::new(app)?);
        self.apps
            .write()
            .insert(app.client_id().to_string(), app.clone());
        Ok(app)
    }

    pub fn app(&self, client_id: &str) -> Option<Arc<App>> {
        self.apps.read().get(client_id).cloned()
    }

    pub fn apps(&self) -> Vec<Arc<App>> {
        self.apps.read().values().cloned().collect()
    }
}

/// An EC P-256 key made at start; only its public half is kept.
fn server_jwk() -> Value {
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .expect("the operating system has a random source");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .expect("a key ring just generated parses");
    let point = pair.public_key().as_ref();
    let (x, y) = (jwt::b64(&point[1..33]), jwt::b64(&point[33..65]));
    let kid = jwt::sha256_b64(&format!("{x}{y}"))[..20].to_string();
    json!({"kty": "EC", "alg": "ES256", "kid": kid, "use": "sig", "crv": "P-256", "x": x, "y": y})
}

/// A random credential (token, code, nonce): `bytes` random bytes, base64url.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system has no random source");
    jwt::b64(&buf)
}

/// An OAuth error as the authorization server returns it: `{"error","error_description"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
    /// The `DPoP-Nonce` header to send along (`use_dpop_nonce`).
    pub dpop_nonce: Option<String>,
}

impl OAuthError {
    pub fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            dpop_nonce: None,
        }
    }

    pub fn invalid_client(description: &str) -> Self {
        Self::new(401, "invalid_client", description)
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", description)
    }

    pub fn invalid_grant(description: &str) -> Self {
        Self::new(400, "invalid_grant", description)
    }

    pub fn invalid_scope(description: &str) -> Self {
        Self::new(400, "invalid_scope", description)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let body = json!({"error": self.error, "error_description": self.description});
        let mut resp = (status, axum::Json(body)).into_response();
        no_store(&mut resp);
        if let Some(nonce) = self.dpop_nonce
            && let Ok(v) = HeaderValue::from_str(&nonce)
        {
            resp.headers_mut().insert("dpop-nonce", v);
        }
        resp
    }
}

/// Token responses and their errors must not be cached (RFC 6749 §5.1).
fn no_store(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// The org's base URL + `path`: the issuer's endpoints and the `htu`/`aud` values they expect.
pub fn endpoint(sim: &Sim, path: &str) -> String {
    format!("{}{path}", sim.base_url())
}

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/oauth2/v1/authorize", get(authorize::authorize))
        .route("/oauth2/v1/token", post(tokens::token))
        .route("/oauth2/v1/revoke", post(tokens::revoke))
        .route("/oauth2/v1/introspect", post(tokens::introspect))
        .route("/oauth2/v1/keys", get(keys))
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route("/.well-known/openid-configuration", get(metadata))
}

async fn keys(axum::extract::State(sim): axum::extract::State<Arc<Sim>>) -> Response {
    axum::Json(json!({"keys": [sim.oauth.server_jwk.clone()]})).into_response()
}

/// RFC 8414 metadata for the org authorization server, limited to what the simulator implements.
async fn metadata(axum::extract::State(sim): axum::extract::State<Arc<Sim>>) -> Response {
    let e = |p: &str| endpoint(&sim, p);
    axum::Json(json!({
        "issuer": sim.base_url(),
        "authorization_endpoint": e("/oauth2/v1/authorize"),
        "token_endpoint": e("/oauth2/v1/token"),
        "jwks_uri": e("/oauth2/v1/keys"),
        "revocation_endpoint": e("/oauth2/v1/revoke"),
        "introspection_endpoint": e("/oauth2/v1/introspect"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": ["RS256", "ES256"],
    }))
    .into_response()
}
