//! Event Hook endpoints: `/hooks/{instance}` for each `new_events_realtime` instance.
//!
//! * `GET` is Okta's one-time verification: with the right secret, the
//!   `x-okta-verification-challenge` header comes back as `{"verification": "..."}`.
//! * `POST` is a delivery: the secret is checked (in constant time), the body is limited in size and
//!   must be Okta's envelope with `data.events[]`, each event with a `uuid`; the events are committed
//!   to the instance's inbox (durable) and only then is Okta answered 200 with an empty body — well
//!   within its 3-second timeout. Delivering to the sink happens after, in the trigger's runner.
//!
//! Refusals: 401 for a missing or wrong secret, 404 for an unknown instance, 413 for a body over
//! the limit, 400 for a body that is not a delivery. Okta does not retry 4xx, and the System Log
//! catch-up picks up whatever a refused delivery carried.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use okta_client::SecretString;
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

use super::DaemonState;
use crate::triggers::realtime::Inbox;

/// The largest delivery accepted. Okta batches events; 10 MiB leaves room for hundreds of them.
pub const MAX_BODY: usize = 10 * 1024 * 1024;

/// One real-time trigger instance's endpoint.
pub struct Endpoint {
    /// The Authorization header's value Okta was given.
    pub secret: SecretString,
    pub inbox: Arc<Inbox>,
}

pub fn routes() -> axum::Router<Arc<DaemonState>> {
    axum::Router::new()
        .route("/hooks/{name}", get(verify).post(deliver))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// Okta's delivery envelope; only the events matter here.
#[derive(Deserialize)]
struct Delivery<'a> {
    #[serde(borrow)]
    data: DeliveryData<'a>,
}

#[derive(Deserialize)]
struct DeliveryData<'a> {
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct EventId<'a> {
    #[serde(borrow)]
    uuid: &'a str,
}

async fn verify(
    State(state): State<Arc<DaemonState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err((status, why)) = authorize(&state, &name, &headers) {
        return refuse(status, why);
    }
    match headers
        .get("x-okta-verification-challenge")
        .and_then(|v| v.to_str().ok())
    {
        Some(challenge) => {
            tracing::info!(instance = name, "Okta verified the Event Hook endpoint");
            Json(json!({"verification": challenge})).into_response()
        }
        None => refuse(
            StatusCode::BAD_REQUEST,
            "a GET here is Okta's verification: the x-okta-verification-challenge header is missing",
        ),
    }
}

async fn deliver(
    State(state): State<Arc<DaemonState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let endpoint = match authorize(&state, &name, &headers) {
        Ok(endpoint) => endpoint,
        Err((status, why)) => {
            state.metrics.hook_delivery(&name, status.as_u16(), 0);
            return refuse(status, why);
        }
    };
    let received = time::OffsetDateTime::now_utc();
    let inbox = endpoint.inbox.clone();
    // Parsing and the durable commit (an fsync) run off the async workers.
    let stored = tokio::task::spawn_blocking(move || match parse(&body) {
        Err(message) => Stored::Malformed(message),
        Ok(events) => match inbox.append(&events, received) {
            Ok(()) => Stored::Yes(events.len() as u64),
            Err(e) => Stored::Failed(format!("{e:#}")),
        },
    })
    .await
    .unwrap_or_else(|e| Stored::Failed(e.to_string()));
    match stored {
        Stored::Yes(count) => {
            state.metrics.hook_delivery(&name, 200, count);
            StatusCode::OK.into_response()
        }
        Stored::Malformed(message) => {
            state.metrics.hook_delivery(&name, 400, 0);
            tracing::warn!(instance = name, "refused an Event Hook delivery: {message}");
            refuse(StatusCode::BAD_REQUEST, &message)
        }
        Stored::Failed(error) => {
            // Not stored, so not acknowledged: Okta retries a 5xx once, the catch-up does the rest.
            tracing::error!(
                instance = name,
                error,
                "cannot store an Event Hook delivery"
            );
            state.metrics.hook_delivery(&name, 503, 0);
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the delivery could not be stored",
            )
        }
    }
}

/// What became of a delivery's body.
enum Stored {
    Yes(u64),
    Malformed(String),
    Failed(String),
}

/// The events of a delivery, each checked to carry a `uuid` (the de-duplication key).
fn parse(body: &[u8]) -> Result<Vec<&RawValue>, String> {
    let delivery: Delivery<'_> = serde_json::from_slice(body).map_err(|e| {
        format!("the body is not an Event Hook delivery ({{\"data\": {{\"events\": [...]}}}}): {e}")
    })?;
    for event in &delivery.data.events {
        let id = serde_json::from_str::<EventId<'_>>(event.get())
            .map_err(|e| format!("an event without a uuid: {e}"))?;
        if id.uuid.is_empty() {
            return Err("an event with an empty uuid".into());
        }
    }
    Ok(delivery.data.events)
}

/// The endpoint for `name` when the request carries its secret.
fn authorize<'s>(
    state: &'s DaemonState,
    name: &str,
    headers: &HeaderMap,
) -> Result<&'s Endpoint, Refusal> {
    let Some(endpoint) = state.hooks.get(name) else {
        return Err((StatusCode::NOT_FOUND, "no real-time trigger by that name"));
    };
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !super::api::constant_time_eq(given, endpoint.secret.expose().as_bytes()) {
        tracing::warn!(
            instance = name,
            "refused an Event Hook call with a missing or wrong secret"
        );
        return Err((
            StatusCode::UNAUTHORIZED,
            "missing or wrong Authorization secret",
        ));
    }
    Ok(endpoint)
}

/// A refusal before the body is looked at: the status and why.
type Refusal = (StatusCode, &'static str);

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

/// Makes Okta's Event Hook for a real-time instance what its configuration says: created (or
/// updated: event types, address, secret), active and verified. Okta verifies by calling the
/// endpoint, so the daemon must be listening. Returns what was done, for the log.
pub async fn ensure_hook(
    client: &okta_client::Client,
    instance: &str,
    config: &crate::triggers::realtime::RealtimeConfig,
    secret: &SecretString,
) -> Result<String, okta_client::Error> {
    use okta_client::Query;
    use reqwest::Method;
    let uri = config.hook_url(instance);
    let body = json!({
        "name": format!("okta-connector {instance}"),
        "events": {"type": "EVENT_TYPE", "items": config.hook_event_types()},
        "channel": {
            "type": "HTTP",
            "version": "1.0.0",
            "config": {
                "uri": uri,
                "authScheme": {"type": "HEADER", "key": "Authorization", "value": secret.expose()},
            },
        },
    });
    let hooks: Vec<serde_json::Value> = client.get("/api/v1/eventHooks", &Query::new()).await?;
    let existing = hooks
        .iter()
        .find(|h| h["channel"]["config"]["uri"].as_str() == Some(uri.as_str()));
    let (mut hook, mut done): (serde_json::Value, Vec<&str>) = match existing {
        // Updated every start: Okta never returns the secret, so a rotated one must be sent again.
        Some(h) => {
            let id = h["id"].as_str().unwrap_or_default();
            let path = format!("/api/v1/eventHooks/{id}");
            (
                client
                    .json(Method::PUT, &path, &Query::new(), Some(&body))
                    .await?,
                vec!["updated"],
            )
        }
        None => (
            client
                .json(
                    Method::POST,
                    "/api/v1/eventHooks",
                    &Query::new(),
                    Some(&body),
                )
                .await?,
            vec!["created"],
        ),
    };
    let id = hook["id"].as_str().unwrap_or_default().to_string();
    if hook["status"] != "ACTIVE" {
        let path = format!("/api/v1/eventHooks/{id}/lifecycle/activate");
        hook = client
            .json(Method::POST, &path, &Query::new(), None::<&()>)
            .await?;
        done.push("activated");
    }
    if hook["verificationStatus"] != "VERIFIED" {
        let path = format!("/api/v1/eventHooks/{id}/lifecycle/verify");
        client
            .json::<serde_json::Value, ()>(Method::POST, &path, &Query::new(), None)
            .await?;
        done.push("verified");
    }
    Ok(format!("{id} at {uri}: {}", done.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_are_parsed() {
        let ok = br#"{"eventType":"com.okta.event_hook","data":{"events":[{"uuid":"a","x":1},{"uuid":"b"}]}}"#;
        let events = parse(ok).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].get(), r#"{"uuid":"a","x":1}"#);
        assert!(
            parse(b"{}")
                .unwrap_err()
                .contains("not an Event Hook delivery")
        );
        assert!(
            parse(br#"{"data":{"events":[{"id":1}]}}"#)
                .unwrap_err()
                .contains("without a uuid")
        );
        assert!(parse(b"not json").is_err());
    }
}
