//! Where requests go. [`HttpTransport`] is reqwest with rustls (ring); tests may put anything behind
//! [`Transport`]. A transport sends exactly one request: auth, pacing and retries live in the client.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};

/// One HTTP request, fully built (absolute URL, headers including `Authorization`).
#[derive(Clone)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    pub timeout: Option<Duration>,
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
}

pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Response, TransportError>> + Send + 'a>>;

pub trait Transport: Send + Sync + 'static {
    fn send(&self, request: Request) -> TransportFuture<'_>;
}

/// reqwest + rustls (ring provider); redirects are never followed (Okta's 302 on `-admin` domains is
/// reported, not chased with the token attached).
pub struct HttpTransport {
    #[allow(dead_code)]
    http: reqwest::Client,
}

impl HttpTransport {
    pub fn new() -> Result<Self, crate::Error> {
        todo!("client-core")
    }
}

impl Transport for HttpTransport {
    fn send(&self, _request: Request) -> TransportFuture<'_> {
        todo!("client-core")
    }
}
