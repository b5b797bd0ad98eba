//! `custom_api_call`: any method on any path under `/api/v1`, with the client's auth, pacing,
//! retries and pagination.
//!
//! The path is checked before anything is sent: the token must only ever go to the org's API, so
//! absolute URLs, `.`/`..` segments (also percent-encoded) and paths outside `/api/v1` are refused.

use percent_encoding::percent_decode_str;
use reqwest::Method;
use serde_json::Value;

use crate::api::failed;
use crate::client::{Client, Query};
use crate::error::{Error, ErrorKind};
use crate::page::Pages;

/// One call built with [`Client::custom`]: add `query` / `body`, then `send` or, for a GET list,
/// `stream`.
#[derive(Clone)]
pub struct CustomCall<'c> {
    client: &'c Client,
    method: Method,
    path: String,
    query: Query,
    body: Option<Value>,
}

impl<'c> CustomCall<'c> {
    pub(crate) fn new(client: &'c Client, method: Method, path: &str) -> Self {
        CustomCall {
            client,
            method,
            path: path.to_string(),
            query: Query::new(),
            body: None,
        }
    }

    /// Appends one query parameter.
    pub fn param(mut self, key: &str, value: impl ToString) -> Self {
        self.query = self.query.push(key, value);
        self
    }
    /// Appends query parameters.
    pub fn query(mut self, query: Query) -> Self {
        self.query.0.extend(query.0);
        self
    }
    /// The JSON request body.
    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Sends the call and returns the JSON answer (`Value::Null` for an empty body, e.g. a 204).
    /// A GET of a list returns its first page only: use [`CustomCall::stream`] to follow `next`.
    pub async fn send(self) -> Result<Value, Error> {
        validate_api_path(&self.path)?;
        let response = self
            .client
            .send(self.method, &self.path, &self.query, self.body.as_ref())
            .await?;
        if response.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&response.body).map_err(|e| {
            let mut error = Error::new(ErrorKind::Decode, format!("the answer is not JSON: {e}"));
            error.status = Some(response.status.as_u16());
            error
        })
    }

    /// Every item of a GET list, following `next` links one page at a time. Only GET lists
    /// paginate; anything else is refused.
    pub fn stream(self) -> Pages<Value> {
        if self.method != Method::GET {
            return failed(Error::new(
                ErrorKind::Invalid,
                format!("only GET lists can be streamed, not {}", self.method),
            ));
        }
        if self.body.is_some() {
            return failed(Error::new(ErrorKind::Invalid, "a GET list takes no body"));
        }
        match validate_api_path(&self.path) {
            Ok(()) => self.client.paginate(&self.path, self.query),
            Err(error) => failed(error),
        }
    }
}

/// Checks that `path` is a plain path under `/api/v1` (e.g. `/api/v1/users/00u1/factors`).
/// Refused, with an error of kind [`ErrorKind::Invalid`]: absolute or scheme-relative URLs,
/// `.`/`..` segments (also percent-encoded), a query or fragment in the path (pass the query
/// separately), backslashes, and anything outside `/api/v1`.
pub fn validate_api_path(path: &str) -> Result<(), Error> {
    let refuse = |why: &str| {
        Err(Error::new(
            ErrorKind::Invalid,
            format!("refused path {path:?}: {why}; give a path under /api/v1, like /api/v1/users"),
        ))
    };
    if path.contains("://") || path.starts_with("//") {
        return refuse("absolute URLs are not allowed (the token only goes to the org's API)");
    }
    if path.contains(['?', '#']) {
        return refuse("put query parameters in `query`, not in the path");
    }
    if path.contains('\\') || path.chars().any(char::is_control) {
        return refuse("backslashes and control characters are not allowed");
    }
    let mut segments = path.split('/');
    if segments.next() != Some("") {
        return refuse("the path must start with /");
    }
    for segment in segments.clone() {
        // Decoded too: servers and proxies resolve `%2e%2e` and `..%2f` like `..`.
        let decoded = percent_decode_str(segment).decode_utf8_lossy();
        if decoded
            .split(['/', '\\'])
            .any(|part| part == "." || part == "..")
        {
            return refuse("`.` and `..` segments are not allowed");
        }
    }
    let mut segments = segments.filter(|s| !s.is_empty());
    if segments.next() != Some("api") || segments.next() != Some("v1") || path.contains("//") {
        return refuse("only paths under /api/v1 are allowed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate_api_path;
    use crate::ErrorKind;

    #[test]
    fn paths_under_the_api_pass() {
        for ok in [
            "/api/v1/users",
            "/api/v1/users/00u1/factors",
            "/api/v1",
            "/api/v1/users/a%40b.c",
        ] {
            validate_api_path(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn everything_else_is_refused_as_invalid() {
        for bad in [
            "https://evil.example.com/api/v1/users",
            "//evil.example.com/api/v1/users",
            "/api/v1/../../oauth2/v1/token",
            "/api/v1/users/%2e%2E/apps",
            "/api/v1/./users",
            "/api/v1/users/..%2Fapps",
            "/oauth2/v1/token",
            "/api/v2/users",
            "/apix/v1",
            "api/v1/users",
            "/api/v1//users",
            "/api/v1/users?limit=1",
            "/api/v1\\users",
            "",
        ] {
            let error = validate_api_path(bad).expect_err(bad);
            assert_eq!(error.kind, ErrorKind::Invalid, "{bad}");
            assert!(error.message.contains("/api/v1"), "{}", error.message);
        }
    }
}
