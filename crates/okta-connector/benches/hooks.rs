//! Event Hook deliveries under load (`cargo bench -p okta-connector --bench hooks`): the daemon
//! (`serve::daemon`, in-process) with one `new_events_realtime` instance writing to the file sink,
//! and a load generator POSTing Okta-shaped deliveries of 100 events at a steady rate (default
//! 10,000 events/s for 60 s; `OKTA_BENCH_HOOK_RATE`, `OKTA_BENCH_HOOK_SECONDS`). A reader tails the
//! sink file and measures, for every event, the time from the POST that carried it to its line in
//! the file (after the sink's fsync): receipt to sink. At the end the file must hold every event
//! sent exactly once.

use std::collections::HashSet;
use std::io::{BufRead, Seek};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use okta_client::{Auth, Client, ClientConfig, SecretString, TokioClock};
use okta_connector::daemon::metrics::Metrics;
use okta_connector::serve::{self, ServeConfig, Surroundings};
use okta_sim::{SimConfig, SimServer};
use serde_json::{Value, json};

const SECRET: &str = "bench-hook-secret";
const PER_DELIVERY: usize = 100;

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}

fn event(n: u64, sent: u64) -> Value {
    json!({
        "uuid": format!("b0000000-0000-11f1-8000-{n:012}"),
        "published": "2026-11-29T08:00:00.000Z",
        "eventType": "user.session.start",
        "displayMessage": "User login to Okta",
        "severity": "INFO",
        "outcome": {"result": "SUCCESS"},
        "actor": {"id": "00u1bench", "type": "User", "alternateId": "bench@example.com", "displayName": "Bench"},
        "client": {"ipAddress": "192.0.2.10", "userAgent": {"rawUserAgent": "bench"}},
        "debugContext": {"debugData": {"sentMicros": sent.to_string()}},
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

async fn run(rate: usize, seconds: u64) {
    let server: SimServer = okta_sim::spawn(
        SimConfig {
            users: 5,
            groups: 1,
            apps: 1,
            log_events: 0,
            ..SimConfig::small()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sink = dir.path().join("events.jsonl");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let yaml = format!(
        "http: {{listen: \"127.0.0.1:{port}\"}}\n\
         triggers:\n  \
           - name: rt\n    \
             connection: sim\n    \
             trigger: new_events_realtime\n    \
             config: {{event_types: [user.session.start], public_url: \"http://127.0.0.1:{port}\", \
                       secret_env: HOOK_SECRET, register: false, catch_up: 1h, start: 1m}}\n    \
             sink: {{file: {}}}\n",
        sink.display()
    );
    let config: ServeConfig = serde_yaml::from_str(&yaml).unwrap();
    let client = Client::new(ClientConfig::new(
        server.base_url().parse().unwrap(),
        Auth::ApiToken(SecretString::new(server.api_token())),
    ))
    .unwrap();
    let state_dir = dir.path().join("state");
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let daemon = {
        let state_dir = state_dir.clone();
        tokio::spawn(async move {
            let env = |name: &str| (name == "HOOK_SECRET").then(|| SECRET.to_string());
            let around = Surroundings {
                clients: [("sim".to_string(), client)].into_iter().collect(),
                state_dir: &state_dir,
                clock: Arc::new(TokioClock),
                env: &env,
                metrics: Arc::new(Metrics::new()),
            };
            serve::daemon(&config, around, shutdown).await.unwrap()
        })
    };
    let url = format!("http://127.0.0.1:{port}/hooks/rt");
    let http = reqwest::Client::new();
    // Up once the endpoint answers.
    while http.get(&url).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The tail reader: latency of every line, from the POST that carried it to the file.
    let total = rate as u64 * seconds;
    let reader = {
        let sink = sink.clone();
        tokio::task::spawn_blocking(move || {
            let mut latencies = Vec::with_capacity(total as usize);
            let mut seen = HashSet::with_capacity(total as usize);
            let mut duplicates = 0u64;
            let mut offset = 0u64;
            let mut partial = String::new();
            let deadline = Instant::now() + Duration::from_secs(seconds + 120);
            while (seen.len() as u64) < total && Instant::now() < deadline {
                if let Ok(mut file) = std::fs::File::open(&sink) {
                    file.seek(std::io::SeekFrom::Start(offset)).unwrap();
                    let mut reader = std::io::BufReader::new(file);
                    let mut line = String::new();
                    while reader.read_line(&mut line).unwrap() > 0 {
                        offset += line.len() as u64;
                        if !line.ends_with('\n') {
                            partial.push_str(&line);
                            line.clear();
                            continue;
                        }
                        let whole = std::mem::take(&mut partial) + &line;
                        let arrived = now_micros();
                        let v: Value = serde_json::from_str(&whole).unwrap();
                        let sent: u64 = v["record"]["debugContext"]["debugData"]["sentMicros"]
                            .as_str()
                            .unwrap()
                            .parse()
                            .unwrap();
                        if !seen.insert(v["id"].as_str().unwrap().to_string()) {
                            duplicates += 1;
                        }
                        latencies.push(arrived.saturating_sub(sent) as f64 / 1000.0);
                        line.clear();
                    }
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            (latencies, seen.len() as u64, duplicates)
        })
    };

    // The generator: deliveries of 100 events at an even pace, several in flight.
    let deliveries = total / PER_DELIVERY as u64;
    let interval = Duration::from_secs_f64(PER_DELIVERY as f64 / rate as f64);
    let started = Instant::now();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut in_flight = tokio::task::JoinSet::new();
    let mut refused = 0u64;
    for d in 0..deliveries {
        ticker.tick().await;
        let sent = now_micros();
        let events: Vec<Value> = (0..PER_DELIVERY as u64)
            .map(|i| event(d * PER_DELIVERY as u64 + i, sent))
            .collect();
        let body = json!({
            "eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
            "source": "bench", "eventId": format!("delivery-{d}"), "contentType": "application/json",
            "data": {"events": events},
        })
        .to_string();
        let (http, url) = (http.clone(), url.clone());
        in_flight.spawn(async move {
            let r = http
                .post(&url)
                .header("Authorization", SECRET)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await;
            matches!(r, Ok(r) if r.status().is_success())
        });
        while in_flight.len() > 64 {
            if !in_flight.join_next().await.unwrap().unwrap() {
                refused += 1;
            }
        }
    }
    while let Some(ok) = in_flight.join_next().await {
        if !ok.unwrap() {
            refused += 1;
        }
    }
    let sending = started.elapsed();
    let (mut latencies, delivered, duplicates) = reader.await.unwrap();
    let _ = stop.send(true);
    let _ = daemon.await;
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "Event Hook load: {deliveries} deliveries of {PER_DELIVERY} events sent in {:.1} s ({:.0} events/s offered, \
         {refused} refused); {delivered} of {total} events in the file sink, {duplicates} duplicates; \
         receipt → sink latency ms: p50 {:.1}, p90 {:.1}, p99 {:.1}, p99.9 {:.1}, max {:.1}",
        sending.as_secs_f64(),
        total as f64 / sending.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
        latencies.last().copied().unwrap_or(0.0),
    );
    assert_eq!(delivered, total, "every event delivered");
    assert_eq!(duplicates, 0);
    server.shutdown().await;
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too: keep that one short.
    let full = std::env::args().any(|a| a == "--bench");
    let var = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let rate = var("OKTA_BENCH_HOOK_RATE", if full { 10_000 } else { 2_000 }) as usize;
    let seconds = var("OKTA_BENCH_HOOK_SECONDS", if full { 60 } else { 2 });
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(run(rate, seconds));
}
