//! The HTTP server: binding, graceful shutdown, and the layer every Okta request passes through
//! (faults, concurrency and rate limits, authentication, and the headers Okta puts on every response).

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::http_date;
use crate::faults::Fault;
use crate::http::ApiError;
use crate::ratelimit::{Verdict, bucket_for};
use crate::rng::Rng;
use crate::syslog::{ClientInfo, Entity, NewEvent, RequestCtx, Severity};
use crate::{Sim, SimConfig, auth, control, oauth, routes};

/// A running simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct SimServer {
    sim: Arc<Sim>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SimServer {
    /// `http://127.0.0.1:PORT`, the org's base URL (what a user would call `https://acme.okta.com`).
    pub fn base_url(&self) -> &str {
        self.sim.base_url()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn api_token(&self) -> String {
        self.sim.api_token()
    }

    /// The org itself, for tests that inspect or steer it directly.
    pub fn sim(&self) -> &Arc<Sim> {
        &self.sim
    }

    /// Stops accepting connections, lets requests in flight finish, and waits for the server to end.
    pub async fn shutdown(mut self) {
        self.sim.hooks.delivery.shutdown();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.sim.hooks.delivery.shutdown();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Seeds an org from `config` and serves it on `addr` (port 0 picks a free port).
pub async fn spawn(config: SimConfig, addr: SocketAddr) -> std::io::Result<SimServer> {
    for app in &config.oauth_apps {
        oauth::App::new(app.clone())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    }
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let sim = tokio::task::spawn_blocking(move || Sim::new(config))
        .await
        .map_err(std::io::Error::other)?;
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    sim.set_base_url(format!("http://{host}:{}", addr.port()));
    let app = router(sim.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!("simulator server stopped: {e}");
        }
    });
    Ok(SimServer {
        sim,
        addr,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// The whole app: Okta's API behind the Okta layer, the control API beside it.
pub fn router(sim: Arc<Sim>) -> Router {
    let okta = routes::api()
        .merge(oauth::routes())
        .fallback(path_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(sim.clone(), okta_layer));
    Router::new()
        .merge(okta)
        .nest("/control", control::routes())
        .with_state(sim)
}

async fn path_not_found() -> ApiError {
    ApiError::path_not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        405,
        "E0000022",
        "The endpoint does not support the provided HTTP method",
    )
}

thread_local! {
    static RNG: RefCell<Rng> = RefCell::new(Rng::from_os());
}

/// `X-Okta-Request-Id`: unique per response, in Okta's style.
fn request_id() -> String {
    RNG.with(|r| r.borrow_mut().alphanumeric(26))
}

async fn okta_layer(State(sim): State<Arc<Sim>>, mut req: Request, next: Next) -> Response {
    let arrived = sim.clock.now_ms();
    let request_id = request_id();
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".into());

    // The concurrency slot is held for the whole request, latency included, as a slow Okta would.
    let Some(_slot) = sim.limits.enter() else {
        // Concurrency 429: Okta reports limit and remaining as 0; reset is an estimate.
        let verdict = Verdict {
            allowed: false,
            limit: 0,
            remaining: 0,
            reset_s: arrived / 1000 + 60,
            first_refusal: false,
        };
        if sim.limits.first_concurrency_refusal(arrived) {
            log_violation(
                &sim,
                &request_id,
                &path,
                "core.concurrency.org.limit.violation",
                "Concurrency limit violation",
            );
        }
        sim.counters.record(&method, &route, 429);
        return finish(too_many(), &request_id, verdict, arrived);
    };
    let latency = sim.config.latency_ms + sim.faults.latency_ms(&path);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    // Rate-limit windows and the `Date` header count from when the answer is made, after latency:
    // clients compute their wait as `X-Rate-Limit-Reset - Date`.
    let now = sim.clock.now_ms();

    let bucket = bucket_for(&method, &path);
    let mut response = match sim.faults.decide(&path, now) {
        Fault::Reset => {
            sim.counters.record(&method, &route, 0);
            return connection_reset();
        }
        Fault::Error(status) => {
            let verdict = sim.limits.check(bucket, now);
            let err = match status {
                503 => ApiError::new(503, "E0000010", "Service is in read only mode"),
                s => {
                    let mut e = ApiError::internal();
                    e.status = StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                    e
                }
            };
            finish(err.into_response(), &request_id, verdict, now)
        }
        Fault::TooManyRequests => {
            let verdict = Verdict {
                remaining: 0,
                ..sim.limits.peek(bucket, now)
            };
            finish(too_many(), &request_id, verdict, now)
        }
        Fault::None => {
            // The authorization server's keys are not rate limited (FACTS.md §3).
            let verdict = if path == "/oauth2/v1/keys" {
                sim.limits.peek(bucket, now)
            } else {
                sim.limits.check(bucket, now)
            };
            if !verdict.allowed {
                if verdict.first_refusal {
                    log_violation(
                        &sim,
                        &request_id,
                        &path,
                        "system.org.rate_limit.violation",
                        "Rate limit violation",
                    );
                }
                finish(too_many(), &request_id, verdict, now)
            } else {
                match authorize(&sim, &req, &method, &path, &request_id) {
                    Err(denied) => finish(denied.into_response(), &request_id, verdict, now),
                    Ok(ctx) => {
                        req.extensions_mut().insert(ctx);
                        finish(next.run(req).await, &request_id, verdict, now)
                    }
                }
            }
        }
    };
    sim.counters
        .record(&method, &route, response.status().as_u16());
    // Okta labels every body JSON; a 204 carries neither body nor Content-Type (as recorded), nor
    // do /authorize's redirects.
    if response.status() != StatusCode::NO_CONTENT && !response.status().is_redirection() {
        response
            .headers_mut()
            .entry(header::CONTENT_TYPE)
            .or_insert(HeaderValue::from_static("application/json"));
    }
    response
}

/// Who is calling, checked before any `/api/v1` route runs. The authorization server's endpoints
/// authenticate their clients themselves (the form carries the credentials), so they pass here.
fn authorize(
    sim: &Sim,
    req: &Request,
    method: &str,
    path: &str,
    request_id: &str,
) -> Result<RequestCtx, auth::Denied> {
    let actor = if path.starts_with("/oauth2/") || path.starts_with("/.well-known/") {
        sim.admin.clone()
    } else {
        let principal = auth::authenticate(sim, method, path, req.headers())?;
        // OAuth tokens had their scope checked by `authenticate` (it answers as the resource
        // server does); with the scope there, a caller without an admin role is still refused.
        if !principal.admin_role {
            return Err(ApiError::no_permission().into());
        }
        principal.actor
    };
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "127.0.0.1".into());
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    Ok(RequestCtx {
        request_id: request_id.to_string(),
        request_uri: path.to_string(),
        actor,
        client: ClientInfo::at_the_office(user_agent, ip),
    })
}

/// Okta writes a violation event when a bucket starts refusing (once per window) or the
/// concurrency limit is hit (at most once a minute); its target is the URL pattern refused.
fn log_violation(
    sim: &Sim,
    request_id: &str,
    path: &str,
    event_type: &'static str,
    message: &'static str,
) {
    let ctx = RequestCtx {
        request_id: request_id.to_string(),
        request_uri: path.to_string(),
        actor: sim.admin.clone(),
        client: crate::syslog::default_client(),
    };
    let target = Arc::new(Entity {
        id: path.to_string(),
        kind: "URL Pattern",
        alternate_id: "unknown".into(),
        display_name: "unknown".into(),
    });
    let mut event = NewEvent::success(event_type, message, vec![target]);
    event.severity = Severity::Warn;
    sim.log(&ctx, event);
}

fn too_many() -> Response {
    ApiError::new(
        429,
        "E0000047",
        "API call exceeded rate limit due to too many requests.",
    )
    .into_response()
}

/// Adds `Date`, `X-Okta-Request-Id` and the rate-limit headers Okta sends on every response.
fn finish(mut resp: Response, request_id: &str, verdict: Verdict, now: i64) -> Response {
    let h = resp.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(HeaderName::from_static(name), v);
        }
    };
    set("date", http_date(now));
    set("x-okta-request-id", request_id.to_string());
    set("x-rate-limit-limit", verdict.limit.to_string());
    set("x-rate-limit-remaining", verdict.remaining.to_string());
    set("x-rate-limit-reset", verdict.reset_s.to_string());
    resp
}

/// A response whose body fails at once: the client sees the connection drop mid-response.
fn connection_reset() -> Response {
    let stream = broken_body();
    Response::builder()
        .status(StatusCode::OK)
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn broken_body()
-> impl futures_core::Stream<Item = Result<axum::body::Bytes, std::io::Error>> + Send {
    struct Broken;
    impl futures_core::Stream for Broken {
        type Item = Result<axum::body::Bytes, std::io::Error>;
        fn poll_next(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "injected connection reset",
            ))))
        }
    }
    Broken
}
