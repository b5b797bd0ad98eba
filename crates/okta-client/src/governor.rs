//! Rate-limit pacing from the `X-Rate-Limit-*` headers, so this client leaves most of each bucket to
//! the org's other integrations and never runs a bucket dry.
//!
//! Every response's `Limit`, `Remaining` and `Reset` update the state of its bucket. Before a request:
//! * **Share**: the client keeps `ceil(limit · (1 − max_share))` requests of the window untouched.
//!   `Remaining` counts everybody's requests, so this errs to the safe side: the client stops early
//!   when others are busy too. When the allowance is used up, it waits for the reset (+ a margin: the
//!   reset and `Date` are whole seconds).
//! * **Spread**: the allowance left is spread evenly over the time left in the window instead of
//!   being spent in a burst at its start.
//! * **In flight**: requests sent but not answered count as spent, so concurrent callers sharing a
//!   client do not all see the same `Remaining`.
//!
//! Okta does not name its buckets in the headers, so [`bucket_key`] approximates one by method and
//! path shape (ids replaced): `GET /api/v1/users/{id}`, `GET /api/v1/users`, `GET /api/v1/logs`.
//! Keys are at least as fine as Okta's buckets, so the headers a key sees come from one bucket; two
//! keys in the same bucket both read its `Remaining` and still stop at the reserve. A bucket not
//! seen yet is not paced: its first answer says how big it is.
//!
//! Times come from the server (`Reset − Date`) mapped onto the local monotonic clock when the
//! answer arrives, so clock skew between here and Okta does not matter. [`Governor::admit`] and
//! [`Governor::observe`] are pure state transitions given `now`; the client does the sleeping.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::retry::RateLimitHeaders;

/// The governor's knobs.
#[derive(Clone, Debug)]
pub struct GovernorConfig {
    /// The largest share of any bucket this client may use (0 < share <= 1).
    pub max_share: f64,
    /// Waited beyond a window's reset before counting it as a new window.
    pub reset_margin: Duration,
    /// Okta's window length, used to guess the next window's reset until an answer says.
    pub window: Duration,
}

impl Default for GovernorConfig {
    fn default() -> Self {
        GovernorConfig {
            max_share: 0.5,
            reset_margin: Duration::from_secs(1),
            window: Duration::from_secs(60),
        }
    }
}

/// What a request must do before it is sent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Admission {
    /// Admitted (and counted in flight): send after waiting this long (zero: now).
    Go { after: Duration },
    /// The share of this window is used up: wait this long, then ask again.
    Blocked { retry_in: Duration },
}

/// One bucket as this client knows it.
#[derive(Clone, Debug)]
struct Bucket {
    limit: u64,
    remaining: u64,
    /// The server's `Reset` (epoch s), to tell a newer window from a late answer of an older one.
    reset_epoch: i64,
    /// The reset on the local clock.
    reset_at: Instant,
    /// True while the window is a guess (the old one ended and no answer has come yet).
    guessed: bool,
    in_flight: u64,
    /// The earliest start of the next request (even spread).
    next_slot: Instant,
}

/// Paces requests per bucket. Shared by all clones of a client.
#[derive(Debug)]
pub struct Governor {
    config: GovernorConfig,
    buckets: Mutex<HashMap<String, BucketEntry>>,
}

#[derive(Debug, Default)]
struct BucketEntry {
    known: Option<Bucket>,
    /// In flight before the bucket was known (their answers will still arrive).
    in_flight_unknown: u64,
}

impl Governor {
    pub fn new(config: GovernorConfig) -> Self {
        Governor {
            config,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &GovernorConfig {
        &self.config
    }

    /// Asks to send a request on `key` at `now`. A `Go` counts the request in flight until
    /// [`Governor::observe`] is called for it.
    pub fn admit(&self, key: &str, now: Instant) -> Admission {
        let mut buckets = self.buckets.lock();
        let entry = buckets.entry(key.to_string()).or_default();
        let Some(b) = entry.known.as_mut() else {
            entry.in_flight_unknown += 1;
            return Admission::Go {
                after: Duration::ZERO,
            };
        };
        if now >= b.reset_at + self.config.reset_margin {
            // The window is over: assume a fresh one until an answer tells the real reset.
            let windows = 1 + (now - b.reset_at).as_secs() / self.config.window.as_secs().max(1);
            b.remaining = b.limit;
            b.reset_at += self.config.window * windows as u32;
            b.reset_epoch += (self.config.window.as_secs() * windows) as i64;
            b.guessed = true;
            b.next_slot = now;
        }
        let reserve = (b.limit as f64 * (1.0 - self.config.max_share)).ceil() as u64;
        let available = b.remaining.saturating_sub(reserve + b.in_flight);
        if available == 0 {
            return Admission::Blocked {
                retry_in: b.reset_at.saturating_duration_since(now) + self.config.reset_margin,
            };
        }
        let start = b.next_slot.max(now);
        let interval = b.reset_at.saturating_duration_since(start) / available as u32;
        b.next_slot = start + interval;
        b.in_flight += 1;
        Admission::Go { after: start - now }
    }

    /// Records the answer to an admitted request (`None`: no answer or no usable headers) and ends
    /// its time in flight.
    pub fn observe(&self, key: &str, now: Instant, headers: Option<&RateLimitHeaders>) {
        let mut buckets = self.buckets.lock();
        let entry = buckets.entry(key.to_string()).or_default();
        match entry.known.as_mut() {
            Some(b) => b.in_flight = b.in_flight.saturating_sub(1),
            None => entry.in_flight_unknown = entry.in_flight_unknown.saturating_sub(1),
        }
        let Some(h) = headers else { return };
        let (Some(limit), Some(remaining), Some(reset), Some(date)) =
            (h.limit, h.remaining, h.reset, h.date)
        else {
            return;
        };
        // A concurrency 429 (limit 0) says nothing about the bucket.
        if limit == 0 {
            return;
        }
        let reset_at = now + Duration::from_secs(reset.saturating_sub(date).max(0) as u64);
        match entry.known.as_mut() {
            Some(b) if !b.guessed && reset < b.reset_epoch => {} // a late answer from an old window
            Some(b) if !b.guessed && reset == b.reset_epoch => {
                b.remaining = b.remaining.min(remaining);
                b.limit = limit;
            }
            Some(b) => {
                b.limit = limit;
                b.remaining = remaining;
                b.reset_epoch = reset;
                b.reset_at = reset_at;
                b.guessed = false;
            }
            None => {
                entry.known = Some(Bucket {
                    limit,
                    remaining,
                    reset_epoch: reset,
                    reset_at,
                    guessed: false,
                    // Answers still owed for requests sent before the bucket was known.
                    in_flight: entry.in_flight_unknown,
                    next_slot: now,
                });
                entry.in_flight_unknown = 0;
            }
        }
    }
}

/// The bucket key of a request: the method and the path with ids replaced by `{id}`.
///
/// A segment counts as an id unless it is a short lowercase word such as `users` or `v1` (Okta ids
/// start with a digit or mix cases; logins have `@` or `.`). Query strings do not matter to Okta's buckets.
pub fn bucket_key(method: &str, path: &str) -> String {
    let mut key = String::with_capacity(method.len() + path.len() + 1);
    key.push_str(method);
    key.push(' ');
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        key.push('/');
        let word = seg.len() < 20
            && seg.starts_with(|c: char| c.is_ascii_lowercase())
            && seg
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_');
        key.push_str(if word { seg } else { "{id}" });
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(limit: u64, remaining: u64, reset_in: i64) -> RateLimitHeaders {
        RateLimitHeaders {
            limit: Some(limit),
            remaining: Some(remaining),
            reset: Some(1_000 + reset_in),
            date: Some(1_000),
        }
    }

    fn go(a: Admission) -> Duration {
        match a {
            Admission::Go { after } => after,
            other => panic!("expected Go, got {other:?}"),
        }
    }

    const K: &str = "GET /api/v1/logs";

    #[test]
    fn keys_replace_ids() {
        assert_eq!(bucket_key("GET", "/api/v1/users"), "GET /api/v1/users");
        assert_eq!(
            bucket_key("GET", "/api/v1/users/00ub0oNGTSWTBKOLGLNR"),
            "GET /api/v1/users/{id}"
        );
        assert_eq!(
            bucket_key("GET", "/api/v1/users/jane.doe@example.com"),
            "GET /api/v1/users/{id}"
        );
        assert_eq!(
            bucket_key(
                "POST",
                "/api/v1/users/00ub0oNGTSWTBKOLGLNR/lifecycle/activate"
            ),
            "POST /api/v1/users/{id}/lifecycle/activate"
        );
        assert_eq!(
            bucket_key("GET", "/api/v1/groups/00g1/users"),
            "GET /api/v1/groups/{id}/users"
        );
        assert_eq!(bucket_key("GET", "/api/v1/logs"), K);
    }

    #[test]
    fn unknown_bucket_goes_at_once() {
        let g = Governor::new(GovernorConfig::default());
        let now = Instant::now();
        for _ in 0..10 {
            assert_eq!(go(g.admit(K, now)), Duration::ZERO);
        }
    }

    #[test]
    fn spreads_the_share_over_the_window() {
        let g = Governor::new(GovernorConfig::default());
        let now = Instant::now();
        go(g.admit(K, now));
        // 120/min, 119 left, 60 s to reset: 59 may be used (60 kept), one every ~1.017 s.
        g.observe(K, now, Some(&headers(120, 119, 60)));
        assert_eq!(go(g.admit(K, now)), Duration::ZERO);
        let second = go(g.admit(K, now));
        assert!(
            second > Duration::from_millis(1000) && second < Duration::from_millis(1040),
            "{second:?}"
        );
    }

    #[test]
    fn blocks_when_the_share_is_used_until_reset() {
        let g = Governor::new(GovernorConfig::default());
        let now = Instant::now();
        go(g.admit(K, now));
        g.observe(K, now, Some(&headers(120, 60, 20)));
        assert_eq!(
            g.admit(K, now),
            Admission::Blocked {
                retry_in: Duration::from_secs(21)
            }
        );
        // After the reset (and the margin) a new window is assumed.
        let later = now + Duration::from_secs(21);
        assert_eq!(go(g.admit(K, later)), Duration::ZERO);
    }

    #[test]
    fn in_flight_requests_count_as_spent() {
        let g = Governor::new(GovernorConfig {
            max_share: 1.0,
            ..GovernorConfig::default()
        });
        let now = Instant::now();
        go(g.admit(K, now));
        g.observe(K, now, Some(&headers(10, 3, 60)));
        // 3 left: three admitted (spread), the fourth blocked while they are in flight.
        for _ in 0..3 {
            go(g.admit(K, now));
        }
        assert!(matches!(g.admit(K, now), Admission::Blocked { .. }));
        g.observe(K, now, Some(&headers(10, 2, 60)));
        // The answer says 2 left but two are still in flight.
        assert!(matches!(g.admit(K, now), Admission::Blocked { .. }));
    }

    #[test]
    fn answers_in_the_same_window_keep_the_lowest_remaining() {
        let g = Governor::new(GovernorConfig {
            max_share: 1.0,
            ..GovernorConfig::default()
        });
        let now = Instant::now();
        go(g.admit(K, now));
        go(g.admit(K, now));
        g.observe(K, now, Some(&headers(10, 1, 60)));
        g.observe(K, now, Some(&headers(10, 5, 60))); // answered late
        go(g.admit(K, now));
        assert!(matches!(g.admit(K, now), Admission::Blocked { .. }));
    }

    #[test]
    fn concurrency_429_headers_are_ignored() {
        let g = Governor::new(GovernorConfig::default());
        let now = Instant::now();
        go(g.admit(K, now));
        g.observe(K, now, Some(&headers(0, 0, 60)));
        assert_eq!(go(g.admit(K, now)), Duration::ZERO);
    }

    #[test]
    fn a_full_window_never_passes_the_share() {
        // Simulate a server: a window of 60 s with limit 100, requests answered instantly.
        let g = Governor::new(GovernorConfig::default());
        let start = Instant::now();
        let mut now = start;
        let (mut used, mut sent_in_first_window) = (0u64, 0u64);
        for _ in 0..200 {
            loop {
                match g.admit(K, now) {
                    Admission::Go { after } => {
                        now += after;
                        break;
                    }
                    Admission::Blocked { retry_in } => now += retry_in,
                }
            }
            let elapsed = (now - start).as_secs() as i64;
            if elapsed >= 60 {
                break;
            }
            used += 1;
            sent_in_first_window += 1;
            let h = RateLimitHeaders {
                limit: Some(100),
                remaining: Some(100 - used),
                reset: Some(1_060),
                date: Some(1_000 + elapsed),
            };
            g.observe(K, now, Some(&h));
        }
        assert_eq!(sent_in_first_window, 50);
    }
}
