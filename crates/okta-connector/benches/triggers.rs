//! `new_events` from the in-process simulator into the file sink (`cargo bench -p okta-connector --bench
//! triggers`), through the whole runner: pages of 1000, de-duplication lookups, envelopes, a write and
//! an fsync per batch, the commit of cursor, seen ids and job row.
//!
//! 1. Rate limits OFF, real time: events per second and CPU per event, for 250k and 1M events; peak
//!    RSS growth over each run (the simulator's log is in the same process and counted before the
//!    run starts, so the growth is the runner's).
//! 2. Workforce rate limits ON (`/api/v1/logs`: 120 requests a minute), in simulated time: the
//!    simulator's clock is frozen and every wait of the client and the runner moves it, so minutes of
//!    Okta time pass in seconds. Reported: requests per simulated minute against the bucket, events
//!    per simulated second, 429s; at the default 50 % share and at 100 %.
//!
//! `OKTA_BENCH_EVENTS` sets the large run's size (default 1,000,000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use okta_client::clock::SleepFuture;
use okta_client::{Auth, Client, ClientConfig, Clock, SecretString, TokioClock};
use okta_connector::sinks::SinkSpec;
use okta_connector::triggers::runtime::{self, Instance, Options};
use okta_connector::triggers::{self, time_spec};
use okta_sim::{RateLimitTier, Sim, SimConfig, SimServer};
use parking_lot::Mutex;
use serde_json::json;

/// The simulator's per-minute limit of `/api/v1/logs` (Workforce).
const LOGS_PER_MINUTE: f64 = 120.0;

/// Time is the simulator's frozen clock; a sleep moves it on.
struct SimTime {
    sim: Arc<Sim>,
    base: Instant,
    start_ms: i64,
    lock: Mutex<()>,
}

impl Clock for SimTime {
    fn now(&self) -> Instant {
        self.base + Duration::from_millis((self.sim.clock.now_ms() - self.start_ms) as u64)
    }
    fn sleep(&self, duration: Duration) -> SleepFuture<'_> {
        {
            let _guard = self.lock.lock();
            let ms = duration.as_micros().div_ceil(1000) as i64;
            self.sim.clock.advance_ms(ms);
        }
        Box::pin(tokio::task::yield_now())
    }
}

async fn sim(rate_limits: RateLimitTier) -> SimServer {
    let config = SimConfig {
        users: 10,
        groups: 2,
        apps: 1,
        log_events: 0,
        rate_limits,
        ..SimConfig::small()
    };
    okta_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// Writes `n` events published now, in control-API batches.
async fn write_events(server: &SimServer, n: usize) {
    let http = reqwest::Client::new();
    let url = format!("{}/control/logs/late", server.base_url());
    let mut left = n;
    while left > 0 {
        let count = left.min(100_000);
        let response = http
            .post(&url)
            .json(&json!({"count": count, "publishedAgoMs": 0}))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        left -= count;
    }
}

fn now_iso(server: &SimServer) -> String {
    let ms = server.sim().clock.now_ms();
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
    time_spec::okta_time(t)
}

/// (VmRSS, VmHWM) in MiB, after resetting the peak when asked.
fn memory(reset_peak: bool) -> (f64, f64) {
    if reset_peak {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time of the whole process so far (user + system), from /proc/self/stat.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the ')'.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn instance(name: &str, start: &str, dir: &std::path::Path) -> Instance {
    Instance {
        name: name.into(),
        connection: "bench".into(),
        trigger: triggers::find("new_events").unwrap(),
        config: json!({"start": start}),
        sink: format!("file:{}", dir.join(format!("{name}.jsonl")).display())
            .parse::<SinkSpec>()
            .unwrap(),
    }
}

async fn unlimited(n: usize) {
    let server = sim(RateLimitTier::Off).await;
    let start = now_iso(&server);
    write_events(&server, n).await;
    let dir = tempfile::tempdir().unwrap();
    let instance = instance("off", &start, dir.path());
    let client = Client::new(ClientConfig::new(
        server.base_url().parse().unwrap(),
        Auth::ApiToken(SecretString::new(server.api_token())),
    ))
    .unwrap();
    let options = Options {
        once: true,
        ..Options::default()
    };
    let (_tx, shutdown) = tokio::sync::watch::channel(false);
    let (rss_before, _) = memory(true);
    let (wall, cpu_before) = (Instant::now(), cpu());
    let summary = runtime::run(
        &instance,
        client,
        dir.path(),
        Arc::new(TokioClock),
        &options,
        shutdown,
    )
    .await
    .unwrap();
    let (wall, cpu_used) = (wall.elapsed(), cpu() - cpu_before);
    let (_, peak) = memory(false);
    assert_eq!(summary.delivered, n as u64);
    let bytes = std::fs::metadata(dir.path().join("off.jsonl"))
        .unwrap()
        .len();
    println!(
        "rate limits OFF (real time): {n} events into the file sink in {:.2} s = {:.0} events/s; \
         CPU {:.1} µs/event (simulator included); {} batches; file {:.0} MiB; RSS before {rss_before:.0} MiB, \
         peak growth during the run +{:.1} MiB",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        cpu_used.as_secs_f64() * 1e6 / n as f64,
        summary.batches,
        bytes as f64 / 1_048_576.0,
        (peak - rss_before).max(0.0),
    );
    server.shutdown().await;
}

async fn rate_limited(n: usize, share: f64) {
    let server = sim(RateLimitTier::Workforce).await;
    let start = now_iso(&server);
    write_events(&server, n).await;
    server.sim().clock.freeze(None);
    let start_ms = server.sim().clock.now_ms();
    let clock = Arc::new(SimTime {
        sim: server.sim().clone(),
        base: Instant::now(),
        start_ms,
        lock: Mutex::new(()),
    });
    let mut config = ClientConfig::new(
        server.base_url().parse().unwrap(),
        Auth::ApiToken(SecretString::new(server.api_token())),
    );
    config.max_bucket_share = share;
    let client = Client::new(config).unwrap().with_clock(clock.clone());
    let dir = tempfile::tempdir().unwrap();
    let instance = instance("workforce", &start, dir.path());
    let options = Options {
        once: true,
        ..Options::default()
    };
    let (_tx, shutdown) = tokio::sync::watch::channel(false);
    let before = logs_requests(&server);
    let wall = Instant::now();
    let summary = runtime::run(&instance, client, dir.path(), clock, &options, shutdown)
        .await
        .unwrap();
    let wall = wall.elapsed();
    assert_eq!(summary.delivered, n as u64);
    let minutes = (server.sim().clock.now_ms() - start_ms) as f64 / 60_000.0;
    let requests = logs_requests(&server) - before;
    let per_minute = requests as f64 / minutes;
    println!(
        "rate limits ON (Workforce, simulated time), share {:.0}%: {n} events, {requests} requests in \
         {minutes:.1} simulated min = {per_minute:.1} requests/min ({:.1}% of the bucket's {LOGS_PER_MINUTE:.0}, \
         {:.1}% of the share) = {:.0} events/s; 429s: {}; wall time {:.1} s",
        share * 100.0,
        per_minute / LOGS_PER_MINUTE * 100.0,
        per_minute / (LOGS_PER_MINUTE * share) * 100.0,
        n as f64 / (minutes * 60.0),
        server.sim().counters.throttled(),
        wall.as_secs_f64(),
    );
    server.shutdown().await;
}

/// `GET /api/v1/logs` requests served so far.
fn logs_requests(server: &SimServer) -> u64 {
    let snapshot = server.sim().counters.snapshot();
    snapshot["routes"]["GET /api/v1/logs"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, n)| n.as_u64())
        .sum()
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too: keep that one small.
    let full = std::env::args().any(|a| a == "--bench");
    let large: usize = std::env::var("OKTA_BENCH_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if full { 1_000_000 } else { 5_000 });
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        unlimited(large / 4).await;
        unlimited(large).await;
        let limited = if full { 200_000 } else { 5_000 };
        rate_limited(limited, 0.5).await;
        rate_limited(limited, 1.0).await;
    });
}
