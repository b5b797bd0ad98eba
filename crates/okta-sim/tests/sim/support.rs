//! Starting an org in-process and calling it the way a client would.

use std::net::SocketAddr;

use okta_sim::{SimConfig, SimServer};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

pub struct TestOrg {
    pub server: SimServer,
    pub client: reqwest::Client,
    /// How many System Log events the seeded history holds: events from `history` on were
    /// written by the test's own requests.
    pub history: usize,
}

/// A response, read whole: status, headers, and the body as JSON (Null when empty or not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The URL of the `rel="next"` Link, if any.
    pub fn next_link(&self) -> Option<String> {
        self.headers
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|l| l.ends_with("rel=\"next\""))
            .and_then(|l| l.split_once('<'))
            .and_then(|(_, rest)| rest.split_once('>'))
            .map(|(url, _)| url.to_string())
    }

    pub fn error_code(&self) -> Option<&str> {
        self.body.get("errorCode").and_then(Value::as_str)
    }
}

impl TestOrg {
    /// A small org (50 users, 10 groups, 5 apps) with rate limits off.
    pub async fn start() -> TestOrg {
        Self::with(SimConfig::small()).await
    }

    pub async fn with(config: SimConfig) -> TestOrg {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let server = okta_sim::spawn(config, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("simulator starts");
        let history = server.sim().logs.len();
        TestOrg {
            server,
            client: reqwest::Client::new(),
            history,
        }
    }

    pub fn sim(&self) -> &std::sync::Arc<okta_sim::Sim> {
        self.server.sim()
    }

    pub fn url(&self, path_and_query: &str) -> String {
        if path_and_query.starts_with("http") {
            path_and_query.to_string()
        } else {
            format!("{}{}", self.server.base_url(), path_and_query)
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None).await
    }

    /// Sends an authenticated request (SSWS token) to a path (or a full URL such as a `next` link).
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let req = self
            .client
            .request(method, self.url(path))
            .header("Authorization", format!("SSWS {}", self.server.api_token()))
            .header("Accept", "application/json");
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        read(req.send().await.expect("request reaches the simulator")).await
    }

    /// Follows `next` links from `path`, collecting every item (bounded to `max_pages`).
    pub async fn collect(&self, path: &str, max_pages: usize) -> Vec<Value> {
        let mut out = Vec::new();
        let mut next = Some(path.to_string());
        let mut pages = 0;
        while let Some(url) = next {
            let r = self.get(&url).await;
            assert_eq!(r.status, 200, "{url}: {}", r.text);
            let items = r.body.as_array().expect("a list").clone();
            if items.is_empty() {
                break;
            }
            out.extend(items);
            next = r.next_link();
            pages += 1;
            assert!(
                pages <= max_pages,
                "more than {max_pages} pages from {path}"
            );
        }
        out
    }
}

pub async fn read(resp: reqwest::Response) -> Resp {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body reads");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
    }
}
