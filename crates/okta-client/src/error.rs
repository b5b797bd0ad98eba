//! The one error type of the client.
//!
//! CONTRACT (filled in by the client-core work): every failure — an Okta error response, a transport
//! failure, a body that does not parse, an exhausted retry budget — is an [`Error`] that says what
//! happened in words a user can act on, and never contains a secret.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Okta's error body: `{"errorCode","errorSummary","errorLink","errorId","errorCauses"}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_causes: Option<Vec<ErrorCause>>,
    /// Anything else Okta sends (OAuth errors use `error` / `error_description`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `errorCauses`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorCause {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_summary: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What kind of failure, for callers that branch on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Okta answered with a non-2xx status (see `status`, `body`).
    Api,
    /// Rate limited (429) and the retry budget or deadline ran out.
    RateLimited,
    /// Could not connect (DNS, refused, reset) or the connection broke.
    Connect,
    /// TLS handshake or certificate failure.
    Tls,
    /// The request or the overall deadline timed out.
    Timeout,
    /// A 3xx: Okta redirects `-admin` domains; the client never follows redirects.
    Redirect,
    /// A 2xx body that is not what the API promises (truncated, wrong shape).
    Decode,
    /// The request could not be built (bad path, bad URL, refused `next` link).
    Invalid,
}

/// The client's error.
#[derive(Clone, Debug)]
pub struct Error {
    pub kind: ErrorKind,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Okta's error body, when the response had one.
    /// Boxed: it is large, and most errors (and every `Ok`) are better off without its size.
    pub body: Option<Box<ErrorBody>>,
    /// `X-Okta-Request-Id` of the response, when one arrived.
    pub request_id: Option<String>,
    /// Whether sending the same request again may succeed.
    pub retryable: bool,
    /// What happened, in words (never a secret).
    pub message: String,
    /// The `Location` of a redirect.
    pub location: Option<String>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            status: None,
            body: None,
            request_id: None,
            retryable: false,
            message: message.into(),
            location: None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        self.status
    }
    pub fn error_code(&self) -> Option<&str> {
        self.body.as_ref()?.error_code.as_deref()
    }
    pub fn error_summary(&self) -> Option<&str> {
        self.body.as_ref()?.error_summary.as_deref()
    }
    /// The `errorSummary` of each `errorCauses` entry.
    pub fn error_causes(&self) -> Vec<&str> {
        self.body
            .iter()
            .flat_map(|b| b.error_causes.iter().flatten())
            .filter_map(|c| c.error_summary.as_deref())
            .collect()
    }
    /// An OAuth error (`error`, `error_description`) from the token endpoint, or from a resource's
    /// `WWW-Authenticate` header (FACTS.md §7–8).
    pub fn oauth_error(&self) -> Option<(&str, Option<&str>)> {
        let extra = &self.body.as_ref()?.extra;
        let error = extra.get("error")?.as_str()?;
        Some((
            error,
            extra.get("error_description").and_then(|d| d.as_str()),
        ))
    }
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(code) = self.error_code() {
            write!(f, " [{code}]")?;
        }
        let causes = self.error_causes();
        if !causes.is_empty() {
            write!(f, " ({})", causes.join("; "))?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
