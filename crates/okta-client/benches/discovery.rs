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
use okta_client::models::LogEvent;
use okta_client::{Auth, Client, ClientConfig, LogStart, Query, SecretString};
use okta_sim::{RateLimitTier, SimConfig, SimServer};

fn main() {
    let users = env_size("BENCH_USERS", 100_000);
    let events = env_size("BENCH_EVENTS", 1_000_000);
    println!("okta-client discovery benchmark (release, loopback, simulator rate limits off)");
    for n in [users / 4, users] {
        run("users", n, |client| async move {
            // TODO: okta_client::models::User once the models land.
            let mut pages = client
                .paginate::<serde_json::Value>("/api/v1/users", Query::new().push("limit", 200));
            let mut count = 0;
            while let Some(user) = pages.next().await {
                user.unwrap();
                count += 1;
            }
            count
        });
    }
    for n in [events / 4, events] {
        run("events", n, |client| async move {
            let since = time::OffsetDateTime::now_utc() - time::Duration::days(40);
            let since = since
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            let mut poll = client.poll_logs(LogStart::Since {
                since,
                filter: None,
                q: None,
                limit: 1000,
            });
            let mut count = 0;
            while let Some(event) = poll.next().await {
                let _: LogEvent = event.unwrap();
                count += 1;
            }
            count
        });
    }
}

fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Seeds a simulator with `n` records of `what`, then times one pass of `pass` over it.
fn run<F, Fut>(what: &str, n: usize, pass: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = usize> + Send + 'static,
{
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

    // Peak memory of the pass alone: reset the high-water mark to the current size.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let rss_before = status_kb("VmRSS");
    let (cpu_before, client_cpu_before) = (process_cpu(), thread_cpu("client"));
    let started = Instant::now();
    let count = client_rt.block_on(async move { tokio::spawn(pass(client)).await.unwrap() });
    let wall = started.elapsed();
    let cpu = process_cpu() - cpu_before;
    let client_cpu = thread_cpu("client") - client_cpu_before;
    let peak = status_kb("VmHWM");

    println!(
        "{what:>6} {count:>8}: {:>8.0} records/s, CPU {:.2} µs/record (client thread {:.2}), \
         peak RSS {:.1} MiB during the pass, {:+.1} MiB over the RSS before it (seeded in {:.1} s)",
        count as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / count as f64,
        client_cpu.as_secs_f64() * 1e6 / count as f64,
        peak as f64 / 1024.0,
        peak as f64 / 1024.0 - rss_before as f64 / 1024.0,
        seeded_in.as_secs_f64(),
    );
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
