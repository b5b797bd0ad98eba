//! Bulk-deactivates users against the in-process simulator (`cargo bench -p okta-connector --bench bulk`).
//!
//! The action is `deactivate_user`: a GET of the user (its state is checked first) and a POST of the
//! deactivation, each in its own rate-limit bucket.
//!
//! 1. Workforce rate limits ON: the lifecycle endpoints share the simulator's "POST /api/v1/users/{id}"
//!    bucket (600/min) and the client's governor takes 50% of it by default, so 10k deactivations
//!    need ~33 minutes of Okta time. The simulator's clock is frozen and the client's waits advance
//!    it (a virtual clock): the run takes seconds of wall time, and the rate is measured in
//!    simulated time — requests per simulated minute against the bucket's allowed rate, and 429s.
//! 2. Rate limits OFF, real time: the throughput of the bulk runner itself (journal included).
//!
//! `OKTA_BENCH_USERS` sets the number of users (default 10000).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use okta_client::clock::SleepFuture;
use okta_client::{Auth, Client, ClientConfig, Clock, SecretString};
use okta_connector::actions;
use okta_connector::bulk::{self, Batch, Item};
use okta_connector::journal::{RunJournal, RunKey};
use okta_sim::state::UserStatus;
use okta_sim::{RateLimitTier, Sim, SimConfig, SimServer};
use parking_lot::Mutex;
use serde_json::json;

/// The simulator's per-minute limit of the bucket the lifecycle endpoints fall in (Workforce).
const BUCKET_PER_MINUTE: f64 = 600.0;

/// The client's time is the simulator's frozen clock: a sleep moves it on to the sleeper's wake-up
/// time (never back: concurrent sleepers wake at the latest of their deadlines, as in real time).
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
            let wake = self.now() + duration;
            let now = self.now();
            if wake > now {
                let ms = (wake - now).as_micros().div_ceil(1000) as i64;
                self.sim.clock.advance_ms(ms);
            }
        }
        Box::pin(tokio::task::yield_now())
    }
}

fn users_to_deactivate(server: &SimServer, n: usize) -> Vec<Item> {
    let org = server.sim().org.read();
    org.users
        .values()
        .filter(|u| u.status != UserStatus::Deprovisioned)
        .take(n)
        .enumerate()
        .map(|(i, u)| Item {
            line: i as u64 + 1,
            input: Ok(json!({"user": u.id})),
        })
        .collect()
}

async fn deactivate_all(
    server: &SimServer,
    client: &Client,
    items: Vec<Item>,
    concurrency: usize,
) -> bulk::Summary {
    let state = tempfile::tempdir().unwrap();
    let journal = RunJournal::open(
        state.path(),
        &RunKey {
            connection: server.base_url(),
            action: "deactivate_user",
            input_hash: "bench",
        },
        items.len() as u64,
        true,
    )
    .unwrap();
    let batch = Batch {
        action: actions::find("deactivate_user").unwrap(),
        items,
        concurrency,
        journal: Some(&journal),
        stop: Arc::new(AtomicBool::new(false)),
    };
    bulk::run(client, batch, |_, _, _| {}).await.unwrap()
}

async fn sim(users: usize, rate_limits: RateLimitTier) -> SimServer {
    let config = SimConfig {
        // Some seeded users are DEPROVISIONED already: seed enough others.
        users: users + users / 10 + 200,
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

fn config(server: &SimServer) -> ClientConfig {
    ClientConfig::new(
        server.base_url().parse().unwrap(),
        Auth::ApiToken(SecretString::new(server.api_token())),
    )
}

async fn rate_limited(n: usize, concurrency: usize) {
    let server = sim(n, RateLimitTier::Workforce).await;
    server.sim().clock.freeze(None);
    let start_ms = server.sim().clock.now_ms();
    let clock = SimTime {
        sim: server.sim().clone(),
        base: Instant::now(),
        start_ms,
        lock: Mutex::new(()),
    };
    let config = config(&server);
    let share = config.max_bucket_share;
    let client = Client::new(config).unwrap().with_clock(Arc::new(clock));
    let items = users_to_deactivate(&server, n);
    let (posts_before, gets_before) = requests_by_method(&server);
    let wall = Instant::now();
    let summary = deactivate_all(&server, &client, items, concurrency).await;
    let wall = wall.elapsed();
    let simulated_min = (server.sim().clock.now_ms() - start_ms) as f64 / 60_000.0;
    let (posts, gets) = requests_by_method(&server);
    let (requests, gets) = (posts - posts_before, gets - gets_before);
    let throttled = server.sim().counters.throttled();
    let rate = requests as f64 / simulated_min;
    let allowed = BUCKET_PER_MINUTE * share;
    println!(
        "rate limits ON (Workforce, simulated time): {n} deactivations, concurrency {concurrency}: \
         {} ok, {} failed; {requests} deactivation POSTs (and {gets} GETs of the user, another bucket) \
         in {simulated_min:.1} simulated min = {rate:.1} POSTs/min; \
         bucket {BUCKET_PER_MINUTE:.0}/min, client share {:.0}% = {allowed:.0}/min; achieved {:.1}% of \
         the share ({:.1}% of the bucket); 429s: {throttled}; wall time {:.1} s",
        summary.ok,
        summary.failed,
        share * 100.0,
        rate / allowed * 100.0,
        rate / BUCKET_PER_MINUTE * 100.0,
        wall.as_secs_f64(),
    );
    server.shutdown().await;
}

/// Requests served so far: (writes, reads), from the simulator's per-route counters.
fn requests_by_method(server: &SimServer) -> (u64, u64) {
    let snapshot = server.sim().counters.snapshot();
    let mut counts = (0, 0);
    for (route, by_status) in snapshot["routes"].as_object().into_iter().flatten() {
        let n: u64 = by_status
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(_, n)| n.as_u64())
            .sum();
        if route.starts_with("GET ") {
            counts.1 += n;
        } else if route.starts_with("POST /api/v1/users") {
            counts.0 += n;
        }
    }
    counts
}

async fn unlimited(n: usize, concurrency: usize) {
    let server = sim(n, RateLimitTier::Off).await;
    let client = Client::new(config(&server)).unwrap();
    let items = users_to_deactivate(&server, n);
    let summary = deactivate_all(&server, &client, items, concurrency).await;
    println!(
        "rate limits OFF (real time): {n} deactivations, concurrency {concurrency}: {} ok, {} failed \
         in {:.2} s = {:.0} actions/s (journal: 2 SQLite commits per action)",
        summary.ok,
        summary.failed,
        summary.elapsed.as_secs_f64(),
        summary.rate()
    );
    server.shutdown().await;
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too: keep that one small.
    let n: usize = std::env::var("OKTA_BENCH_USERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if std::env::args().any(|a| a == "--bench") {
            10_000
        } else {
            200
        });
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        rate_limited(n, 4).await;
        unlimited(n, 4).await;
    });
}
