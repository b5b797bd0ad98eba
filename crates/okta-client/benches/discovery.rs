//! Discovery throughput: list users (limit 200) and page the System Log (limit 1000) from an
//! in-process simulator with rate limits off, through okta-client, parsing every record.
//!
//! Reports records/s, CPU time per record and peak memory growth at two sizes (the memory must
//! stay flat: the client holds one page at a time). The simulator runs on its own runtime thread
//! (`sim`), the client on another (`client`), so CPU is reported for the whole process and for the
//! client's thread alone (per-thread `/proc/self/task/*/stat`).
//!
//! Sizes: `BENCH_USERS` (default 100000) and `BENCH_EVENTS` (default 1000000); the smaller size of
//! each pair is a quarter of it. Linux only (`/proc`).

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use okta_client::models::{LogEvent, User};
use okta_client::{Auth, Client, ClientConfig, Query, SecretString};
use okta_sim::{RateLimitTier, SimConfig, SimServer};
use serde::de::DeserializeOwned;
use serde_json::Value;

fn main() {
    let users = env_size("BENCH_USERS", 100_000);
    let events = env_size("BENCH_EVENTS", 1_000_000);
    println!("okta-client discovery benchmark (release, loopback, simulator rate limits off)");
    // Each size is seeded once and read twice: into the typed models, and into bare
    // `serde_json::Value`s, so the models' cost shows side by side in the same run.
    for n in [users / 4, users] {
        run(
            "users",
            n,
            &[("User", list_users::<User>), ("Value", list_users::<Value>)],
        );
    }
    for n in [events / 4, events] {
        run(
            "events",
            n,
            &[
                ("LogEvent", poll_events::<LogEvent>),
                ("Value", poll_events::<Value>),
            ],
        );
    }
}

type Pass = fn(Client) -> BoxFuture<'static, usize>;

fn list_users<T: DeserializeOwned + Send + 'static>(client: Client) -> BoxFuture<'static, usize> {
    Box::pin(async move {
        let mut pages = client.paginate::<T>("/api/v1/users", Query::new().push("limit", 200));
        let mut count = 0;
        while let Some(user) = pages.next().await {
            user.unwrap();
            count += 1;
        }
        count
    })
}

/// One System Log poll from 40 days back (the seeded history spans 30) until the first empty page.
fn poll_events<T: DeserializeOwned + Send + 'static>(client: Client) -> BoxFuture<'static, usize> {
    Box::pin(async move {
        let since = time::OffsetDateTime::now_utc() - time::Duration::days(40);
        let since = since
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let mut query = Query::new().push("since", since).push("limit", 1000);
        let mut count = 0;
        // Polling pages by hand so the item type is generic; `poll_logs` does the same with LogEvent.
        loop {
            let page = client
                .pages::<T>("/api/v1/logs", query.clone())
                .next()
                .await
                .unwrap()
                .unwrap();
            if page.items.is_empty() {
                return count;
            }
            count += page.items.len();
            let next = page.next.expect("a polling page always has a next link");
            query = Query::new();
            query.0.extend(
                next.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned())),
            );
        }
    })
}

fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Seeds a simulator with `n` records of `what`, then times each pass over it.
fn run(what: &str, n: usize, passes: &[(&str, Pass)]) {
    let sim_rt = runtime("sim");
    let client_rt = runtime("client");
    let config = SimConfig {
        users: if what == "users" { n } else { 10 },
        log_events: if what == "events" { n } else { 0 },
        rate_limits: RateLimitTier::Off,
        ..SimConfig::small()
    };
    let seeding = Instant::now();
    let server: SimServer = sim_rt
        .block_on(okta_sim::spawn(config, "127.0.0.1:0".parse().unwrap()))
        .unwrap();
    let seeded_in = seeding.elapsed();
    let client = Client::new(ClientConfig::new(
        server.base_url().parse().unwrap(),
        Auth::ApiToken(SecretString::new(server.api_token())),
    ))
    .unwrap();

    println!("{what}: {n} seeded in {:.1} s", seeded_in.as_secs_f64());
    for (parsed_as, pass) in passes {
        // Peak memory of the pass alone: reset the high-water mark to the current size.
        std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
        let rss_before = status_kb("VmRSS");
        let (cpu_before, client_cpu_before) = (process_cpu(), thread_cpu("client"));
        let started = Instant::now();
        let pass = pass(client.clone());
        let count = client_rt.block_on(async move { tokio::spawn(pass).await.unwrap() });
        let wall = started.elapsed();
        let cpu = process_cpu() - cpu_before;
        let client_cpu = thread_cpu("client") - client_cpu_before;
        let peak = status_kb("VmHWM");

        println!(
            "  {parsed_as:>8} {count:>8}: {:>8.0} records/s, CPU {:.2} µs/record (client thread {:.2}), \
             peak RSS {:.1} MiB during the pass, {:+.1} MiB over the RSS before it",
            count as f64 / wall.as_secs_f64(),
            cpu.as_secs_f64() * 1e6 / count as f64,
            client_cpu.as_secs_f64() * 1e6 / count as f64,
            peak as f64 / 1024.0,
            peak as f64 / 1024.0 - rss_before as f64 / 1024.0,
        );
    }
    sim_rt.block_on(server.shutdown());
}

fn runtime(name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(name)
        .enable_all()
        .build()
        .unwrap()
}

/// A `/proc/self/status` field in kB.
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// user + system time from a `stat` file (fields 14 and 15, in clock ticks: 100 Hz on Linux).
fn stat_cpu(stat: &str) -> Duration {
    // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
    let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn process_cpu() -> Duration {
    stat_cpu(&std::fs::read_to_string("/proc/self/stat").unwrap())
}

/// CPU of the threads whose name starts with `name`.
fn thread_cpu(name: &str) -> Duration {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| {
            let dir = t.ok()?.path();
            let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
            if !comm.starts_with(name) {
                return None;
            }
            Some(stat_cpu(&std::fs::read_to_string(dir.join("stat")).ok()?))
        })
        .sum()
}
