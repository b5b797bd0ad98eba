//! The client: auth, pacing, retries, JSON, pagination.
//!
//! CONTRACT (signatures are fixed; bodies are filled in by the client-core work):

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::Auth;
use crate::error::Error;
use crate::page::{LogPoll, LogStart, Pages};
use crate::retry::RetryPolicy;
use crate::transport::{Response, Transport};

/// Everything a client needs. `ClientConfig::new` gives the defaults.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The org's base URL: `https://acme.okta.com`, or `http://127.0.0.1:PORT` for the simulator.
    pub org_url: Url,
    pub auth: Auth,
    pub retry: RetryPolicy,
    /// The largest share of any rate-limit bucket this client may use (0 < share <= 1; default 0.5).
    pub max_bucket_share: f64,
    /// Timeout of one HTTP attempt.
    pub request_timeout: Duration,
    pub user_agent: String,
}

impl ClientConfig {
    pub fn new(org_url: Url, auth: Auth) -> Self {
        ClientConfig {
            org_url,
            auth,
            retry: RetryPolicy::default(),
            max_bucket_share: 0.5,
            request_timeout: Duration::from_secs(30),
            user_agent: concat!("okta-connector/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// Query parameters in order (Okta echoes them in `Link` headers).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn new() -> Self {
        Query::default()
    }
    pub fn push(mut self, key: &str, value: impl ToString) -> Self {
        self.0.push((key.to_string(), value.to_string()));
        self
    }
    pub fn opt(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.push(key, v),
            None => self,
        }
    }
}

/// Cheap to clone; clones share the connection pool, the governor and the auth state.
#[derive(Clone)]
pub struct Client {
    #[allow(dead_code)]
    inner: Arc<Inner>,
}

struct Inner {
    #[allow(dead_code)]
    config: ClientConfig,
    #[allow(dead_code)]
    transport: Arc<dyn Transport>,
}

impl Client {
    /// A client over [`crate::HttpTransport`].
    pub fn new(_config: ClientConfig) -> Result<Self, Error> {
        todo!("client-core")
    }

    /// A client over any transport (tests, replay servers).
    pub fn with_transport(config: ClientConfig, transport: Arc<dyn Transport>) -> Self {
        Client {
            inner: Arc::new(Inner { config, transport }),
        }
    }

    pub fn org_url(&self) -> &Url {
        &self.inner.config.org_url
    }

    /// One API call: `path` is under the org (`/api/v1/users`) or an absolute URL on the org (a `next`
    /// link); anything else is refused so the token never leaves the org. Auth, pacing and retries
    /// applied; a non-2xx answer is an `Err`.
    pub async fn send(
        &self,
        _method: Method,
        _path: &str,
        _query: &Query,
        _body: Option<&Value>,
    ) -> Result<Response, Error> {
        todo!("client-core")
    }

    /// GET and parse the JSON body.
    pub async fn get<T: DeserializeOwned>(&self, _path: &str, _query: &Query) -> Result<T, Error> {
        todo!("client-core")
    }

    /// Any method with an optional JSON body; parses the answer (use `Value` for "whatever comes
    /// back", `()` is not supported: use [`Client::send`] for 204s).
    pub async fn json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        _method: Method,
        _path: &str,
        _query: &Query,
        _body: Option<&B>,
    ) -> Result<T, Error> {
        todo!("client-core")
    }

    /// Every item of a list, one page at a time, following `rel="next"` until there is none.
    pub fn paginate<T: DeserializeOwned + Send + 'static>(
        &self,
        _path: &str,
        _query: Query,
    ) -> Pages<T> {
        todo!("client-core")
    }

    /// One System Log poll (no `until`, ascending): events page by page until the first empty page;
    /// then the stream ends and [`LogPoll::cursor`] is the `next` link to resume from.
    pub fn poll_logs(&self, _start: LogStart) -> LogPoll {
        todo!("client-core")
    }
}
