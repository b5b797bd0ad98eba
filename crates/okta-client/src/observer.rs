//! Hooks into the request pipeline, for metrics: what each attempt came back with, time spent
//! waiting on rate limits, and each retry.
//!
//! Set one with [`crate::ClientConfig::observer`]. It is called inline from [`crate::Client`]'s
//! pipeline, so an implementation must be quick and must not block (update counters, nothing
//! more). With no observer the pipeline only checks an `Option`.
//!
//! Buckets are the governor's keys ([`crate::governor::bucket_key`]): the method and the path with
//! ids replaced (`GET /api/v1/users/{id}`), so label cardinality stays small.

use std::time::Duration;

use reqwest::Method;

use crate::error::ErrorKind;
use crate::retry::{Outcome, RateLimitHeaders};

/// Receives the client's request events. Every method has an empty default, so an observer
/// implements only what it needs.
pub trait Observer: Send + Sync {
    /// One attempt was answered, or failed without an answer.
    fn attempt(&self, attempt: &Attempt<'_>) {
        let _ = attempt;
    }
    /// The client waited `duration` before sending on `bucket`, because of rate limits.
    fn waited(&self, bucket: &str, reason: WaitReason, duration: Duration) {
        let _ = (bucket, reason, duration);
    }
    /// A failed attempt is about to be repeated (after [`Retry::after`]).
    fn retry(&self, retry: &Retry<'_>) {
        let _ = retry;
    }
}

/// One attempt of a request.
#[derive(Clone, Copy, Debug)]
pub struct Attempt<'a> {
    pub method: &'a Method,
    /// The rate-limit bucket key (method and path shape).
    pub bucket: &'a str,
    /// 1 for the first attempt of a request.
    pub number: u32,
    pub outcome: AttemptOutcome,
    /// From sending to the answer's headers (on the client's clock).
    pub duration: Duration,
    /// `X-Rate-Limit-Limit`, `-Remaining`, `-Reset` (epoch s), when the answer had them. A
    /// concurrency 429 reports limit and remaining as 0.
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub reset: Option<i64>,
    /// `X-Okta-Request-Id` of the answer.
    pub request_id: Option<&'a str>,
}

/// What an attempt came back with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// An HTTP answer with this status (any status: 2xx, 3xx, 4xx, 5xx).
    Status(u16),
    /// No answer: the connection, TLS or a timeout failed.
    Failed(ErrorKind),
}

impl AttemptOutcome {
    /// A short label: the status number, or `connect`, `tls`, `timeout`, ...
    pub fn label(&self) -> String {
        match self {
            AttemptOutcome::Status(s) => s.to_string(),
            AttemptOutcome::Failed(kind) => kind_label(*kind).to_string(),
        }
    }
}

/// Why the client waited before sending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitReason {
    /// The governor spread the allowance over the window.
    Pacing,
    /// The client's share of the window was used up: waited for the reset.
    ShareUsed,
    /// Okta answered 429: waited for the reset (or a backoff, for a concurrency 429).
    RateLimited,
}

impl WaitReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            WaitReason::Pacing => "pacing",
            WaitReason::ShareUsed => "share_used",
            WaitReason::RateLimited => "rate_limited",
        }
    }
}

/// A retry about to happen.
#[derive(Clone, Copy, Debug)]
pub struct Retry<'a> {
    pub method: &'a Method,
    pub bucket: &'a str,
    /// The attempt that failed (1 = the first).
    pub attempt: u32,
    pub reason: RetryReason,
    /// The wait before the next attempt.
    pub after: Duration,
    /// `X-Okta-Request-Id` of the answer being retried (none when there was no answer).
    pub request_id: Option<&'a str>,
}

/// Why an attempt is repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryReason {
    /// A rate-limit 429.
    RateLimited,
    /// A concurrency 429 (`Limit` = `Remaining` = 0).
    ConcurrencyLimited,
    /// A 5xx with this status.
    ServerError(u16),
    /// The connection failed or broke.
    Connection,
    /// The attempt timed out.
    Timeout,
    /// Credentials renewed (an expired token) or a DPoP nonce supplied: repeated at once.
    Auth,
}

impl RetryReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            RetryReason::RateLimited => "rate_limited",
            RetryReason::ConcurrencyLimited => "concurrency_limited",
            RetryReason::ServerError(_) => "server_error",
            RetryReason::Connection => "connection",
            RetryReason::Timeout => "timeout",
            RetryReason::Auth => "auth",
        }
    }

    /// Why the retry policy retried `outcome`.
    pub(crate) fn of(outcome: &Outcome<'_>) -> Self {
        match *outcome {
            Outcome::Status {
                status: 429,
                headers,
            } if RateLimitHeaders::parse(headers).is_concurrency() => {
                RetryReason::ConcurrencyLimited
            }
            Outcome::Status { status: 429, .. } => RetryReason::RateLimited,
            Outcome::Status { status, .. } => RetryReason::ServerError(status),
            Outcome::Transport {
                kind: ErrorKind::Timeout,
                ..
            } => RetryReason::Timeout,
            Outcome::Transport { .. } => RetryReason::Connection,
        }
    }

    /// Whether the wait before the retry is time spent throttled.
    pub(crate) fn is_throttled(&self) -> bool {
        matches!(
            self,
            RetryReason::RateLimited | RetryReason::ConcurrencyLimited
        )
    }
}

/// A short name for an error kind, for labels and logs.
pub fn kind_label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Api => "api",
        ErrorKind::RateLimited => "rate_limited",
        ErrorKind::Connect => "connect",
        ErrorKind::Tls => "tls",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Redirect => "redirect",
        ErrorKind::Decode => "decode",
        ErrorKind::Invalid => "invalid",
    }
}
