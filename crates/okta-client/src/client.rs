//! The client: auth, pacing, retries, JSON, pagination.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::state::{AuthState, Purpose, Tried, oauth_error};
use crate::auth::{Auth, AuthStatus, Pkce};
use crate::clock::{Clock, TokioClock};
use crate::error::{Error, ErrorBody, ErrorKind};
use crate::governor::{Admission, Governor, GovernorConfig, bucket_key};
use crate::observer::{self, Attempt, AttemptOutcome, Observer, RetryReason, WaitReason};
use crate::page::{LogPoll, LogStart, Page, Pages, next_link};
use crate::retry::{self, Decision, Outcome, RateLimitHeaders, RetryPolicy};
use crate::transport::{HttpTransport, Request, Response, Transport};

/// Everything a client needs. `ClientConfig::new` gives the defaults.
#[derive(Clone)]
pub struct ClientConfig {
    /// The org's base URL: `https://acme.okta.com`, or `http://127.0.0.1:PORT` for the simulator.
    pub org_url: Url,
    pub auth: Auth,
    pub retry: RetryPolicy,
    /// The largest share of any rate-limit bucket this client may use (0 < share <= 1; default 0.5).
    pub max_bucket_share: f64,
    /// Timeout of one HTTP attempt.
    pub request_timeout: Duration,
    pub user_agent: String,
    /// Told of every attempt, rate-limit wait and retry (metrics); `None` by default.
    pub observer: Option<Arc<dyn Observer>>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("org_url", &self.org_url.as_str())
            .field("auth", &self.auth)
            .field("retry", &self.retry)
            .field("max_bucket_share", &self.max_bucket_share)
            .field("request_timeout", &self.request_timeout)
            .field("user_agent", &self.user_agent)
            .field("observer", &self.observer.as_ref().map(|_| "set"))
            .finish()
    }
}

impl ClientConfig {
    pub fn new(org_url: Url, auth: Auth) -> Self {
        ClientConfig {
            org_url,
            auth,
            retry: RetryPolicy::default(),
            max_bucket_share: 0.5,
            request_timeout: Duration::from_secs(30),
            user_agent: concat!("okta-connector/", env!("CARGO_PKG_VERSION")).to_string(),
            observer: None,
        }
    }
}

/// Query parameters in order (Okta echoes them in `Link` headers).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn new() -> Self {
        Query::default()
    }
    pub fn push(mut self, key: &str, value: impl ToString) -> Self {
        self.0.push((key.to_string(), value.to_string()));
        self
    }
    pub fn opt(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.push(key, v),
            None => self,
        }
    }
}

/// Cheap to clone; clones share the connection pool, the governor and the auth state.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    governor: Governor,
    auth: AuthState,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("org_url", &self.inner.config.org_url.as_str())
            .field("auth", &self.inner.config.auth.kind())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client over [`crate::HttpTransport`].
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        Ok(Client::with_transport(
            config,
            Arc::new(HttpTransport::new()?),
        ))
    }

    /// A client over any transport (tests, replay servers).
    pub fn with_transport(config: ClientConfig, transport: Arc<dyn Transport>) -> Self {
        Client::build(config, transport, Arc::new(TokioClock))
    }

    /// The same client with another clock: tests pass a [`crate::clock::ManualClock`] so retry
    /// waits and pacing are recorded instead of slept. The governor starts afresh.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Client::build(
            self.inner.config.clone(),
            self.inner.transport.clone(),
            clock,
        )
    }

    fn build(config: ClientConfig, transport: Arc<dyn Transport>, clock: Arc<dyn Clock>) -> Self {
        let governor = Governor::new(GovernorConfig {
            max_share: config.max_bucket_share.clamp(0.01, 1.0),
            ..GovernorConfig::default()
        });
        let auth = AuthState::new(&config.auth);
        Client {
            inner: Arc::new(Inner {
                config,
                transport,
                clock,
                governor,
                auth,
            }),
        }
    }

    pub fn org_url(&self) -> &Url {
        &self.inner.config.org_url
    }

    /// The client's configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Gets an access token now if the connection uses OAuth and has none (a no-op for an API token),
    /// and reports the state: for the connection test, before any API call.
    pub async fn authenticate(&self) -> Result<AuthStatus, Error> {
        self.inner.auth.ensure_token(self).await?;
        Ok(self.auth_status().await)
    }

    /// The credentials' state now (DPoP in use, token type, scopes, expiry).
    pub async fn auth_status(&self) -> AuthStatus {
        self.inner.auth.status(self).await
    }

    /// Completes an authorization code login: posts `code` with the PKCE verifier, stores the refresh
    /// token through the connection's [`crate::auth::RefreshTokenStore`] and caches the access token.
    pub async fn exchange_code(&self, code: &str, pkce: &Pkce) -> Result<(), Error> {
        self.inner
            .auth
            .exchange_code(self, code, &pkce.verifier)
            .await
    }

    /// The client's clock (token expiry is judged on it).
    pub(crate) fn now(&self) -> std::time::Instant {
        self.inner.clock.now()
    }

    /// A POST to the org's token endpoint, through the same pipeline (origin check, pacing,
    /// retries) as every call. Boxed: it runs inside a resource call's `prepare`.
    pub(crate) fn token_request(
        &self,
        purpose: Purpose,
    ) -> futures_util::future::BoxFuture<'_, Result<Response, Error>> {
        Box::pin(async move {
            let url = self.url("/oauth2/v1/token", &Query::new())?;
            self.run(&purpose, Method::POST, url, None).await
        })
    }

    /// One API call: `path` is under the org (`/api/v1/users`) or an absolute URL on the org (a `next`
    /// link); anything else is refused so the token never leaves the org. Auth, pacing and retries
    /// applied; a non-2xx answer is an `Err`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &Query,
        body: Option<&Value>,
    ) -> Result<Response, Error> {
        let url = self.url(path, query)?;
        let body = body.map(to_json).transpose()?;
        self.execute(method, url, body).await
    }

    /// [`Client::send`] with extra request headers (e.g. `Prefer: respond-async` on a deactivation).
    /// They cannot replace the ones the client sets itself (auth, content type, retry headers).
    pub async fn send_with_headers(
        &self,
        method: Method,
        path: &str,
        query: &Query,
        body: Option<&Value>,
        extra: HeaderMap,
    ) -> Result<Response, Error> {
        let url = self.url(path, query)?;
        let body = body.map(to_json).transpose()?;
        self.run_with(&Purpose::Resource, method, url, body, extra)
            .await
    }

    /// GET and parse the JSON body.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &Query) -> Result<T, Error> {
        self.json::<T, Value>(Method::GET, path, query, None).await
    }

    /// Any method with an optional JSON body; parses the answer (use `Value` for "whatever comes
    /// back", `()` is not supported: use [`Client::send`] for 204s).
    pub async fn json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &Query,
        body: Option<&B>,
    ) -> Result<T, Error> {
        let url = self.url(path, query)?;
        let body = body.map(to_json).transpose()?;
        let response = self.execute(method.clone(), url.clone(), body).await?;
        decode(&method, &url, &response)
    }

    /// Every item of a list, one page at a time, following `rel="next"` until there is none.
    pub fn paginate<T: DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
        query: Query,
    ) -> Pages<T> {
        Pages::from_stream(self.pages::<T>(path, query).flat_map(|page| {
            let items: Vec<Result<T, Error>> = match page {
                Ok(page) => page.items.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            };
            futures_util::stream::iter(items)
        }))
    }

    /// The pages of a list, each with its `next` link (for callers that checkpoint a cursor).
    pub fn pages<T: DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
        query: Query,
    ) -> Pages<Page<T>> {
        let first = self.url(path, &query);
        let state = (self.clone(), Some(first));
        Pages::from_stream(futures_util::stream::unfold(
            state,
            |(client, next)| async move {
                let page = match next? {
                    Ok(url) => client.page::<T>(url).await,
                    Err(e) => Err(e),
                };
                let next = match &page {
                    Ok(p) => p.next.clone().map(Ok),
                    Err(_) => None,
                };
                Some((page, (client, next)))
            },
        ))
    }

    /// One System Log poll (no `until`, ascending): events page by page until the first empty page;
    /// then the stream ends and [`LogPoll::cursor`] is the `next` link to resume from.
    pub fn poll_logs(&self, start: LogStart) -> LogPoll {
        let first = match start {
            LogStart::Since {
                since,
                filter,
                q,
                limit,
            } => {
                let query = Query::new()
                    .push("since", since)
                    .opt("filter", filter)
                    .opt("q", q)
                    .push("limit", limit);
                self.url("/api/v1/logs", &query)
            }
            LogStart::Cursor(url) => self.url(url.as_str(), &Query::new()),
        };
        LogPoll::new(self.clone(), first)
    }

    /// GETs one page at `url` (already checked to be on the org).
    pub(crate) async fn page<T: DeserializeOwned>(&self, url: Url) -> Result<Page<T>, Error> {
        let response = self.execute(Method::GET, url.clone(), None).await?;
        let items = decode(&Method::GET, &url, &response)?;
        Ok(Page {
            items,
            next: next_link(&response.headers, &url),
            request_id: request_id(&response.headers),
            url,
        })
    }

    /// The absolute URL of `path` with `query` appended (its origin is checked when it is sent).
    fn url(&self, path: &str, query: &Query) -> Result<Url, Error> {
        let org = &self.inner.config.org_url;
        let mut url = if path.starts_with('/') && !path.starts_with("//") {
            org.join(path)
        } else {
            Url::parse(path)
        }
        .map_err(|e| {
            Error::new(
                ErrorKind::Invalid,
                format!("{path:?} is neither a path under the org nor a URL: {e}"),
            )
        })?;
        url.set_fragment(None);
        if !query.0.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.0.iter().map(|(k, v)| (k, v)));
        }
        Ok(url)
    }

    /// Refuses a URL off the org's origin (scheme, host, port): every request passes here, so a
    /// `next` link or cursor pointing elsewhere never receives the credentials.
    fn check_origin(&self, url: &Url) -> Result<(), Error> {
        let org = &self.inner.config.org_url;
        if url.origin() == org.origin() {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Invalid,
            format!(
                "refusing to send a request to {}: it is not the org {} (the credentials stay with the org)",
                url.origin().ascii_serialization(),
                org.origin().ascii_serialization()
            ),
        ))
    }

    /// Sends with pacing and retries until success, a final failure or the retry budget is spent.
    async fn execute(
        &self,
        method: Method,
        url: Url,
        body: Option<Bytes>,
    ) -> Result<Response, Error> {
        self.run(&Purpose::Resource, method, url, body).await
    }

    /// The pipeline of every request: credentials per attempt (a token may need fetching, a DPoP
    /// proof is new each time), pacing, one immediate retry per auth hiccup, the retry policy.
    async fn run(
        &self,
        purpose: &Purpose,
        method: Method,
        url: Url,
        body: Option<Bytes>,
    ) -> Result<Response, Error> {
        self.run_with(purpose, method, url, body, HeaderMap::new())
            .await
    }

    /// [`Client::run`] with extra headers, added under the client's own.
    async fn run_with(
        &self,
        purpose: &Purpose,
        method: Method,
        url: Url,
        body: Option<Bytes>,
        extra: HeaderMap,
    ) -> Result<Response, Error> {
        self.check_origin(&url)?;
        let inner = &self.inner;
        let policy = &inner.config.retry;
        let observer = inner.config.observer.as_deref();
        let key = bucket_key(method.as_str(), url.path());
        let mut headers = extra;
        headers.extend(self.headers(body.is_some()));
        let started = inner.clock.now();
        let mut retry_for: Option<String> = None;
        let mut tried = Tried::default();
        let mut attempt = 1;
        loop {
            let mut request = Request {
                method: method.clone(),
                url: url.clone(),
                headers: headers.clone(),
                body: body.clone(),
                timeout: Some(inner.config.request_timeout),
            };
            // Pacing first: a proof's `iat` must be fresh when it leaves.
            self.pace(&key).await;
            let presented = inner.auth.prepare(self, purpose, &mut request).await?;
            if attempt > 1 {
                // Okta's SDKs tie a retry to the answer it repeats, for Okta's support to follow.
                if let Some(id) = retry_for
                    .as_deref()
                    .and_then(|id| HeaderValue::from_str(id).ok())
                {
                    request.headers.insert("x-okta-retry-for", id);
                }
                request
                    .headers
                    .insert("x-okta-retry-count", HeaderValue::from(attempt - 1));
            }
            let sent = inner.clock.now();
            let result = inner.transport.send(request).await;
            let now = inner.clock.now();
            let elapsed = now.saturating_duration_since(started);
            let took = now.saturating_duration_since(sent);
            let (outcome_error, decision, reason) = match result {
                Ok(response) => {
                    let limits = RateLimitHeaders::parse(&response.headers);
                    if let Some(observer) = observer {
                        observer.attempt(&Attempt {
                            method: &method,
                            bucket: &key,
                            number: attempt,
                            outcome: AttemptOutcome::Status(response.status.as_u16()),
                            duration: took,
                            limit: limits.limit,
                            remaining: limits.remaining,
                            reset: limits.reset,
                            request_id: header_str(&response.headers, "x-okta-request-id"),
                        });
                    }
                    inner.governor.observe(&key, now, Some(&limits));
                    inner.auth.observe(&response.headers);
                    if response.status.is_success() {
                        return Ok(response);
                    }
                    if inner
                        .auth
                        .recover(purpose, &presented, &response, &mut tried)
                        .await
                    {
                        let request_id = header_str(&response.headers, "x-okta-request-id");
                        tracing::debug!(%method, path = url.path(), status = response.status.as_u16(), okta_request_id = request_id, "renewed the credentials; repeating the request");
                        if let Some(observer) = observer {
                            observer.retry(&observer::Retry {
                                method: &method,
                                bucket: &key,
                                attempt,
                                reason: RetryReason::Auth,
                                after: Duration::ZERO,
                                request_id,
                            });
                        }
                        continue;
                    }
                    if response.status.is_redirection() {
                        return Err(redirect_error(&method, &url, &response));
                    }
                    let outcome = Outcome::Status {
                        status: response.status.as_u16(),
                        headers: &response.headers,
                    };
                    let (retryable, decision) = judge(policy, &method, attempt, elapsed, &outcome);
                    let reason = RetryReason::of(&outcome);
                    retry_for = request_id(&response.headers);
                    (
                        api_error(&method, &url, &response, retryable),
                        decision,
                        reason,
                    )
                }
                Err(e) => {
                    if let Some(observer) = observer {
                        observer.attempt(&Attempt {
                            method: &method,
                            bucket: &key,
                            number: attempt,
                            outcome: AttemptOutcome::Failed(e.kind),
                            duration: took,
                            limit: None,
                            remaining: None,
                            reset: None,
                            request_id: None,
                        });
                    }
                    inner.governor.observe(&key, now, None);
                    let outcome = Outcome::Transport {
                        kind: e.kind,
                        sent: e.sent,
                    };
                    let (retryable, decision) = judge(policy, &method, attempt, elapsed, &outcome);
                    let reason = RetryReason::of(&outcome);
                    retry_for = None;
                    let error = Error {
                        retryable,
                        ..Error::new(e.kind, format!("{method} {}: {}", url.path(), e.message))
                    };
                    (error, decision, reason)
                }
            };
            match decision {
                Decision::Retry { after } => {
                    // A field of its own, so JSON logs can be searched by Okta's request id.
                    tracing::info!(
                        %method,
                        path = url.path(),
                        attempt,
                        after_ms = after.as_millis() as u64,
                        reason = reason.as_str(),
                        status = outcome_error.status,
                        okta_request_id = retry_for.as_deref(),
                        error = %outcome_error,
                        "retrying"
                    );
                    if let Some(observer) = observer {
                        observer.retry(&observer::Retry {
                            method: &method,
                            bucket: &key,
                            attempt,
                            reason,
                            after,
                            request_id: retry_for.as_deref(),
                        });
                        if reason.is_throttled() {
                            observer.waited(&key, WaitReason::RateLimited, after);
                        }
                    }
                    inner.clock.sleep(after).await;
                    attempt += 1;
                }
                Decision::GiveUp { reason } => {
                    let mut error = outcome_error;
                    if attempt > 1 {
                        error.message = format!("{} ({reason})", error.message);
                    }
                    log_failure(&error);
                    return Err(error);
                }
            }
        }
    }

    /// Waits until the governor admits a request on `key`.
    async fn pace(&self, key: &str) {
        let inner = &self.inner;
        let observer = inner.config.observer.as_deref();
        loop {
            match inner.governor.admit(key, inner.clock.now()) {
                Admission::Go { after } => {
                    if !after.is_zero() {
                        if let Some(observer) = observer {
                            observer.waited(key, WaitReason::Pacing, after);
                        }
                        inner.clock.sleep(after).await;
                    }
                    return;
                }
                Admission::Blocked { retry_in } => {
                    tracing::debug!(
                        key,
                        ?retry_in,
                        "rate-limit share used up; waiting for the reset"
                    );
                    if let Some(observer) = observer {
                        observer.waited(key, WaitReason::ShareUsed, retry_in);
                    }
                    inner.clock.sleep(retry_in).await;
                }
            }
        }
    }

    /// The headers of every attempt; the credentials are added per attempt by the auth state.
    fn headers(&self, json_body: bool) -> HeaderMap {
        let config = &self.inner.config;
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        if let Ok(ua) = HeaderValue::from_str(&config.user_agent) {
            headers.insert(header::USER_AGENT, ua);
        }
        if json_body {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        headers
    }
}

/// Whether a failed attempt is worth repeating at all, and the policy's decision for this one.
fn judge(
    policy: &retry::RetryPolicy,
    method: &Method,
    attempt: u32,
    elapsed: std::time::Duration,
    outcome: &Outcome<'_>,
) -> (bool, Decision) {
    let retryable = !matches!(
        retry::classify(policy, method, outcome),
        retry::Class::Fatal(_)
    );
    let decision = retry::decide(
        policy,
        method,
        attempt,
        elapsed,
        outcome,
        retry::random_jitter(),
    );
    (retryable, decision)
}

fn to_json<B: Serialize + ?Sized>(body: &B) -> Result<Bytes, Error> {
    serde_json::to_vec(body).map(Bytes::from).map_err(|e| {
        Error::new(
            ErrorKind::Invalid,
            format!("the request body could not be serialized: {e}"),
        )
    })
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    header_str(headers, "x-okta-request-id").map(str::to_string)
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A request that failed for good, as a log event carrying Okta's request id. Okta's or the
/// network's failures at info; refusals (4xx) at debug, since the caller reports those itself and
/// some are expected (a lookup answered 404).
fn log_failure(error: &Error) {
    let refused = error
        .status
        .is_some_and(|s| (400..500).contains(&s) && s != 429);
    if refused {
        tracing::debug!(
            status = error.status,
            error_code = error.error_code(),
            okta_request_id = error.request_id(),
            error = %error.message,
            "request refused"
        );
    } else {
        tracing::info!(
            status = error.status,
            kind = observer::kind_label(error.kind),
            okta_request_id = error.request_id(),
            error = %error.message,
            "request failed"
        );
    }
}

/// Parses a 2xx body; a body that does not parse (truncated, another shape) is a `Decode` error.
fn decode<T: DeserializeOwned>(
    method: &Method,
    url: &Url,
    response: &Response,
) -> Result<T, Error> {
    serde_json::from_slice(&response.body).map_err(|e| {
        let why = if e.is_eof() {
            "the response ended early (truncated?)"
        } else {
            "the response is not the JSON this call returns"
        };
        Error {
            status: Some(response.status.as_u16()),
            request_id: request_id(&response.headers),
            ..Error::new(
                ErrorKind::Decode,
                format!("{method} {}: {why}: {e}", url.path()),
            )
        }
    })
}

/// A non-2xx answer as an error: Okta's error body when there is one (tolerating none or non-JSON).
fn api_error(method: &Method, url: &Url, response: &Response, retryable: bool) -> Error {
    let status = response.status;
    let mut body: Option<ErrorBody> = serde_json::from_slice(&response.body).ok();
    // Okta reports DPoP and token errors on resources in `WWW-Authenticate` (FACTS.md §8): keep them
    // where `Error::oauth_error` looks.
    let (error, description) = oauth_error(response);
    if !error.is_empty() {
        let extra = &mut body.get_or_insert_with(ErrorBody::default).extra;
        extra.entry("error").or_insert(Value::from(error));
        extra
            .entry("error_description")
            .or_insert(Value::from(description));
    }
    let kind = if status.as_u16() == 429 {
        ErrorKind::RateLimited
    } else {
        ErrorKind::Api
    };
    let what = match status.as_u16() {
        401 => "the credentials were not accepted",
        403 => "permission denied",
        404 => "not found",
        429 => "rate limited",
        400..=499 => "the request was refused",
        _ => "Okta failed to answer",
    };
    let mut message = format!("{method} {}: {what} (HTTP {status})", url.path());
    if let Some(summary) = body.as_ref().and_then(|b| b.error_summary.as_deref()) {
        message = format!("{message}: {summary}");
    } else if let Some(b) = &body
        && let Some(error) = b.extra.get("error").and_then(Value::as_str)
    {
        let description = b.extra.get("error_description").and_then(Value::as_str);
        message = format!("{message}: {error}: {}", description.unwrap_or(""));
    }
    Error {
        kind,
        status: Some(status.as_u16()),
        body: body.map(Box::new),
        request_id: request_id(&response.headers),
        retryable,
        message,
        location: None,
    }
}

fn redirect_error(method: &Method, url: &Url, response: &Response) -> Error {
    let location = response
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Error {
        status: Some(response.status.as_u16()),
        request_id: request_id(&response.headers),
        location: location.clone(),
        ..Error::new(
            ErrorKind::Redirect,
            format!(
                "{method} {}: Okta redirects (HTTP {}) to {}; redirects are not followed (an -admin domain answers this way: use the org's domain without -admin)",
                url.path(),
                response.status,
                location.as_deref().unwrap_or("nowhere")
            ),
        )
    }
}
