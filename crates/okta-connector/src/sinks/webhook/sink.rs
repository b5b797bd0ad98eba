//! Delivering a batch to the webhook: the body, its key, the retries.

use std::time::Duration;

use okta_client::ErrorKind;
use okta_client::transport::{HttpTransport, Request, Response, Transport};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::value::RawValue;
use url::Url;

use super::{Retry, WebhookSpec, header_name, redact};
use crate::sinks::{Line, Sink, SinkError, SinkFuture};

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// How much of a refusal's body goes into the error.
const SNIPPET_CHARS: usize = 300;

pub struct WebhookSink {
    url: Url,
    /// The URL as messages show it (no credentials, no query).
    shown: String,
    /// Content-Type, the plain headers and the secret ones (marked sensitive).
    headers: HeaderMap,
    /// The secret headers' values, blanked out of anything the receiver echoes back.
    secrets: Vec<String>,
    timeout: Duration,
    retry: Retry,
    transport: HttpTransport,
}

// By hand: the headers hold secrets.
impl std::fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSink")
            .field("url", &self.shown)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl WebhookSink {
    /// Reads the secret headers from `env` (by their variables' names) and builds the HTTP client
    /// (rustls, redirects never followed).
    pub fn open(
        spec: &WebhookSpec,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<WebhookSink> {
        spec.validate().map_err(anyhow::Error::msg)?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in &spec.headers {
            // Both checked by `validate`.
            headers.append(
                header_name(name).map_err(anyhow::Error::msg)?,
                HeaderValue::from_str(value)?,
            );
        }
        let mut secrets = Vec::new();
        for (name, var) in &spec.secret_headers {
            let value = env(var).map(|v| v.trim().to_string()).unwrap_or_default();
            if value.is_empty() {
                anyhow::bail!(
                    "webhook sink: the environment variable {var} (the value of the {name} header) \
                     is not set"
                );
            }
            let mut header = HeaderValue::from_str(&value).map_err(|_| {
                anyhow::anyhow!(
                    "webhook sink: the environment variable {var} holds a value that cannot be sent \
                     as the {name} header"
                )
            })?;
            header.set_sensitive(true);
            headers.append(header_name(name).map_err(anyhow::Error::msg)?, header);
            secrets.push(value);
        }
        let transport =
            HttpTransport::new().map_err(|e| anyhow::anyhow!("webhook sink: {}", e.message))?;
        Ok(WebhookSink {
            url: spec.url.clone(),
            shown: redact(&spec.url),
            headers,
            secrets,
            timeout: spec.timeout,
            retry: spec.retry.clone(),
            transport,
        })
    }

    /// Why a response is not an acknowledgement, and whether to try again.
    fn refusal(&self, response: &Response) -> Failure {
        let status = response.status;
        if status.is_redirection() {
            let to = response
                .headers
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| self.url.join(l).ok())
                .map(|l| format!(" to {}", redact(&l)))
                .unwrap_or_default();
            return Failure {
                message: format!(
                    "the webhook at {} answered {status} (a redirect{to}); redirects are not \
                     followed: configure the final URL",
                    self.shown
                ),
                retryable: false,
                retry_after: None,
            };
        }
        let retryable = status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error();
        let retry_after = response
            .headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        Failure {
            message: format!(
                "the webhook at {} answered {status}{}",
                self.shown,
                self.snippet(&response.body)
            ),
            retryable,
            retry_after,
        }
    }

    /// The start of a refusal's body, on one line, with any secret the receiver echoed blanked.
    fn snippet(&self, body: &[u8]) -> String {
        let mut text: String = String::from_utf8_lossy(body)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), "[redacted]");
        }
        if text.is_empty() {
            return String::new();
        }
        match text.char_indices().nth(SNIPPET_CHARS) {
            Some((cut, _)) => format!(": {}…", &text[..cut]),
            None => format!(": {text}"),
        }
    }
}

struct Failure {
    message: String,
    retryable: bool,
    retry_after: Option<Duration>,
}

impl Retry {
    /// The wait before attempt `attempt + 1`: exponential with jitter, at least the server's
    /// `Retry-After` (up to `max_retry_after`).
    fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let full = self.backoff.saturating_mul(factor).min(self.max_backoff);
        // Between half and all of it, so many sinks failing at once do not retry in step.
        let fraction = getrandom::u64().unwrap_or(0) as f64 / u64::MAX as f64;
        let jittered = full / 2 + (full / 2).mul_f64(fraction);
        match retry_after {
            Some(asked) => jittered.max(asked.min(self.max_retry_after)),
            None => jittered,
        }
    }
}

/// The batch's key: a SHA-256 of its record ids (each length-prefixed, so no two lists of ids
/// share a key), the first 128 bits in hex. The same records give the same key on any re-delivery.
pub fn batch_id(batch: &[Line]) -> String {
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    for line in batch {
        digest.update(&(line.id.len() as u64).to_be_bytes());
        digest.update(line.id.as_bytes());
    }
    digest.finish().as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `{"batchId","count","records"}` with each envelope embedded as JSON.
fn body(batch: &[Line], batch_id: &str) -> Result<Vec<u8>, SinkError> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body<'a> {
        batch_id: &'a str,
        count: usize,
        records: Vec<&'a RawValue>,
    }
    let records = batch
        .iter()
        .map(|line| {
            serde_json::from_str::<&RawValue>(&line.json).map_err(|_| SinkError {
                message: format!("record {} is not valid JSON", line.id),
                retryable: false,
            })
        })
        .collect::<Result<_, _>>()?;
    let body = Body {
        batch_id,
        count: batch.len(),
        records,
    };
    serde_json::to_vec(&body).map_err(|e| SinkError {
        message: format!("could not encode the batch: {e}"),
        retryable: false,
    })
}

impl Sink for WebhookSink {
    fn recover<'a>(&'a mut self, _committed: Option<&'a str>) -> SinkFuture<'a, Vec<String>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn deliver<'a>(&'a mut self, batch: &'a [Line]) -> SinkFuture<'a, Option<String>> {
        Box::pin(async move {
            let key = batch_id(batch);
            let mut headers = self.headers.clone();
            headers.insert(
                IDEMPOTENCY_KEY,
                HeaderValue::from_str(&key).expect("hex is a header value"),
            );
            let request = Request {
                method: Method::POST,
                url: self.url.clone(),
                headers,
                body: Some(body(batch, &key)?.into()),
                timeout: Some(self.timeout),
            };
            let mut attempt = 0;
            loop {
                attempt += 1;
                let failure = match self.transport.send(request.clone()).await {
                    Ok(response) if response.status.is_success() => return Ok(None),
                    Ok(response) => self.refusal(&response),
                    // The transport's message names the host only.
                    Err(e) => Failure {
                        message: format!("the webhook at {}: {}", self.shown, e.message),
                        retryable: matches!(e.kind, ErrorKind::Connect | ErrorKind::Timeout),
                        retry_after: None,
                    },
                };
                if !failure.retryable || attempt >= self.retry.max_attempts {
                    let tries = if attempt > 1 {
                        format!(" (after {attempt} attempts)")
                    } else {
                        String::new()
                    };
                    return Err(SinkError {
                        message: format!("{}{tries}", failure.message),
                        retryable: failure.retryable,
                    });
                }
                let delay = self.retry.delay(attempt, failure.retry_after);
                tracing::warn!(
                    sink = %self.shown,
                    attempt,
                    delay_ms = delay.as_millis() as u64,
                    "{}; retrying",
                    failure.message
                );
                tokio::time::sleep(delay).await;
            }
        })
    }

    fn describe(&self) -> String {
        format!("webhook {}", self.shown)
    }
}
