//! The daemon's metrics, rendered for Prometheus by /metrics.
//!
//! Everything lives in one map behind one lock: label sets are few (connections × rate-limit
//! buckets, trigger instances, routes), updates are a map lookup, and a scrape renders from one
//! consistent snapshot. The text format is written by hand (it is a few lines of escaping), so no
//! metrics crate is needed.
//!
//! Okta's side comes from [`Metrics::client_observer`]: an [`Observer`] per connection, set on that
//! connection's client, told of every attempt, rate-limit wait and retry.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use okta_client::observer::{Attempt, Observer, Retry, WaitReason};

/// Every counter and gauge the daemon exports. Cheap to update from any task.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Arc<Mutex<Registry>>,
}

/// The families, in the order /metrics lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    OktaRequests,
    OktaRateLimitRemaining,
    OktaRateLimitLimit,
    OktaThrottledSeconds,
    OktaRetries,
    TriggerDelivered,
    TriggerSinkErrors,
    TriggerLag,
    HookDeliveries,
    HookEvents,
    HttpRequests,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Counter,
    Gauge,
}

impl Family {
    const ALL: [Family; 11] = [
        Family::OktaRequests,
        Family::OktaRateLimitRemaining,
        Family::OktaRateLimitLimit,
        Family::OktaThrottledSeconds,
        Family::OktaRetries,
        Family::TriggerDelivered,
        Family::TriggerSinkErrors,
        Family::TriggerLag,
        Family::HookDeliveries,
        Family::HookEvents,
        Family::HttpRequests,
    ];

    /// Name, kind, label names, help.
    fn def(self) -> (&'static str, Kind, &'static [&'static str], &'static str) {
        use Kind::*;
        match self {
            Family::OktaRequests => (
                "okta_requests_total",
                Counter,
                &["connection", "bucket", "status"],
                "Requests sent to Okta, every attempt counted, by rate-limit bucket and HTTP status (or connect, tls, timeout when no answer came).",
            ),
            Family::OktaRateLimitRemaining => (
                "okta_rate_limit_remaining",
                Gauge,
                &["connection", "bucket"],
                "X-Rate-Limit-Remaining of the bucket's latest answer.",
            ),
            Family::OktaRateLimitLimit => (
                "okta_rate_limit_limit",
                Gauge,
                &["connection", "bucket"],
                "X-Rate-Limit-Limit of the bucket's latest answer.",
            ),
            Family::OktaThrottledSeconds => (
                "okta_throttled_seconds_total",
                Counter,
                &["connection", "bucket", "reason"],
                "Time spent waiting before sending because of rate limits: pacing (spreading this client's share), share_used (waiting for the reset), rate_limited (after a 429).",
            ),
            Family::OktaRetries => (
                "okta_retries_total",
                Counter,
                &["connection", "reason"],
                "Attempts repeated, by reason.",
            ),
            Family::TriggerDelivered => (
                "trigger_records_delivered_total",
                Counter,
                &["instance", "trigger"],
                "Records a trigger instance delivered to its sink.",
            ),
            Family::TriggerSinkErrors => (
                "trigger_sink_errors_total",
                Counter,
                &["instance", "trigger"],
                "Batches a sink did not acknowledge.",
            ),
            Family::TriggerLag => (
                "trigger_lag_seconds",
                Gauge,
                &["instance", "trigger"],
                "Seconds since the trigger instance last caught up (0 when caught up).",
            ),
            Family::HookDeliveries => (
                "hook_deliveries_total",
                Counter,
                &["instance", "status"],
                "Event Hook deliveries received, by the status answered.",
            ),
            Family::HookEvents => (
                "hook_events_total",
                Counter,
                &["instance"],
                "Events in accepted Event Hook deliveries.",
            ),
            Family::HttpRequests => (
                "http_requests_total",
                Counter,
                &["route", "status"],
                "Requests the daemon's own HTTP server answered, by route template and status.",
            ),
        }
    }
}

const DURATION: &str = "okta_request_duration_seconds";
/// Upper bounds of the duration histogram: an Okta call takes tens of milliseconds to seconds.
const BOUNDS: [f64; 11] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Debug, Default)]
struct Registry {
    /// Counters and gauges: family → label values (in the family's label order) → value.
    series: BTreeMap<Family, BTreeMap<Vec<String>, f64>>,
    /// The duration histogram by (connection, bucket).
    durations: BTreeMap<Vec<String>, Histogram>,
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Per bound, not cumulative (summed when rendered).
    counts: [u64; BOUNDS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = BOUNDS.iter().position(|b| seconds <= *b) {
            self.counts[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }
}

impl Registry {
    fn add(&mut self, family: Family, labels: &[&str], by: f64) {
        *self.slot(family, labels) += by;
    }
    fn set(&mut self, family: Family, labels: &[&str], value: f64) {
        *self.slot(family, labels) = value;
    }
    fn slot(&mut self, family: Family, labels: &[&str]) -> &mut f64 {
        debug_assert_eq!(labels.len(), family.def().2.len(), "{family:?}");
        self.series
            .entry(family)
            .or_default()
            .entry(labels.iter().map(|l| l.to_string()).collect())
            .or_default()
    }
}

impl Metrics {
    pub fn new() -> Self {
        Metrics::default()
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        lock(&self.inner)
    }

    /// A trigger instance delivered a batch of `records`.
    pub fn delivered(&self, instance: &str, trigger: &str, records: u64) {
        self.lock().add(
            Family::TriggerDelivered,
            &[instance, trigger],
            records as f64,
        );
    }

    /// A sink did not acknowledge a batch.
    pub fn sink_error(&self, instance: &str, trigger: &str) {
        self.lock()
            .add(Family::TriggerSinkErrors, &[instance, trigger], 1.0);
    }

    /// How far a trigger instance is behind: seconds since it last caught up (0 when caught up).
    pub fn lag(&self, instance: &str, trigger: &str, seconds: f64) {
        self.lock()
            .set(Family::TriggerLag, &[instance, trigger], seconds);
    }

    /// An Event Hook delivery of `events` was accepted (or refused, with its status). Only the
    /// events of accepted (2xx) deliveries count in `hook_events_total`.
    pub fn hook_delivery(&self, instance: &str, status: u16, events: u64) {
        let mut r = self.lock();
        r.add(
            Family::HookDeliveries,
            &[instance, &status.to_string()],
            1.0,
        );
        if (200..300).contains(&status) {
            r.add(Family::HookEvents, &[instance], events as f64);
        }
    }

    /// The daemon's HTTP server answered a request on `route` (the route template, e.g.
    /// `/v1/connections/{name}/actions/{action}`, so ids do not multiply the series).
    pub fn http_request(&self, route: &str, status: u16) {
        self.lock()
            .add(Family::HttpRequests, &[route, &status.to_string()], 1.0);
    }

    /// An observer for the client of `connection`: set it as that client's
    /// `ClientConfig::observer` and its requests, rate limits and retries show up here.
    pub fn client_observer(&self, connection: &str) -> Arc<dyn Observer> {
        Arc::new(ClientMetrics {
            registry: self.inner.clone(),
            connection: connection.to_string(),
        })
    }

    /// The current value of a counter or gauge (for tests and diagnostics): `name` as rendered,
    /// `labels` every label of the family, in any order.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let family = Family::ALL.into_iter().find(|f| f.def().0 == name)?;
        let names = family.def().2;
        let key: Vec<String> = names
            .iter()
            .map(|n| {
                labels
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.to_string())
            })
            .collect::<Option<_>>()?;
        self.lock().series.get(&family)?.get(&key).copied()
    }

    /// Every metric in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let r = self.lock();
        let mut out = String::with_capacity(4096);
        for family in Family::ALL {
            let (name, kind, label_names, help) = family.def();
            header(
                &mut out,
                name,
                help,
                if kind == Kind::Counter {
                    "counter"
                } else {
                    "gauge"
                },
            );
            for (values, value) in r.series.get(&family).into_iter().flatten() {
                out.push_str(name);
                labels(
                    &mut out,
                    label_names
                        .iter()
                        .copied()
                        .zip(values.iter().map(String::as_str)),
                    None,
                );
                let _ = writeln!(out, " {}", number(*value));
            }
            if family == Family::OktaRequests {
                render_durations(&mut out, &r.durations);
            }
        }
        out
    }
}

fn render_durations(out: &mut String, durations: &BTreeMap<Vec<String>, Histogram>) {
    header(
        out,
        DURATION,
        "Time from sending an attempt to Okta's answer (or the failure), by rate-limit bucket.",
        "histogram",
    );
    let names = ["connection", "bucket"];
    for (values, h) in durations {
        let pairs = || names.iter().copied().zip(values.iter().map(String::as_str));
        let mut cumulative = 0;
        for (bound, count) in BOUNDS.iter().zip(h.counts) {
            cumulative += count;
            out.push_str(DURATION);
            out.push_str("_bucket");
            labels(out, pairs(), Some(&number(*bound)));
            let _ = writeln!(out, " {cumulative}");
        }
        out.push_str(DURATION);
        out.push_str("_bucket");
        labels(out, pairs(), Some("+Inf"));
        let _ = writeln!(out, " {}", h.count);
        out.push_str(DURATION);
        out.push_str("_sum");
        labels(out, pairs(), None);
        let _ = writeln!(out, " {}", number(h.sum));
        out.push_str(DURATION);
        out.push_str("_count");
        labels(out, pairs(), None);
        let _ = writeln!(out, " {}", h.count);
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// `{a="x",b="y"}` with values escaped as the format requires (`\\`, `\"`, `\n`); `le` last for
/// histogram buckets.
fn labels<'a>(out: &mut String, pairs: impl Iterator<Item = (&'a str, &'a str)>, le: Option<&str>) {
    let mut first = true;
    let mut put = |out: &mut String, name: &str, value: &str| {
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(name);
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    };
    for (name, value) in pairs {
        put(out, name, value);
    }
    if let Some(le) = le {
        put(out, "le", le);
    }
    if !first {
        out.push('}');
    }
}

/// A sample value: whole numbers without a fraction, others as Rust prints them (never an
/// exponent), and the format's spellings of the special values.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A poisoned lock only means a panic elsewhere mid-update of a number: the numbers are still
/// worth serving.
fn lock(m: &Mutex<Registry>) -> MutexGuard<'_, Registry> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One connection's client, reporting into the daemon's metrics.
struct ClientMetrics {
    registry: Arc<Mutex<Registry>>,
    connection: String,
}

impl Observer for ClientMetrics {
    fn attempt(&self, a: &Attempt<'_>) {
        let c = self.connection.as_str();
        let mut r = lock(&self.registry);
        r.add(
            Family::OktaRequests,
            &[c, a.bucket, &a.outcome.label()],
            1.0,
        );
        r.durations
            .entry(vec![c.to_string(), a.bucket.to_string()])
            .or_default()
            .observe(a.duration.as_secs_f64());
        // A concurrency 429 reports 0 and 0: it says nothing about the bucket.
        if let (Some(limit), Some(remaining)) = (a.limit, a.remaining)
            && limit > 0
        {
            r.set(Family::OktaRateLimitLimit, &[c, a.bucket], limit as f64);
            r.set(
                Family::OktaRateLimitRemaining,
                &[c, a.bucket],
                remaining as f64,
            );
        }
    }

    fn waited(&self, bucket: &str, reason: WaitReason, duration: Duration) {
        lock(&self.registry).add(
            Family::OktaThrottledSeconds,
            &[&self.connection, bucket, reason.as_str()],
            duration.as_secs_f64(),
        );
    }

    fn retry(&self, retry: &Retry<'_>) {
        lock(&self.registry).add(
            Family::OktaRetries,
            &[&self.connection, retry.reason.as_str()],
            1.0,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use okta_client::observer::{AttemptOutcome, RetryReason};
    use reqwest::Method;

    fn attempt<'a>(
        method: &'a Method,
        bucket: &'a str,
        outcome: AttemptOutcome,
        ms: u64,
    ) -> Attempt<'a> {
        Attempt {
            method,
            bucket,
            number: 1,
            outcome,
            duration: Duration::from_millis(ms),
            limit: Some(600),
            remaining: Some(599),
            reset: Some(1_700_000_060),
            request_id: Some("req1"),
        }
    }

    #[test]
    fn renders_every_family_with_help_type_and_escaped_labels() {
        let m = Metrics::new();
        m.delivered("audit \"main\"", "new_events", 7);
        m.delivered("audit \"main\"", "new_events", 3);
        m.sink_error("a\\b", "new_user");
        m.lag("line\nbreak", "new_events", 1.5);
        m.hook_delivery("rt", 200, 40);
        m.hook_delivery("rt", 401, 5);
        m.http_request("/v1/actions", 200);
        let text = m.render();
        for family in Family::ALL {
            let (name, kind, _, _) = family.def();
            let kind = if kind == Kind::Counter {
                "counter"
            } else {
                "gauge"
            };
            assert!(text.contains(&format!("# HELP {name} ")), "{name}\n{text}");
            assert!(
                text.contains(&format!("# TYPE {name} {kind}\n")),
                "{name}\n{text}"
            );
        }
        assert!(text.contains("# TYPE okta_request_duration_seconds histogram\n"));
        for line in [
            r#"trigger_records_delivered_total{instance="audit \"main\"",trigger="new_events"} 10"#,
            r#"trigger_sink_errors_total{instance="a\\b",trigger="new_user"} 1"#,
            r#"trigger_lag_seconds{instance="line\nbreak",trigger="new_events"} 1.5"#,
            r#"hook_deliveries_total{instance="rt",status="200"} 1"#,
            r#"hook_deliveries_total{instance="rt",status="401"} 1"#,
            r#"hook_events_total{instance="rt"} 40"#,
            r#"http_requests_total{route="/v1/actions",status="200"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
        assert_eq!(
            m.get("hook_events_total", &[("instance", "rt")]),
            Some(40.0)
        );
        assert_eq!(m.get("hook_events_total", &[("instance", "nope")]), None);
        // Every sample line is `name{labels} value` or `name value`, value a number.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok() || value == "+Inf", "{line}");
        }
    }

    #[test]
    fn a_client_observer_counts_requests_durations_limits_waits_and_retries() {
        let m = Metrics::new();
        let o = m.client_observer("prod");
        let get = Method::GET;
        let bucket = "GET /api/v1/users/{id}";
        o.attempt(&attempt(&get, bucket, AttemptOutcome::Status(200), 30));
        o.attempt(&attempt(&get, bucket, AttemptOutcome::Status(200), 700));
        o.attempt(&attempt(
            &get,
            bucket,
            AttemptOutcome::Failed(okta_client::ErrorKind::Timeout),
            40_000,
        ));
        // A concurrency 429's zeros leave the bucket's gauges alone.
        let mut concurrency = attempt(&get, bucket, AttemptOutcome::Status(429), 5);
        (concurrency.limit, concurrency.remaining) = (Some(0), Some(0));
        o.attempt(&concurrency);
        o.waited(bucket, WaitReason::RateLimited, Duration::from_millis(2500));
        o.waited(bucket, WaitReason::RateLimited, Duration::from_millis(500));
        o.waited(bucket, WaitReason::Pacing, Duration::from_millis(250));
        o.retry(&Retry {
            method: &get,
            bucket,
            attempt: 1,
            reason: RetryReason::ConcurrencyLimited,
            after: Duration::from_secs(1),
            request_id: None,
        });
        let text = m.render();
        let labels = r#"connection="prod",bucket="GET /api/v1/users/{id}""#;
        for line in [
            format!(r#"okta_requests_total{{{labels},status="200"}} 2"#),
            format!(r#"okta_requests_total{{{labels},status="timeout"}} 1"#),
            format!(r#"okta_requests_total{{{labels},status="429"}} 1"#),
            format!(r#"okta_rate_limit_limit{{{labels}}} 600"#),
            format!(r#"okta_rate_limit_remaining{{{labels}}} 599"#),
            format!(r#"okta_throttled_seconds_total{{{labels},reason="rate_limited"}} 3"#),
            format!(r#"okta_throttled_seconds_total{{{labels},reason="pacing"}} 0.25"#),
            r#"okta_retries_total{connection="prod",reason="concurrency_limited"} 1"#.to_string(),
            format!(r#"okta_request_duration_seconds_bucket{{{labels},le="0.01"}} 1"#),
            format!(r#"okta_request_duration_seconds_bucket{{{labels},le="0.05"}} 2"#),
            format!(r#"okta_request_duration_seconds_bucket{{{labels},le="1"}} 3"#),
            format!(r#"okta_request_duration_seconds_bucket{{{labels},le="30"}} 3"#),
            format!(r#"okta_request_duration_seconds_bucket{{{labels},le="+Inf"}} 4"#),
            format!(r#"okta_request_duration_seconds_count{{{labels}}} 4"#),
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
        let sum = format!("okta_request_duration_seconds_sum{{{labels}}} ");
        let sum: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix(&sum))
            .unwrap()
            .parse()
            .unwrap();
        assert!((sum - 40.735).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn numbers_in_the_formats_spelling() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(1e20), "100000000000000000000");
    }
}
