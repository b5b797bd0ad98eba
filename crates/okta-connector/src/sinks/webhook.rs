//! The webhook sink: JSON batches POSTed to a URL.
//!
//! Each batch is one `POST` of `{"batchId": ID, "count": N, "records": [ENVELOPE...]}` (the envelopes
//! embedded as JSON) with `Content-Type: application/json` and `Idempotency-Key: ID`, where ID is a
//! hash of the batch's record ids: a batch delivered again (after a crash, or a retry) carries the
//! same key, so the receiver can drop the repeat. Only a 2xx acknowledges. Connection failures,
//! timeouts, 408, 429 and 5xx are retried inside one delivery with exponential backoff and jitter
//! (a 429's or 503's `Retry-After` in seconds is honoured, up to `max_retry_after`); after the last
//! attempt the batch is refused as retryable. Any other status is refused at once. Redirects are
//! not followed.
//!
//! Secrets: a header such as `Authorization` is named under `secret_headers` with the environment
//! variable that holds its value; its value never appears in a configuration, on a command line,
//! in Debug output, [`describe`](super::Sink::describe) or an error. Nor does the URL's
//! query (credentials in the URL are refused). Secret headers are sent only over https (or to a
//! loopback address).

mod sink;

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use url::Url;

use crate::triggers::time_spec::Span;

pub use sink::{WebhookSink, batch_id};

/// `webhook:URL` (http or https, no credentials); in YAML the same string, `{webhook: URL}`, or a map:
///
/// ```yaml
/// webhook:
///   url: https://hooks.example.com/okta        # http(s) only
///   headers: {X-Source: okta-connector}         # plain headers, never secrets
///   secret_headers: {Authorization: HOOK_AUTH}  # header: environment variable with its value
///   timeout: 30s                                # per request
///   max_attempts: 5                             # per batch, the first included
///   backoff: 1s                                 # first retry delay, doubled each time
///   max_backoff: 30s
///   max_retry_after: 60s                        # longest Retry-After honoured
/// ```
#[derive(Clone, PartialEq)]
pub struct WebhookSpec {
    pub url: Url,
    /// Sent with every request as they are; a name that looks like a secret is refused here.
    pub headers: Vec<(String, String)>,
    /// (header name, environment variable holding its value), read when the sink is opened.
    pub secret_headers: Vec<(String, String)>,
    /// For one request, answer included.
    pub timeout: Duration,
    pub retry: Retry,
}

/// How one delivery retries.
#[derive(Clone, Debug, PartialEq)]
pub struct Retry {
    /// Requests per delivery, the first included (at least 1).
    pub max_attempts: u32,
    /// The delay before the first retry; doubled for each next one, up to `max_backoff`; each
    /// delay is drawn between its half and its whole (jitter).
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured (a longer one is waited this long).
    pub max_retry_after: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            max_attempts: 5,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

// By hand: the URL may carry credentials or a token in its query.
impl std::fmt::Debug for WebhookSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = |headers: &[(String, String)]| -> Vec<String> {
            headers.iter().map(|(name, _)| name.clone()).collect()
        };
        f.debug_struct("WebhookSpec")
            .field("url", &redact(&self.url))
            .field("headers", &names(&self.headers))
            .field("secret_headers", &self.secret_headers)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

impl WebhookSpec {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

    /// The URL with no headers and the default timeout and retries.
    pub fn new(url: Url) -> Result<WebhookSpec, String> {
        let spec = WebhookSpec {
            url,
            headers: Vec::new(),
            secret_headers: Vec::new(),
            timeout: Self::DEFAULT_TIMEOUT,
            retry: Retry::default(),
        };
        spec.validate()?;
        Ok(spec)
    }

    pub fn parse(text: &str) -> Result<WebhookSpec, String> {
        // url's messages never quote the input, which may hold credentials.
        let url = Url::parse(text.trim())
            .map_err(|e| format!("the webhook URL is not a valid URL: {e}"))?;
        WebhookSpec::new(url)
    }

    /// Everything [`WebhookSink::open`] needs to hold, checked (the fields are public, so it
    /// checks again).
    pub fn validate(&self) -> Result<(), String> {
        let shown = redact(&self.url);
        if !matches!(self.url.scheme(), "http" | "https") {
            return Err(format!(
                "the webhook URL {shown} is not http or https: write e.g. \
                 webhook:https://hooks.example.com/okta"
            ));
        }
        if !self.url.username().is_empty() || self.url.password().is_some() {
            return Err(format!(
                "the webhook URL {shown} carries credentials: put them in an environment variable \
                 and name it under secret_headers (e.g. Authorization: HOOK_AUTH holding \
                 \"Basic ...\")"
            ));
        }
        if self.url.host_str().is_none_or(str::is_empty) {
            return Err(format!("the webhook URL {shown} has no host"));
        }
        for (name, value) in &self.headers {
            header_name(name)?;
            if looks_secret(name) {
                return Err(format!(
                    "the webhook header {name} looks like a secret: list it under secret_headers \
                     with the name of an environment variable that holds its value \
                     (secret_headers: {{{name}: MY_ENV_VAR}})"
                ));
            }
            if HeaderValue::from_str(value).is_err() {
                return Err(format!(
                    "the webhook header {name} has a value that cannot be sent in HTTP"
                ));
            }
        }
        for (name, var) in &self.secret_headers {
            header_name(name)?;
            let valid_var = var
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_var {
                return Err(format!(
                    "secret_headers {name}: '{var}' is not an environment variable name; give the \
                     name of the variable that holds the value, never the value itself"
                ));
            }
        }
        if !self.secret_headers.is_empty() && self.url.scheme() == "http" && !is_loopback(&self.url)
        {
            return Err(format!(
                "the webhook URL {shown} is plain http: secret headers are sent only over https \
                 (or to a loopback address)"
            ));
        }
        if self.retry.max_attempts == 0 {
            return Err("the webhook's max_attempts must be at least 1".into());
        }
        if self.timeout.is_zero() {
            return Err("the webhook timeout must be more than 0s".into());
        }
        Ok(())
    }
}

/// The URL without credentials, query or fragment, for messages and logs.
pub fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    let query = shown.query().is_some();
    shown.set_query(None);
    shown.set_fragment(None);
    let mut text = shown.to_string();
    if query {
        text.push_str("?…");
    }
    text
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Headers the sink sets itself.
const RESERVED: &[&str] = &[
    "content-type",
    "content-length",
    "host",
    "idempotency-key",
    "transfer-encoding",
    "connection",
];

fn header_name(name: &str) -> Result<HeaderName, String> {
    let parsed = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("'{name}' is not a valid HTTP header name"))?;
    if RESERVED.contains(&parsed.as_str()) {
        return Err(format!(
            "the webhook sink sets the {name} header itself: remove it from the configuration"
        ));
    }
    Ok(parsed)
}

/// A header whose value is likely a credential: such values belong in the environment.
fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie"
    ) || [
        "token",
        "secret",
        "password",
        "api-key",
        "apikey",
        "signature",
    ]
    .iter()
    .any(|word| name.contains(word))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookMap {
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    secret_headers: BTreeMap<String, String>,
    timeout: Option<Span>,
    max_attempts: Option<u32>,
    backoff: Option<Span>,
    max_backoff: Option<Span>,
    max_retry_after: Option<Span>,
}

impl WebhookMap {
    fn into_spec(self) -> Result<WebhookSpec, String> {
        let url = Url::parse(self.url.trim())
            .map_err(|e| format!("the webhook URL is not a valid URL: {e}"))?;
        let defaults = Retry::default();
        let spec = WebhookSpec {
            url,
            headers: self.headers.into_iter().collect(),
            secret_headers: self.secret_headers.into_iter().collect(),
            timeout: self.timeout.map_or(WebhookSpec::DEFAULT_TIMEOUT, |s| s.0),
            retry: Retry {
                max_attempts: self.max_attempts.unwrap_or(defaults.max_attempts),
                backoff: self.backoff.map_or(defaults.backoff, |s| s.0),
                max_backoff: self.max_backoff.map_or(defaults.max_backoff, |s| s.0),
                max_retry_after: self
                    .max_retry_after
                    .map_or(defaults.max_retry_after, |s| s.0),
            },
        };
        spec.validate()?;
        Ok(spec)
    }
}

impl<'de> Deserialize<'de> for WebhookSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<WebhookSpec, D::Error> {
        struct SpecVisitor;
        impl<'de> Visitor<'de> for SpecVisitor {
            type Value = WebhookSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a webhook URL or a map {url: URL, secret_headers: {...}, ...}")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<WebhookSpec, E> {
                WebhookSpec::parse(text).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<WebhookSpec, A::Error> {
                WebhookMap::deserialize(de::value::MapAccessDeserializer::new(map))?
                    .into_spec()
                    .map_err(de::Error::custom)
            }
        }
        d.deserialize_any(SpecVisitor)
    }
}
