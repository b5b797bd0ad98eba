//! Throughput of the simulator: seeding, memory, and paging users and the System Log over loopback.
//!
//! Run: `cargo bench -p okta-sim` (release build). Sizes come from the environment:
//! - `BENCH_USERS` (default 100000): users to seed
//! - `BENCH_EVENTS` (default 1000000): System Log events of seeded history
//! - `BENCH_WORKERS` (default 4): concurrent HTTP clients
//!
//! e.g. `BENCH_USERS=10000 BENCH_EVENTS=100000 cargo bench -p okta-sim` for a quick run.
//!
//! The simulator runs in-process with rate limits off, on a 2-thread runtime. Users are paged at
//! `limit=200` following `next` links (every worker walks the whole list); the System Log is polled
//! at `limit=1000` through every event, the history split into one persistence-time slice per worker.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use okta_sim::routes::users;
use okta_sim::syslog::EventJson;
use okta_sim::syslog::json::write_page;
use okta_sim::{RateLimitTier, SimConfig};

const DAY_MS: i64 = 86_400_000;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|l| l.ends_with("rel=\"next\""))
        .and_then(|l| Some(l.split_once('<')?.1.split_once('>')?.0.to_string()))
}

/// What a set of page walks fetched.
#[derive(Default)]
struct Walk {
    pages: u64,
    items: u64,
    bytes: u64,
}

impl Walk {
    fn add(&mut self, other: Walk) {
        self.pages += other.pages;
        self.items += other.items;
        self.bytes += other.bytes;
    }
}

struct Row {
    what: String,
    walk: Walk,
    took: Duration,
}

fn main() {
    let users = env("BENCH_USERS", 100_000);
    let events = env("BENCH_EVENTS", 1_000_000);
    let workers = env("BENCH_WORKERS", 4).max(1);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(users, events, workers));
}

async fn run(users: usize, events: usize, workers: usize) {
    println!("okta-sim throughput: {users} users, {events} log events, {workers} workers");
    let rss_before = rss_mb();
    let config = SimConfig {
        users,
        log_events: events,
        rate_limits: RateLimitTier::Off,
        ..SimConfig::default()
    };
    let started = Instant::now();
    let server = okta_sim::spawn(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("simulator starts");
    let seed_time = started.elapsed();
    let rss_after = rss_mb();
    println!(
        "seeded in {:.2} s; RSS {:.0} MB before, {:.0} MB after seeding; LogEvent is {} bytes",
        seed_time.as_secs_f64(),
        rss_before,
        rss_after,
        std::mem::size_of::<okta_sim::syslog::LogEvent>()
    );

    render_comparison(server.sim());

    let client = reqwest::Client::new();
    let token = server.api_token();
    let base = server.base_url().to_string();
    let mut rows = Vec::new();

    // Users: every worker walks the whole list.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (client, token) = (client.clone(), token.clone());
        let first = format!("{base}/api/v1/users?limit=200");
        tasks.push(tokio::spawn(walk(
            client,
            token,
            first,
            "\"id\":\"00u",
            None,
        )));
    }
    let mut total = Walk::default();
    for t in tasks {
        total.add(t.await.expect("worker"));
    }
    rows.push(Row {
        what: "users, limit=200".into(),
        walk: total,
        took: started.elapsed(),
    });

    // System Log: one persistence-time slice of the history per worker, polled to its end.
    let now = server.sim().clock.now_ms();
    let start = now - 30 * DAY_MS - 60_000;
    let span = now - start;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..workers as i64 {
        let (client, token) = (client.clone(), token.clone());
        let since = start + span * i / workers as i64;
        let stop = (i + 1 < workers as i64).then(|| start + span * (i + 1) / workers as i64);
        let first = format!(
            "{base}/api/v1/logs?limit=1000&since={}",
            okta_sim::clock::iso_ms(since).replace(':', "%3A")
        );
        tasks.push(tokio::spawn(walk(client, token, first, "\"uuid\":", stop)));
    }
    let mut total = Walk::default();
    for t in tasks {
        total.add(t.await.expect("worker"));
    }
    rows.push(Row {
        what: "logs, limit=1000 (poll)".into(),
        walk: total,
        took: started.elapsed(),
    });

    println!();
    println!(
        "| {:<24} | {:>8} | {:>9} | {:>8} | {:>11} | {:>8} |",
        "walk", "pages", "pages/s", "items", "items/s", "MB/s"
    );
    println!(
        "|{:-<26}|{:->10}|{:->11}|{:->10}|{:->13}|{:->10}|",
        "", "", "", "", "", ""
    );
    for r in &rows {
        let s = r.took.as_secs_f64();
        println!(
            "| {:<24} | {:>8} | {:>9.0} | {:>8} | {:>11.0} | {:>8.1} |",
            r.what,
            r.walk.pages,
            r.walk.pages as f64 / s,
            r.walk.items,
            r.walk.items as f64 / s,
            r.walk.bytes as f64 / s / 1e6
        );
    }
    println!("\nRSS at the end: {:.0} MB", rss_mb());
    server.shutdown().await;
}

/// Follows `next` links from `first`, counting items by a marker each item has once. A polling walk
/// ends on an empty page, or (with `stop_before_ms`) once the next page starts at or after that
/// persistence time (the `{ms}_{seq}` cursor's `ms`).
async fn walk(
    client: reqwest::Client,
    token: String,
    first: String,
    marker: &'static str,
    stop_before_ms: Option<i64>,
) -> Walk {
    let mut out = Walk::default();
    let mut url = first;
    loop {
        let resp = client
            .get(&url)
            .header("Authorization", format!("SSWS {token}"))
            .header("Accept", "application/json")
            .send()
            .await
            .expect("request");
        assert!(resp.status().is_success(), "{url}: {}", resp.status());
        let next = next_link(resp.headers());
        let body = resp.bytes().await.expect("body");
        let text = std::str::from_utf8(&body).expect("utf-8");
        let items = text.matches(marker).count() as u64;
        out.pages += 1;
        out.items += items;
        out.bytes += body.len() as u64;
        let Some(next) = next else { break };
        if items == 0 {
            break;
        }
        if let Some(stop) = stop_before_ms {
            let cursor_ms = next
                .rsplit("after=")
                .next()
                .and_then(|c| c.split('_').next())
                .and_then(|ms| ms.parse::<i64>().ok());
            if cursor_ms.is_some_and(|ms| ms >= stop) {
                break;
            }
        }
        url = next;
    }
    out
}

/// Rendering a page of 1000 events: straight to bytes, and through a `serde_json::Value` per event.
fn render_comparison(sim: &okta_sim::Sim) {
    let meta = &sim.logs.meta;
    let (direct, via_value, bytes) = sim.logs.read(|data| {
        let n = data.events.len().min(20_000);
        let sample = &data.events[..n];
        let mut buf = Vec::with_capacity(4 << 20);
        let t = Instant::now();
        for page in sample.chunks(1000) {
            buf.clear();
            write_page(&mut buf, page.iter(), meta);
        }
        let direct = t.elapsed();
        let bytes = buf.len();
        let t = Instant::now();
        for page in sample.chunks(1000) {
            let values: Vec<serde_json::Value> = page
                .iter()
                .map(|ev| serde_json::to_value(EventJson { ev, meta }).expect("json"))
                .collect();
            buf.clear();
            serde_json::to_writer(&mut buf, &values).expect("json");
        }
        (
            direct.as_secs_f64() / n.max(1) as f64,
            t.elapsed().as_secs_f64() / n.max(1) as f64,
            bytes,
        )
    });
    println!(
        "rendering: {:.2} µs/event straight to bytes, {:.2} µs/event via serde_json::Value ({:.1}x); a page of 1000 is {:.2} MB",
        direct * 1e6,
        via_value * 1e6,
        via_value / direct,
        bytes as f64 / 1e6
    );

    // The same comparison for a page of 200 users (the list path serializes `UserJson` views).
    let org = sim.org.read();
    let base = sim.base_url();
    let sample: Vec<_> = org.users.values().take(20_000).collect();
    let mut buf = Vec::with_capacity(1 << 20);
    let t = Instant::now();
    for page in sample.chunks(200) {
        let views: Vec<_> = page
            .iter()
            .map(|u| users::user_json(base, &org.realm_id, u))
            .collect();
        buf.clear();
        serde_json::to_writer(&mut buf, &views).expect("json");
    }
    let direct = t.elapsed().as_secs_f64() / sample.len().max(1) as f64;
    let t = Instant::now();
    for page in sample.chunks(200) {
        let values: Vec<serde_json::Value> = page
            .iter()
            .map(|u| serde_json::to_value(users::user_json(base, &org.realm_id, u)).expect("json"))
            .collect();
        buf.clear();
        serde_json::to_writer(&mut buf, &values).expect("json");
    }
    let via_value = t.elapsed().as_secs_f64() / sample.len().max(1) as f64;
    println!(
        "rendering: {:.2} µs/user straight to bytes, {:.2} µs/user via serde_json::Value ({:.1}x)",
        direct * 1e6,
        via_value * 1e6,
        via_value / direct
    );
}
