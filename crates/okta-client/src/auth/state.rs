//! The live side of [`Auth`]: the cached access token, the DPoP key and nonce, and Okta's clock. The
//! client asks it for each attempt's credentials ([`AuthState::prepare`]) and whether a failed attempt
//! is an auth hiccup worth one immediate retry ([`AuthState::recover`]).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use serde::Deserialize;
use url::form_urlencoded;

use super::{Auth, AuthStatus, DpopMode, PrivateKey, dpop};
use crate::client::Client;
use crate::error::{Error, ErrorKind};
use crate::retry::parse_http_date;
use crate::secret::SecretString;
use crate::transport::{Request, Response};

/// A token is renewed this long before it expires, so no request leaves with a token about to lapse.
const EXPIRY_MARGIN: Duration = Duration::from_secs(300);

/// What an attempt is for: an API call, or a token request for a grant.
pub(crate) enum Purpose {
    Resource,
    Token(Grant),
}

pub(crate) enum Grant {
    ClientCredentials,
    AuthorizationCode {
        code: String,
        verifier: SecretString,
    },
    Refresh(SecretString),
}

/// The auth-related retries already spent by one call: each happens at most once.
#[derive(Default)]
pub(crate) struct Tried {
    nonce: bool,
    dpop_switch: bool,
    refresh: bool,
}

/// What one attempt presented: the access token, so a 401 renews exactly that one.
#[derive(Default)]
pub(crate) struct Presented {
    token: Option<SecretString>,
}

#[derive(Clone)]
struct AccessToken {
    value: SecretString,
    token_type: String,
    scopes: Vec<String>,
    /// On the client's clock (so tests with a manual clock can expire it).
    expires_at: Instant,
}

struct Dpop {
    key: PrivateKey,
    mode: DpopMode,
    /// Proofs go with token requests (`On`, or `Auto` once Okta asked).
    active: AtomicBool,
    /// Okta asked for DPoP (auto mode switched on).
    required: AtomicBool,
    /// The latest `DPoP-Nonce` from any response (FACTS.md §8: renewed daily, old ones last 3 days).
    nonce: parking_lot::Mutex<Option<String>>,
}

pub(crate) struct AuthState {
    auth: Auth,
    dpop: Option<Dpop>,
    /// One token for every clone of the client; the async lock makes concurrent callers share one
    /// refresh (the first fetches, the others wait and find it cached).
    token: tokio::sync::Mutex<Option<AccessToken>>,
    /// Okta's clock minus ours, in seconds, from `Date` headers: JWT `iat`/`exp` are judged on
    /// Okta's clock ("issued in the future", "expired"), so a skewed local clock must not matter.
    clock_offset: AtomicI64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

impl AuthState {
    pub(crate) fn new(auth: &Auth) -> AuthState {
        let dpop = match auth {
            Auth::ApiToken(_) => None,
            Auth::ClientCredentials(c) => Some((c.dpop, c.dpop_key.clone())),
            Auth::AuthorizationCode(c) => Some((c.dpop, c.dpop_key.clone())),
        }
        .map(|(mode, key)| Dpop {
            key: key.unwrap_or_else(PrivateKey::generate_es256),
            mode,
            active: AtomicBool::new(mode == DpopMode::On),
            required: AtomicBool::new(false),
            nonce: parking_lot::Mutex::new(None),
        });
        AuthState {
            auth: auth.clone(),
            dpop,
            token: tokio::sync::Mutex::new(None),
            clock_offset: AtomicI64::new(0),
        }
    }

    /// Adds this attempt's credentials to `request`: for a token request also its form body (a new
    /// client assertion each time); for an API call the access token, fetched first if needed.
    pub(crate) async fn prepare(
        &self,
        client: &Client,
        purpose: &Purpose,
        request: &mut Request,
    ) -> Result<Presented, Error> {
        match purpose {
            Purpose::Token(grant) => {
                self.prepare_token_request(grant, request)?;
                Ok(Presented::default())
            }
            Purpose::Resource => match &self.auth {
                Auth::ApiToken(token) => {
                    let value = format!("SSWS {}", token.expose());
                    insert_secret(request, header::AUTHORIZATION.as_str(), &value, "API token")?;
                    Ok(Presented::default())
                }
                _ => {
                    let token = self.access_token(client).await?;
                    let scheme = if token.token_type.eq_ignore_ascii_case("DPoP") {
                        // FACTS.md §8: a bound token goes with `Authorization: DPoP` and a proof
                        // carrying `ath`; the SDKs also flag it for Okta's support.
                        let proof = self.proof(&request.method, &request.url, Some(&token.value));
                        insert_secret(request, "dpop", &proof, "DPoP proof")?;
                        request.headers.insert(
                            "x-okta-user-agent-extended",
                            HeaderValue::from_static("isDPoP:true"),
                        );
                        "DPoP"
                    } else {
                        "Bearer"
                    };
                    let value = format!("{scheme} {}", token.value.expose());
                    insert_secret(
                        request,
                        header::AUTHORIZATION.as_str(),
                        &value,
                        "access token",
                    )?;
                    Ok(Presented {
                        token: Some(token.value),
                    })
                }
            },
        }
    }

    fn prepare_token_request(&self, grant: &Grant, request: &mut Request) -> Result<(), Error> {
        let token_url = request.url.as_str().to_string();
        let mut form = form_urlencoded::Serializer::new(String::new());
        match (&self.auth, grant) {
            (Auth::ClientCredentials(c), Grant::ClientCredentials) => {
                form.append_pair("grant_type", "client_credentials")
                    .append_pair("scope", &c.scopes.join(" "))
                    .append_pair(
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    )
                    .append_pair(
                        "client_assertion",
                        &c.assertion(&token_url, self.okta_now()),
                    );
            }
            (Auth::AuthorizationCode(c), Grant::AuthorizationCode { code, verifier }) => {
                form.append_pair("grant_type", "authorization_code")
                    .append_pair("code", code)
                    .append_pair("redirect_uri", &c.redirect_uri)
                    .append_pair("code_verifier", verifier.expose());
            }
            (Auth::AuthorizationCode(_), Grant::Refresh(refresh)) => {
                form.append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", refresh.expose());
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::Invalid,
                    format!("this grant does not apply to {}", self.auth.kind()),
                ));
            }
        }
        if let Auth::AuthorizationCode(c) = &self.auth {
            // client_secret_basic (RFC 6749 §2.3.1: each part form-encoded first).
            let encode =
                |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let pair = format!(
                "{}:{}",
                encode(&c.client_id),
                encode(c.client_secret.expose())
            );
            let value = format!("Basic {}", STANDARD.encode(pair));
            insert_secret(
                request,
                header::AUTHORIZATION.as_str(),
                &value,
                "client secret",
            )?;
        }
        if let Some(d) = &self.dpop
            && d.active.load(Ordering::Relaxed)
        {
            let proof = self.proof(&request.method, &request.url, None);
            insert_secret(request, "dpop", &proof, "DPoP proof")?;
        }
        request.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        request.body = Some(form.finish().into_bytes().into());
        Ok(())
    }

    fn proof(&self, method: &Method, url: &Url, token: Option<&SecretString>) -> String {
        let d = self
            .dpop
            .as_ref()
            .expect("DPoP proofs only with a DPoP key");
        let nonce = d.nonce.lock().clone();
        dpop::proof(
            &d.key,
            method.as_str(),
            url,
            self.okta_now(),
            nonce.as_deref(),
            token.map(SecretString::expose),
        )
    }

    /// Learns from every response: Okta's clock, and the latest DPoP nonce.
    pub(crate) fn observe(&self, headers: &HeaderMap) {
        if let Some(date) = headers
            .get(header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_http_date)
        {
            // `Date` is truncated to the second and sent before we read it, so the offset errs
            // towards the past: an `iat` built on it is never "issued in the future".
            self.clock_offset
                .store(date - unix_now(), Ordering::Relaxed);
        }
        if let Some(d) = &self.dpop
            && let Some(nonce) = headers.get("dpop-nonce").and_then(|v| v.to_str().ok())
        {
            *d.nonce.lock() = Some(nonce.to_string());
        }
    }

    /// Whether a failed attempt is an auth hiccup to retry at once (at most once each): Okta asking for
    /// a DPoP nonce or for DPoP itself (auto mode), or an access token that expired early.
    pub(crate) async fn recover(
        &self,
        purpose: &Purpose,
        presented: &Presented,
        response: &Response,
        tried: &mut Tried,
    ) -> bool {
        let Some(d) = &self.dpop else {
            return false; // an API token: nothing to renew
        };
        let status = response.status.as_u16();
        let (error, description) = oauth_error(response);
        match purpose {
            Purpose::Token(_) => {
                if status == 400 && error == "use_dpop_nonce" && !tried.nonce {
                    // The nonce arrived in `DPoP-Nonce` (seen by `observe`); the retry carries a new
                    // proof and a new client assertion (FACTS.md §8: the old jti is spent).
                    tried.nonce = true;
                    return true;
                }
                if status == 400
                    && error == "invalid_dpop_proof"
                    && description.contains("header is missing")
                    && d.mode == DpopMode::Auto
                    && !tried.dpop_switch
                {
                    tracing::info!("Okta requires DPoP for this app: switching DPoP on");
                    d.active.store(true, Ordering::Relaxed);
                    d.required.store(true, Ordering::Relaxed);
                    tried.dpop_switch = true;
                    return true;
                }
                false
            }
            Purpose::Resource => {
                if matches!(status, 400 | 401) && error == "use_dpop_nonce" && !tried.nonce {
                    tried.nonce = true;
                    return true;
                }
                if status == 401 && !tried.refresh {
                    // The token expired or was revoked before we expected: renew that one token
                    // (a concurrent caller may have renewed it already) and try once more.
                    tried.refresh = true;
                    let mut cached = self.token.lock().await;
                    if cached.as_ref().map(|t| &t.value) == presented.token.as_ref() {
                        *cached = None;
                    }
                    return true;
                }
                false
            }
        }
    }

    /// The cached access token, or a new one (one token request at a time for all callers).
    async fn access_token(&self, client: &Client) -> Result<AccessToken, Error> {
        let mut cached = self.token.lock().await;
        let now = client.now();
        if let Some(token) = cached.as_ref()
            && token.expires_at > now + EXPIRY_MARGIN
        {
            return Ok(token.clone());
        }
        let grant = match &self.auth {
            Auth::AuthorizationCode(c) => Grant::Refresh(c.refresh_tokens.current().ok_or_else(|| {
                Error::new(
                    ErrorKind::Invalid,
                    "this connection has no refresh token yet: log in with `okta-connector connections login NAME`",
                )
            })?),
            _ => Grant::ClientCredentials,
        };
        let token = self.request_token(client, grant).await?;
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Exchanges an authorization code and caches the result (the refresh token already stored).
    pub(crate) async fn exchange_code(
        &self,
        client: &Client,
        code: &str,
        verifier: &SecretString,
    ) -> Result<(), Error> {
        if !matches!(self.auth, Auth::AuthorizationCode(_)) {
            return Err(Error::new(
                ErrorKind::Invalid,
                format!(
                    "exchange_code needs an OAuth authorization code connection, not {}",
                    self.auth.kind()
                ),
            ));
        }
        let mut cached = self.token.lock().await;
        let grant = Grant::AuthorizationCode {
            code: code.to_string(),
            verifier: verifier.clone(),
        };
        *cached = Some(self.request_token(client, grant).await?);
        Ok(())
    }

    /// One token request (with its nonce dance, inside the client's pipeline) and its bookkeeping.
    async fn request_token(&self, client: &Client, grant: Grant) -> Result<AccessToken, Error> {
        let refreshing = matches!(grant, Grant::Refresh(_));
        let sent_refresh = match &grant {
            Grant::Refresh(r) => Some(r.clone()),
            _ => None,
        };
        let response = client
            .token_request(Purpose::Token(grant))
            .await
            .map_err(|e| self.explain(e, refreshing))?;
        let body: TokenResponse = serde_json::from_slice(&response.body).map_err(|e| {
            Error::new(
                ErrorKind::Decode,
                format!("the token endpoint's answer is not a token response: {e}"),
            )
        })?;
        if let (Auth::AuthorizationCode(c), Some(new)) = (&self.auth, body.refresh_token) {
            let new = SecretString::new(new);
            // A rotated token is stored before its access token is used: if storing fails, the old
            // refresh token is still the stored one, and Okta accepts it again within the rotation
            // grace period (FACTS.md §7), so nothing is lost but this attempt.
            if sent_refresh.as_ref() != Some(&new) {
                c.refresh_tokens.replace(&new).map_err(|e| {
                    Error::new(
                        ErrorKind::Invalid,
                        format!("could not store the new refresh token ({e}); the previous one is kept, try again"),
                    )
                })?;
            }
        }
        let lifetime = Duration::from_secs(body.expires_in.unwrap_or(3600));
        Ok(AccessToken {
            value: SecretString::new(body.access_token),
            token_type: body.token_type.unwrap_or_else(|| "Bearer".into()),
            scopes: body
                .scope
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            expires_at: client.now() + lifetime,
        })
    }

    /// A token endpoint error in plain words, with the fix (the OAuth error stays in the body).
    fn explain(&self, mut error: Error, refreshing: bool) -> Error {
        let Some((code, description)) = error.oauth_error() else {
            return error;
        };
        let (code, description) = (code.to_string(), description.unwrap_or("").to_string());
        let fix = match code.as_str() {
            "invalid_dpop_proof" if description.contains("header is missing") => {
                "Okta requires DPoP for this app but the connection's DPoP mode is off: set it to auto or on \
                 (or untick \"Require DPoP\" in the app's settings)"
                    .to_string()
            }
            "invalid_grant" if refreshing => {
                "the refresh token is no longer valid (expired, revoked or reused): log in again with \
                 `okta-connector connections login NAME`"
                    .to_string()
            }
            "invalid_client" => format!(
                "Okta did not accept the client's credentials ({description}): check the client id and \
                 the key or secret registered with the app"
            ),
            "invalid_scope" => format!(
                "Okta refused the scopes requested ({description}): grant them on the app's Okta API Scopes tab"
            ),
            _ => format!("the token request was refused: {code}: {description}"),
        };
        error.message = format!("{}: {fix}", self.auth.kind());
        error
    }

    pub(crate) async fn status(&self, client: &Client) -> AuthStatus {
        let token = self.token.lock().await.clone();
        let dpop_active = self
            .dpop
            .as_ref()
            .is_some_and(|d| d.active.load(Ordering::Relaxed));
        let now = client.now();
        AuthStatus {
            kind: self.auth.kind(),
            dpop_mode: self.dpop.as_ref().map(|d| d.mode),
            dpop_in_use: match &token {
                Some(t) => t.token_type.eq_ignore_ascii_case("DPoP"),
                None => dpop_active,
            },
            dpop_required_by_okta: self
                .dpop
                .as_ref()
                .is_some_and(|d| d.required.load(Ordering::Relaxed)),
            token_type: token.as_ref().map(|t| t.token_type.clone()),
            scopes: token.as_ref().map(|t| t.scopes.clone()).unwrap_or_default(),
            expires_at: token
                .as_ref()
                .map(|t| SystemTime::now() + t.expires_at.saturating_duration_since(now)),
        }
    }

    /// Gets a token now if the connection uses OAuth.
    pub(crate) async fn ensure_token(&self, client: &Client) -> Result<(), Error> {
        if self.dpop.is_some() {
            self.access_token(client).await?;
        }
        Ok(())
    }

    fn okta_now(&self) -> i64 {
        unix_now() + self.clock_offset.load(Ordering::Relaxed)
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A secret header, marked sensitive so hyper and reqwest never print it.
fn insert_secret(
    request: &mut Request,
    name: &'static str,
    value: &str,
    what: &str,
) -> Result<(), Error> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        Error::new(
            ErrorKind::Invalid,
            format!("the {what} contains characters not allowed in an HTTP header"),
        )
    })?;
    value.set_sensitive(true);
    request.headers.insert(name, value);
    Ok(())
}

/// The OAuth `error` and `error_description` of an answer: from the JSON body (the token endpoint) or
/// the `WWW-Authenticate` header (resources, FACTS.md §8).
pub(crate) fn oauth_error(response: &Response) -> (String, String) {
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(&response.body)
        && let Some(error) = body.get("error").and_then(|e| e.as_str())
    {
        let description = body
            .get("error_description")
            .and_then(|d| d.as_str())
            .unwrap_or("");
        return (error.to_string(), description.to_string());
    }
    let params = www_authenticate(&response.headers);
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    (get("error"), get("error_description"))
}

/// The `name="value"` parameters of `WWW-Authenticate` (e.g. `DPoP algs="ES256", error="use_dpop_nonce"`).
pub(crate) fn www_authenticate(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut params = Vec::new();
    for value in headers.get_all(header::WWW_AUTHENTICATE) {
        let mut rest = value.to_str().unwrap_or("");
        while let Some(eq) = rest.find('=') {
            let name = rest[..eq]
                .rsplit([' ', ','])
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            let after = rest[eq + 1..].trim_start();
            let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted.find('"').unwrap_or(quoted.len());
                (&quoted[..end], &quoted[(end + 1).min(quoted.len())..])
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim(), &after[end..])
            };
            params.push((name, value.to_string()));
            rest = next;
        }
    }
    params
}
