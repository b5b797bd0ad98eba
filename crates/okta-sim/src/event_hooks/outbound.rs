//! The calls Okta makes to a hook's endpoint: the one-time verification GET and delivery POSTs, each
//! with the configured auth header and custom headers, a timeout, and at most one retry.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use serde_json::Value;

use super::model::EventHook;

/// The `User-Agent` of Okta's hook calls (Okta support article "Unable to verify event hook",
/// which shows the verification request).
const AGENT: &str = "Okta-Integrations";

/// Where and with which headers one hook is called, ready to send. Its `Debug` hides the headers,
/// which carry the secret.
pub struct Outbound {
    pub url: reqwest::Url,
    /// Custom headers, then the auth header (marked sensitive).
    pub headers: HeaderMap,
    /// The subscribed event types.
    pub types: std::collections::HashSet<String>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("url", &self.url.as_str())
            .field("headers", &self.headers.len())
            .field("types", &self.types.len())
            .finish()
    }
}

impl Outbound {
    /// `None` only if the stored hook no longer parses (validated on the way in, so never).
    pub fn of(h: &EventHook) -> Option<Outbound> {
        let url = reqwest::Url::parse(&h.target.uri).ok()?;
        let mut headers = HeaderMap::new();
        for (k, v) in &h.target.headers {
            headers.append(
                HeaderName::from_bytes(k.as_bytes()).ok()?,
                HeaderValue::from_str(v).ok()?,
            );
        }
        if let Some(a) = &h.target.auth
            && let Some(secret) = &a.value
        {
            let mut value = HeaderValue::from_str(secret).ok()?;
            value.set_sensitive(true);
            headers.insert(HeaderName::from_bytes(a.key.as_bytes()).ok()?, value);
        }
        Some(Outbound {
            url,
            headers,
            types: h.events.iter().cloned().collect(),
        })
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// An HTTP answer (any status), with its body when it was read.
    Answered(u16, Option<Vec<u8>>),
    TimedOut,
    /// No answer: refused, reset, DNS, TLS...
    Failed(String),
}

impl Attempt {
    /// Okta retries once "on 5xx or timeout" (FACTS.md §6), and a call that got no answer at all.
    /// 4xx (and anything else) is final.
    pub fn retryable(&self) -> bool {
        match self {
            Attempt::Answered(s, _) => *s >= 500,
            Attempt::TimedOut | Attempt::Failed(_) => true,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Attempt::Answered(s, _) => Some(*s),
            _ => None,
        }
    }

    /// A short reason for the System Log and the deliveries counters (never a header or secret).
    pub fn describe(&self) -> String {
        match self {
            Attempt::Answered(s, _) => format!("HTTP {s}"),
            Attempt::TimedOut => "timeout".into(),
            Attempt::Failed(why) => format!("connection failed: {why}"),
        }
    }
}

/// rustls with the ring provider (no aws-lc, no cmake) and the platform's trust store: the
/// simulator's own setup, independent of the client's.
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(30));
        let tls = rustls_platform_verifier::Verifier::new(provider.clone())
            .ok()
            .and_then(|verifier| {
                rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .ok()
                    .map(|b| {
                        b.dangerous()
                            .with_custom_certificate_verifier(Arc::new(verifier))
                            .with_no_client_auth()
                    })
            });
        let builder = match tls {
            Some(config) => builder.tls_backend_preconfigured(config),
            None => builder,
        };
        builder.build().unwrap_or_else(|_| reqwest::Client::new())
    })
}

fn why(e: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut text = if e.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    // The innermost cause names what went wrong (refused, reset, certificate...).
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    text
}

/// One call. `read_body`: keep the answer's body (verification reads it); deliveries discard it.
async fn attempt(req: reqwest::RequestBuilder, timeout: Duration, read_body: bool) -> Attempt {
    let call = async {
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        // Read to the end either way, so the connection goes back to the pool.
        let body = resp.bytes().await?;
        Ok::<_, reqwest::Error>(Attempt::Answered(status, read_body.then(|| body.to_vec())))
    };
    match tokio::time::timeout(timeout, call).await {
        Err(_) => Attempt::TimedOut,
        Ok(Ok(a)) => a,
        Ok(Err(e)) if e.is_timeout() => Attempt::TimedOut,
        Ok(Err(e)) => Attempt::Failed(why(&e)),
    }
}

fn request_id() -> String {
    crate::rng::Rng::from_os().alphanumeric(27)
}

/// A delivery POST of `body` (the same bytes for a retry or a duplicate). Returns the final
/// attempt and whether it was retried.
pub async fn deliver(
    target: &Outbound,
    body: axum::body::Bytes,
    timeout: Duration,
) -> (Attempt, bool) {
    let send = || {
        client()
            .post(target.url.clone())
            .headers(target.headers.clone())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, AGENT)
            .header("x-okta-request-id", request_id())
            .body(body.clone())
    };
    let first = attempt(send(), timeout, false).await;
    if !first.retryable() {
        return (first, false);
    }
    (attempt(send(), timeout, false).await, true)
}

/// The one-time verification (FACTS.md §6): a GET with `x-okta-verification-challenge`, answered
/// 200 with `{"verification": <the same value>}`. "One retry is attempted after a timeout or error
/// response" (spec, `verifyEventHook`). `Err` carries the reason for the System Log.
pub async fn verify(target: &Outbound, timeout: Duration) -> Result<(), String> {
    let challenge = crate::oauth::random_token(30);
    let send = || {
        client()
            .get(target.url.clone())
            .headers(target.headers.clone())
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, AGENT)
            .header("x-okta-request-id", request_id())
            .header("x-okta-verification-challenge", &challenge)
    };
    let mut outcome = attempt(send(), timeout, true).await;
    if outcome.retryable() || outcome.status().is_some_and(|s| s != 200) {
        outcome = attempt(send(), timeout, true).await;
    }
    match outcome {
        Attempt::Answered(200, Some(body)) => {
            let echoed = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
                v.get("verification")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
            if echoed.as_deref() == Some(challenge.as_str()) {
                Ok(())
            } else {
                Err("the answer did not echo the verification challenge".into())
            }
        }
        other => Err(other.describe()),
    }
}
