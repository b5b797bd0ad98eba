//! `okta-connector demo`: starts a simulated org in-process and walks through what talking to Okta
//! looks like: paging, searching, the user lifecycle with its rules, group membership, and the System
//! Log recording all of it. It grows as the connector's capabilities land.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::cli::DemoArgs;

/// A tiny SSWS client for the walk-through (the typed client arrives with `okta-client`).
struct Org {
    http: reqwest::Client,
    base: String,
    token: String,
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
    }

    fn next_link(&self) -> Option<String> {
        self.headers
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|l| l.ends_with("rel=\"next\""))
            .and_then(|l| l.split_once('<'))
            .and_then(|(_, rest)| rest.split_once('>'))
            .map(|(url, _)| url.to_string())
    }

    fn items(&self) -> &[Value] {
        self.body.as_array().map(Vec::as_slice).unwrap_or(&[])
    }

    fn error(&self) -> String {
        let causes: Vec<&str> = self.body["errorCauses"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["errorSummary"].as_str())
            .collect();
        format!(
            "{} {} {}{}",
            self.status,
            self.body["errorCode"].as_str().unwrap_or(""),
            self.body["errorSummary"].as_str().unwrap_or(""),
            if causes.is_empty() {
                String::new()
            } else {
                format!(" ({})", causes.join("; "))
            }
        )
    }
}

impl Org {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Answer> {
        // The token goes to the org only: a `next` link pointing elsewhere is refused, not followed.
        let url = if path.starts_with("http") {
            if !path.starts_with(&format!("{}/", self.base)) {
                bail!("refusing to send the API token to {path}: it is not the org's URL");
            }
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let mut req = self
            .http
            .request(method.clone(), &url)
            .header("Authorization", format!("SSWS {}", self.token))
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp: Response = req
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    async fn get(&self, path: &str) -> anyhow::Result<Answer> {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Answer> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// A call the walk-through expects to succeed.
    async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Answer> {
        let a = self.call(method.clone(), path, body).await?;
        if a.status >= 300 {
            bail!("{method} {path} failed: {}", a.error());
        }
        Ok(a)
    }
}

fn step(n: u32, title: &str) {
    println!("\n{n}. {title}");
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = okta_sim::SimConfig {
        users: 200,
        groups: 8,
        apps: 5,
        log_events: 300,
        seed: args.seed,
        ..okta_sim::SimConfig::default()
    };
    let server = okta_sim::spawn(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .context("cannot start the simulated org on loopback")?;
    let org = Org {
        http: reqwest::Client::new(),
        base: server.base_url().to_string(),
        token: server.api_token(),
    };
    println!(
        "Simulated Okta org at {} (200 users, 8 groups, 5 apps, Workforce rate limits)",
        org.base
    );
    let demo_start = server.sim().clock.now_ms();

    step(1, "List users, 5 per page, following Okta's Link headers");
    let first = org
        .expect(Method::GET, "/api/v1/users?limit=5", None)
        .await?;
    for u in first.items() {
        println!(
            "   {}  {:<12} {}",
            u["id"].as_str().unwrap_or(""),
            u["status"].as_str().unwrap_or(""),
            u["profile"]["login"].as_str().unwrap_or("")
        );
    }
    println!(
        "   rate limit: {} of {} left in this minute (resets at {})",
        first.header("x-rate-limit-remaining"),
        first.header("x-rate-limit-limit"),
        first.header("x-rate-limit-reset")
    );
    let mut pages = 1;
    let mut users = first.items().len();
    let mut next = first.next_link();
    while let Some(url) = next {
        let page = org.expect(Method::GET, &url, None).await?;
        pages += 1;
        users += page.items().len();
        next = page.next_link();
    }
    println!(
        "   followed `next` links through {pages} pages: {users} users (DEPROVISIONED ones are omitted)"
    );

    step(
        2,
        "Search with Okta's expression language, custom attributes included",
    );
    let search = "profile.department eq \"Engineering\" and profile.clearanceLevel ge 3";
    let found = org
        .expect(
            Method::GET,
            &format!("/api/v1/users?search={}", urlencode(search)),
            None,
        )
        .await?;
    println!("   search={search}\n   → {} users", found.items().len());
    let bad = org
        .get("/api/v1/users?search=profile.department%20eqq%20%22x%22")
        .await?;
    println!("   a malformed search is refused: {}", bad.error());

    step(
        3,
        "Create a user (staged, with a password), then walk the lifecycle",
    );
    let created = org
        .expect(
            Method::POST,
            "/api/v1/users?activate=false",
            Some(json!({
                "profile": {
                    "firstName": "Dana", "lastName": "Demo", "email": "dana.demo@acme.example.com",
                    "login": "dana.demo@acme.example.com", "employeeId": "E900001", "region": "EMEA"
                },
                "credentials": {"password": {"value": "Correct-Horse-Battery-9"}}
            })),
        )
        .await?;
    let id = created.body["id"].as_str().unwrap_or_default().to_string();
    println!("   created {id}: {}", created.body["status"]);
    let invalid = org
        .post(
            "/api/v1/users",
            json!({"profile": {"firstName": "X", "lastName": "Y", "email": "not-an-email",
                               "login": "x", "clearanceLevel": 9}}),
        )
        .await?;
    println!(
        "   invalid input is refused before anything happens: {}",
        invalid.error()
    );
    let act = org
        .expect(
            Method::POST,
            &format!("/api/v1/users/{id}/lifecycle/activate?sendEmail=false"),
            None,
        )
        .await?;
    println!(
        "   activate (no email) → activation URL {}",
        act.body["activationUrl"].as_str().unwrap_or("-")
    );
    org.expect(
        Method::POST,
        &format!("/api/v1/users/{id}/lifecycle/suspend"),
        None,
    )
    .await?;
    let again = org
        .post(&format!("/api/v1/users/{id}/lifecycle/suspend"), json!({}))
        .await?;
    println!(
        "   suspend → SUSPENDED; suspending again: {}",
        again.error()
    );
    org.expect(
        Method::POST,
        &format!("/api/v1/users/{id}/lifecycle/unsuspend"),
        None,
    )
    .await?;
    let user = org
        .expect(Method::GET, &format!("/api/v1/users/{id}"), None)
        .await?;
    println!("   unsuspend → {}", user.body["status"]);

    step(4, "Group membership");
    let groups = org
        .expect(Method::GET, "/api/v1/groups?q=Engineering", None)
        .await?;
    let group = groups
        .items()
        .first()
        .cloned()
        .context("the seeded org has an Engineering group")?;
    let gid = group["id"].as_str().unwrap_or_default();
    org.expect(
        Method::PUT,
        &format!("/api/v1/groups/{gid}/users/{id}"),
        None,
    )
    .await?;
    let members = org
        .expect(
            Method::GET,
            &format!("/api/v1/groups/{gid}/users?limit=200"),
            None,
        )
        .await?;
    println!(
        "   added {id} to {}: the group now has {} members",
        group["profile"]["name"],
        members.items().len()
    );

    step(5, "Deactivate and delete (Okta's two-step delete)");
    org.expect(Method::DELETE, &format!("/api/v1/users/{id}"), None)
        .await?;
    let u = org
        .expect(Method::GET, &format!("/api/v1/users/{id}"), None)
        .await?;
    println!("   first DELETE deactivates: {}", u.body["status"]);
    org.expect(Method::DELETE, &format!("/api/v1/users/{id}"), None)
        .await?;
    let gone = org.get(&format!("/api/v1/users/{id}")).await?;
    println!("   second DELETE deletes: {}", gone.error());

    step(
        6,
        "The System Log recorded every step (polling from the demo's start)",
    );
    let since = okta_sim::clock::iso_ms(demo_start);
    let log = org
        .expect(
            Method::GET,
            &format!("/api/v1/logs?since={}&limit=100", urlencode(&since)),
            None,
        )
        .await?;
    for e in log.items() {
        println!(
            "   {}  {:<34} {}",
            e["published"].as_str().unwrap_or(""),
            e["eventType"].as_str().unwrap_or(""),
            e["target"][0]["alternateId"].as_str().unwrap_or("")
        );
    }
    println!(
        "   the page ends with a `next` link to poll from: {}",
        if log.next_link().is_some() {
            "yes"
        } else {
            "no"
        }
    );

    let counters = server.sim().counters.snapshot();
    println!(
        "\nDone: {} requests served, {} throttled. Run `okta-connector sim` to keep an org running.",
        counters["total"], counters["throttled"]
    );
    server.shutdown().await;
    Ok(())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
