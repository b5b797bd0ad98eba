//! Where requests go. [`HttpTransport`] is reqwest with rustls (ring); tests may put anything behind
//! [`Transport`]. A transport sends exactly one request: auth, pacing and retries live in the client.

use std::error::Error as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};

use crate::error::{Error, ErrorKind};

/// One HTTP request, fully built (absolute URL, headers including `Authorization`).
#[derive(Clone)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    pub timeout: Option<Duration>,
}

// By hand: the headers hold the `Authorization` secret.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

/// One HTTP response, body read whole (a page is at most a few MB).
#[derive(Clone, Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A failure below HTTP: no response arrived.
#[derive(Clone, Debug)]
pub struct TransportError {
    pub kind: crate::ErrorKind,
    pub message: String,
    /// The request may have reached the server (false only when connecting failed): decides
    /// whether a request that is not idempotent may be sent again.
    pub sent: bool,
}

pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Response, TransportError>> + Send + 'a>>;

pub trait Transport: Send + Sync + 'static {
    fn send(&self, request: Request) -> TransportFuture<'_>;
}

/// reqwest + rustls (ring provider); redirects are never followed (Okta's 302 on `-admin` domains is
/// reported, not chased with the token attached).
pub struct HttpTransport {
    http: reqwest::Client,
}

impl HttpTransport {
    pub fn new() -> Result<Self, crate::Error> {
        let tls = tls_config()
            .map_err(|e| Error::new(ErrorKind::Tls, format!("could not set up TLS: {e}")))?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| {
                Error::new(
                    ErrorKind::Invalid,
                    format!("could not build the HTTP client: {e}"),
                )
            })?;
        Ok(HttpTransport { http })
    }
}

/// rustls with the ring provider (no aws-lc, so no cmake) and the platform's verifier: the OS trust
/// store on Linux via rustls-native-certs, which reqwest already depends on.
fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

impl Transport for HttpTransport {
    fn send(&self, request: Request) -> TransportFuture<'_> {
        Box::pin(async move {
            let host = request.url.host_str().unwrap_or("").to_string();
            let mut builder = self
                .http
                .request(request.method, request.url)
                .headers(request.headers);
            if let Some(timeout) = request.timeout {
                builder = builder.timeout(timeout);
            }
            if let Some(body) = request.body {
                builder = builder.body(body);
            }
            let response = builder
                .send()
                .await
                .map_err(|e| transport_error(&host, &e, !e.is_connect()))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response
                .bytes()
                .await
                .map_err(|e| transport_error(&host, &e, true))?;
            Ok(Response {
                status,
                headers,
                body,
            })
        })
    }
}

/// Says what failed (DNS, refused, TLS certificate, timeout) from reqwest's error chain. The message
/// names the host only: reqwest's own message carries the URL, and nothing here sees the headers.
fn transport_error(host: &str, e: &reqwest::Error, sent: bool) -> TransportError {
    let (kind, what) = classify(e);
    TransportError {
        kind,
        message: format!("{what} ({host})"),
        sent,
    }
}

fn classify(e: &reqwest::Error) -> (ErrorKind, String) {
    if e.is_timeout() {
        return (ErrorKind::Timeout, "the request timed out".into());
    }
    // hyper-util wraps resolver failures as "dns error: <io error>".
    let mut chain = String::new();
    let mut source = e.source();
    while let Some(err) = source {
        chain.push_str(&err.to_string());
        chain.push_str(": ");
        source = err.source();
    }
    if chain.contains("dns error") {
        return (
            ErrorKind::Connect,
            "the host name could not be resolved (DNS)".into(),
        );
    }
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            let what = match tls {
                rustls::Error::InvalidCertificate(c) => {
                    format!("the server's TLS certificate was not accepted: {c:?}")
                }
                other => format!("the TLS handshake failed: {other}"),
            };
            return (ErrorKind::Tls, what);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as Io;
            // rustls reports handshake failures as io errors wrapping a rustls::Error, sometimes
            // inside another io error; `source()` skips the wrapped error, so look inside.
            if let Some(inner) = rustls_inside(io) {
                return (ErrorKind::Tls, format!("the TLS handshake failed: {inner}"));
            }
            let what = match io.kind() {
                Io::ConnectionRefused => "the connection was refused".to_string(),
                Io::ConnectionReset => "the connection was reset".to_string(),
                Io::ConnectionAborted => "the connection was aborted".to_string(),
                Io::TimedOut => return (ErrorKind::Timeout, "the connection timed out".into()),
                Io::UnexpectedEof => "the connection closed before the response ended".to_string(),
                _ => format!("the connection failed: {io}"),
            };
            return (ErrorKind::Connect, what);
        }
        source = err.source();
    }
    if e.is_connect() {
        return (ErrorKind::Connect, "could not connect".into());
    }
    if e.is_body() || e.is_decode() {
        return (
            ErrorKind::Connect,
            "the connection broke while reading the response".into(),
        );
    }
    (ErrorKind::Connect, "the request failed".into())
}

/// The rustls error an io error wraps, however deep.
fn rustls_inside(io: &std::io::Error) -> Option<&rustls::Error> {
    let inner = io.get_ref()?;
    if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    inner
        .downcast_ref::<std::io::Error>()
        .and_then(rustls_inside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_config_builds_with_ring() {
        let config = tls_config().unwrap();
        assert!(config.crypto_provider().cipher_suites.len() > 1);
    }

    #[test]
    fn request_debug_hides_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "SSWS SECRET".parse().unwrap());
        let r = Request {
            method: Method::GET,
            url: "https://acme.okta.com/api/v1/users".parse().unwrap(),
            headers,
            body: None,
            timeout: None,
        };
        assert!(!format!("{r:?}").contains("SECRET"));
    }
}
