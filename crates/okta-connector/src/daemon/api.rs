//! The HTTP API for actions, generated from the action registry (no second definition: a new
//! action is served, described and in the OpenAPI document as soon as it is in
//! [`crate::actions::registry`]).
//!
//! | route | answer |
//! |---|---|
//! | `GET /v1/actions` | every action: `name`, `summary`, `returns` |
//! | `GET /v1/actions/{action}` | one action with its `inputSchema` (JSON Schema 2020-12) |
//! | `GET /v1/connections` | the connection names |
//! | `GET /v1/openapi.json` | the OpenAPI 3.1 document of this API |
//! | `POST /v1/connections/{name}/actions/{action}` | runs the action with the JSON body as its input |
//!
//! Every route needs `Authorization: Bearer <api token>` (401 otherwise; 404 everywhere when the
//! daemon has no token). Bodies are at most [`BODY_LIMIT`] (413).
//!
//! Running an action: the input is validated by the registry before anything is sent (400 with
//! the reason). An empty body is no input (`{}`). One object answers `application/json`. A list
//! is streamed as it is read from Okta, never collected: NDJSON (`application/x-ndjson`, one
//! object per line) by default, or a JSON array when the request's `Accept` asks for
//! `application/json` and not NDJSON. Errors before the first item get their status (below); a
//! failure after items were sent cannot change the 200 any more: NDJSON then ends with one line
//! `{"error": ...}` shaped like the error bodies, and a JSON array is cut off (the response ends
//! without its closing `]`, so a parser fails rather than take a partial list for a whole one).
//!
//! Error bodies are `{"error": CODE, "message": TEXT}`; Okta's failures add `okta`: Okta's own
//! error body (`errorCode`, `errorSummary`, `errorCauses`, ...) with its HTTP `status` and
//! `requestId`, which is also sent as `X-Okta-Request-Id`. Statuses: 400 `invalid_input`; 401
//! `unauthorized`; 404 `not_found` (connection or action); 409 `conflict` (the object's state
//! makes Okta refuse the change; nothing was sent); 413 `body_too_large`; and for `okta`: Okta's
//! 4xx as is (400, 403, 404, 409, ...), except 401 (the connection's credentials were refused:
//! not the caller's fault) which is 502 like Okta's 5xx, unreachable or unreadable answers; 429
//! when the rate-limit retries ran out; 504 on a timeout.

mod auth;
pub mod openapi;

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};

use super::DaemonState;
use crate::actions::{self, ActionDef, ActionError, ActionOutput};
pub use auth::{Authorized, constant_time_eq};

/// The largest request body accepted (413 beyond): action inputs are small objects.
pub const BODY_LIMIT: usize = 1024 * 1024;

pub const NDJSON: &str = "application/x-ndjson";

pub fn routes() -> axum::Router<Arc<DaemonState>> {
    axum::Router::new()
        .route("/v1/actions", get(list_actions))
        .route("/v1/actions/{action}", get(describe_action))
        .route("/v1/connections", get(list_connections))
        .route("/v1/openapi.json", get(openapi_document))
        .route("/v1/connections/{name}/actions/{action}", post(run_action))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

async fn list_actions(_: Authorized) -> Response {
    let actions: Vec<Value> = actions::registry()
        .iter()
        .map(|a| json!({"name": a.name, "summary": a.summary, "returns": returns(a)}))
        .collect();
    axum::Json(actions).into_response()
}

async fn describe_action(_: Authorized, Path(name): Path<String>) -> Response {
    match find_action(&name) {
        Ok(a) => axum::Json(json!({
            "name": a.name,
            "summary": a.summary,
            "returns": returns(a),
            "inputSchema": a.input_schema(),
        }))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn list_connections(_: Authorized, State(state): State<Arc<DaemonState>>) -> Response {
    axum::Json(state.clients.keys().collect::<Vec<_>>()).into_response()
}

async fn openapi_document(_: Authorized) -> Response {
    axum::Json(openapi::document()).into_response()
}

/// What `returns` says of an action, as `actions list` shows it.
pub fn returns(action: &ActionDef) -> String {
    if action.output.list {
        format!("stream of {}", action.output.item)
    } else {
        action.output.item.to_string()
    }
}

fn find_action(name: &str) -> Result<&'static ActionDef, ApiError> {
    actions::find(name).ok_or_else(|| {
        ApiError::not_found(&format!(
            "no action named '{name}' (GET /v1/actions lists them)"
        ))
    })
}

async fn run_action(
    _: Authorized,
    State(state): State<Arc<DaemonState>>,
    Path((connection, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let action = match find_action(&name) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let Some(client) = state.clients.get(&connection) else {
        return ApiError::not_found(&format!(
            "no connection named '{connection}' (GET /v1/connections lists them)"
        ))
        .into_response();
    };
    let input = match parse_body(body) {
        Ok(input) => input,
        Err(e) => return e.into_response(),
    };
    // Refused here, nothing sent: the registry's schema and rules.
    if let Err(e) = action.validate(input.clone()) {
        return ApiError::from_action(&e).into_response();
    }
    let started = Instant::now();
    let outcome = action.run(client.clone(), input).await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match outcome {
        Ok(ActionOutput::One(value)) => {
            tracing::info!(
                connection,
                action = name,
                status = 200,
                elapsed_ms,
                "action"
            );
            axum::Json(value).into_response()
        }
        Ok(ActionOutput::Stream(items)) => {
            stream_response(items, wants_array(&headers), &connection, &name, elapsed_ms).await
        }
        Err(e) => {
            let error = ApiError::from_action(&e);
            let okta_request_id = match &e {
                ActionError::Okta(e) => e.request_id(),
                _ => None,
            };
            tracing::info!(
                connection,
                action = name,
                status = error.status.as_u16(),
                elapsed_ms,
                okta_request_id,
                error = %e,
                "action failed"
            );
            error.into_response()
        }
    }
}

/// The JSON input; an empty body is no input.
fn parse_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                "body_too_large",
                &format!("the body is larger than {BODY_LIMIT} bytes"),
            )
        } else {
            ApiError::new(status, "invalid_input", &rejection.body_text())
        }
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            &format!("the body is not JSON: {e}"),
        )
    })
}

/// A JSON array only when asked for by name and NDJSON is not also acceptable.
fn wants_array(headers: &HeaderMap) -> bool {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let types: Vec<&str> = accept
        .split(',')
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .collect();
    types.contains(&"application/json") && !types.contains(&NDJSON)
}

type Items = std::pin::Pin<Box<dyn Stream<Item = Result<Value, okta_client::Error>> + Send>>;

/// Streams a list. The first item is awaited before answering, so an error there (a missing
/// group, a refused filter) still gets its own status.
async fn stream_response(
    mut items: Items,
    array: bool,
    connection: &str,
    action: &str,
    elapsed_ms: u64,
) -> Response {
    let first = match items.next().await {
        Some(Err(e)) => {
            let error = ApiError::from_okta(&e);
            tracing::info!(
                connection,
                action,
                status = error.status.as_u16(),
                okta_request_id = e.request_id(),
                error = %e,
                "action failed"
            );
            return error.into_response();
        }
        first => first,
    };
    tracing::info!(
        connection,
        action,
        status = 200,
        elapsed_ms,
        "action (streaming)"
    );
    // A stream that ended must not be polled again (Okta's page streams panic).
    let rest: Items = match first {
        Some(_) => items,
        None => Box::pin(futures_util::stream::empty()),
    };
    let items = futures_util::stream::iter(first).chain(rest);
    let (connection, action) = (connection.to_string(), action.to_string());
    // Items of one page arrive together: each chunk written carries all those ready.
    let chunks = items.ready_chunks(256);
    let state = Encoder {
        array,
        sent: 0,
        done: false,
    };
    let body = futures_util::stream::unfold((chunks, state), move |(mut chunks, mut enc)| {
        let (connection, action) = (connection.clone(), action.clone());
        async move {
            if enc.done {
                return None;
            }
            let out = match chunks.next().await {
                Some(batch) => enc.batch(batch, &connection, &action),
                None => {
                    enc.done = true;
                    Ok(Bytes::from_static(if !enc.array {
                        b""
                    } else if enc.sent == 0 {
                        b"[]"
                    } else {
                        b"]"
                    }))
                }
            };
            Some((out, (chunks, enc)))
        }
    });
    let content_type = if array { "application/json" } else { NDJSON };
    (
        [(header::CONTENT_TYPE, content_type)],
        Body::from_stream(body),
    )
        .into_response()
}

/// Writes a list as NDJSON or a JSON array, batch by batch.
struct Encoder {
    array: bool,
    sent: u64,
    done: bool,
}

impl Encoder {
    fn batch(
        &mut self,
        batch: Vec<Result<Value, okta_client::Error>>,
        connection: &str,
        action: &str,
    ) -> Result<Bytes, std::io::Error> {
        let mut out = Vec::with_capacity(batch.len() * 512);
        for item in batch {
            match item {
                Ok(value) => {
                    if self.array {
                        out.push(if self.sent == 0 { b'[' } else { b',' });
                    }
                    // A Value always serializes.
                    let _ = serde_json::to_writer(&mut out, &value);
                    if !self.array {
                        out.push(b'\n');
                    }
                    self.sent += 1;
                }
                Err(e) => {
                    self.done = true;
                    tracing::warn!(
                        connection,
                        action,
                        after_items = self.sent,
                        okta_request_id = e.request_id(),
                        error = %e,
                        "the list broke off"
                    );
                    if self.array {
                        // Cut off: no closing bracket, so the client cannot mistake it for the whole list.
                        return Err(std::io::Error::other(format!("the list broke off: {e}")));
                    }
                    let _ = serde_json::to_writer(&mut out, &ApiError::from_okta(&e).body);
                    out.push(b'\n');
                    return Ok(out.into());
                }
            }
        }
        Ok(out.into())
    }
}

/// An error answer: a status and a JSON body `{"error", "message", "okta"?}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
    request_id: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: &str) -> Self {
        ApiError {
            status,
            body: json!({"error": code, "message": message}),
            request_id: None,
        }
    }

    pub fn not_found(message: &str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    fn from_action(e: &ActionError) -> Self {
        match e {
            ActionError::Input(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", &e.to_string())
            }
            ActionError::State(_) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", &e.to_string())
            }
            ActionError::Okta(e) => ApiError::from_okta(e),
        }
    }

    fn from_okta(e: &okta_client::Error) -> Self {
        use okta_client::ErrorKind;
        let status = match e.kind {
            ErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
            ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Api => match e.status {
                Some(401 | 407) => StatusCode::BAD_GATEWAY,
                Some(s @ 400..=499) => StatusCode::from_u16(s).unwrap_or(StatusCode::BAD_REQUEST),
                _ => StatusCode::BAD_GATEWAY,
            },
            _ => StatusCode::BAD_GATEWAY,
        };
        let mut okta = match e.body.as_deref().map(serde_json::to_value) {
            Some(Ok(Value::Object(map))) => map,
            _ => serde_json::Map::new(),
        };
        if let Some(s) = e.status {
            okta.insert("status".into(), s.into());
        }
        if let Some(id) = e.request_id() {
            okta.insert("requestId".into(), id.into());
        }
        let mut body = json!({"error": "okta", "message": e.to_string()});
        if !okta.is_empty() {
            body["okta"] = Value::Object(okta);
        }
        ApiError {
            status,
            body,
            request_id: e.request_id.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(id) = self
            .request_id
            .as_deref()
            .and_then(|id| HeaderValue::from_str(id).ok())
        {
            response.headers_mut().insert("x-okta-request-id", id);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_picks_a_json_array_only_when_asked() {
        let h = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, v.parse().unwrap());
            h
        };
        assert!(!wants_array(&HeaderMap::new()));
        assert!(!wants_array(&h("*/*")));
        assert!(!wants_array(&h(NDJSON)));
        assert!(wants_array(&h("application/json")));
        assert!(wants_array(&h(
            "application/json; charset=utf-8, text/plain;q=0.5"
        )));
        assert!(!wants_array(&h("application/json, application/x-ndjson")));
    }

    #[test]
    fn okta_statuses_map_to_the_callers_view() {
        use okta_client::{Error, ErrorKind};
        let api = |s: u16| Error {
            status: Some(s),
            request_id: Some("rid".into()),
            ..Error::new(ErrorKind::Api, "x")
        };
        assert_eq!(ApiError::from_okta(&api(404)).status, StatusCode::NOT_FOUND);
        assert_eq!(ApiError::from_okta(&api(403)).status, StatusCode::FORBIDDEN);
        assert_eq!(
            ApiError::from_okta(&api(400)).status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            ApiError::from_okta(&api(401)).status,
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            ApiError::from_okta(&api(500)).status,
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            ApiError::from_okta(&Error::new(ErrorKind::Timeout, "t")).status,
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(
            ApiError::from_okta(&Error::new(ErrorKind::RateLimited, "t")).status,
            StatusCode::TOO_MANY_REQUESTS
        );
        let body = ApiError::from_okta(&api(404)).body;
        assert_eq!(body["okta"]["status"], 404);
        assert_eq!(body["okta"]["requestId"], "rid");
    }
}
