//! Whether and when to retry, as a pure function of the policy, the attempt and the outcome
//! ([`decide`]), unit-tested without I/O. The client does the sleeping and the resending.
//!
//! The rules, and why:
//! * **429** waits `X-Rate-Limit-Reset − Date + 1 s` like Okta's SDKs: both are the server's clock, so
//!   the local clock's skew does not matter. Repeated headers count by their minimum (Python and Java
//!   SDKs). Without a usable pair, exponential backoff.
//! * **Concurrency 429** (`Limit = Remaining = 0`): the reset is only an estimate there and the limit
//!   frees up as soon as other requests finish, so a short exponential backoff, not the reset.
//! * **502, 503, 504**: the gateway or service was briefly unavailable: retried for idempotent methods.
//! * **500**: retried for safe methods (GET, HEAD) only: Okta answers 500 E0000009 when a System Log
//!   query times out, which a second try often passes; for a write, a 500 may hide a change that
//!   happened, so it is reported.
//! * **Connection errors**: retried for every method when the request surely never left (connect
//!   failed); when it may have reached Okta (reset mid-exchange, timeout) only for idempotent methods.
//! * A POST (not idempotent) is otherwise never retried: a second `create user` could create twice.
//! * TLS failures, redirects, other 4xx: not retried (they do not heal by themselves).
//!
//! Backoff is exponential with full jitter (`random(0, min(max, base · 2^(n−1)))`): clients that
//! failed together do not come back together. Attempts are bounded, and no wait starts that would end
//! past the deadline.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;

use crate::error::ErrorKind;

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// No retry starts after this much time since the first attempt; no wait ends after it.
    pub deadline: Duration,
    /// First backoff for 5xx and connection errors; doubles each time, with jitter.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Added to `X-Rate-Limit-Reset − Date` on a 429 (Okta's SDKs add 1 s: the reset is whole seconds).
    pub rate_limit_margin: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            deadline: Duration::from_secs(300),
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            rate_limit_margin: Duration::from_secs(1),
        }
    }
}

/// What an attempt came back with.
#[derive(Clone, Copy, Debug)]
pub enum Outcome<'a> {
    /// A response with a non-2xx status.
    Status { status: u16, headers: &'a HeaderMap },
    /// No response. `sent`: the request may have reached the server (false only when connecting
    /// failed).
    Transport { kind: ErrorKind, sent: bool },
}

/// What to do after a failed attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    Retry { after: Duration },
    GiveUp { reason: String },
}

/// How an outcome is retried, before the budget is considered.
#[derive(Clone, Debug, PartialEq)]
pub enum Class {
    /// Wait exactly this long (a 429 with its reset).
    Wait(Duration),
    /// Exponential backoff with jitter.
    Backoff,
    /// Not worth retrying; the reason says why.
    Fatal(&'static str),
}

/// How this outcome would be retried, ignoring attempts and deadline.
pub fn classify(policy: &RetryPolicy, method: &Method, outcome: &Outcome<'_>) -> Class {
    let idempotent = matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE
    );
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    match *outcome {
        Outcome::Status {
            status: 429,
            headers,
        } => {
            let limits = RateLimitHeaders::parse(headers);
            if limits.is_concurrency() {
                return Class::Backoff;
            }
            match limits.seconds_to_reset() {
                Some(s) => Class::Wait(Duration::from_secs(s) + policy.rate_limit_margin),
                None => Class::Backoff,
            }
        }
        Outcome::Status {
            status: 502..=504, ..
        } if idempotent => Class::Backoff,
        Outcome::Status { status: 500, .. } if safe => Class::Backoff,
        Outcome::Status {
            status: 500 | 502..=504,
            ..
        } => Class::Fatal("the server failed and the request is not safe to repeat"),
        Outcome::Status { .. } => Class::Fatal("the answer will not change on a retry"),
        Outcome::Transport {
            kind: ErrorKind::Connect,
            sent: false,
        } => Class::Backoff,
        Outcome::Transport {
            kind: ErrorKind::Connect | ErrorKind::Timeout,
            ..
        } if idempotent => Class::Backoff,
        Outcome::Transport {
            kind: ErrorKind::Connect | ErrorKind::Timeout,
            ..
        } => Class::Fatal("the request may have reached Okta and is not safe to repeat"),
        Outcome::Transport { .. } => Class::Fatal("the failure will not heal on a retry"),
    }
}

/// The decision after attempt number `attempt` (1 = the first) failed with `outcome`, `elapsed`
/// after the first attempt started. `jitter` is a uniform random number in `[0, 1)`, passed in so
/// this stays pure.
pub fn decide(
    policy: &RetryPolicy,
    method: &Method,
    attempt: u32,
    elapsed: Duration,
    outcome: &Outcome<'_>,
    jitter: f64,
) -> Decision {
    let after = match classify(policy, method, outcome) {
        Class::Fatal(reason) => return give_up(reason),
        Class::Wait(after) => after,
        Class::Backoff => backoff(policy, attempt, jitter),
    };
    if attempt >= policy.max_attempts {
        return give_up(&format!("gave up after {attempt} attempts"));
    }
    if elapsed + after > policy.deadline {
        return give_up(&format!(
            "gave up after {attempt} attempts: waiting {} s more would pass the {} s deadline",
            after.as_secs_f64().ceil(),
            policy.deadline.as_secs()
        ));
    }
    Decision::Retry { after }
}

fn give_up(reason: &str) -> Decision {
    Decision::GiveUp {
        reason: reason.to_string(),
    }
}

/// Full jitter: uniform in `[0, min(max_backoff, base · 2^(attempt−1))]`.
pub fn backoff(policy: &RetryPolicy, attempt: u32, jitter: f64) -> Duration {
    let exp = policy
        .base_backoff
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    exp.min(policy.max_backoff).mul_f64(jitter.clamp(0.0, 1.0))
}

/// A uniform random number in `[0, 1)` from the OS (no RNG state to seed or share).
pub fn random_jitter() -> f64 {
    let mut bytes = [0u8; 8];
    // getrandom fails only on exotic platforms; no jitter (the full backoff) is a safe fallback.
    if getrandom::fill(&mut bytes).is_err() {
        return 1.0;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

/// The `X-Rate-Limit-*` headers and `Date` of a response; a repeated header counts by its minimum.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RateLimitHeaders {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// Epoch seconds when the window resets.
    pub reset: Option<i64>,
    /// The server's clock (`Date`), epoch seconds.
    pub date: Option<i64>,
}

impl RateLimitHeaders {
    pub fn parse(headers: &HeaderMap) -> Self {
        RateLimitHeaders {
            limit: min_header(headers, "x-rate-limit-limit"),
            remaining: min_header(headers, "x-rate-limit-remaining"),
            reset: min_header(headers, "x-rate-limit-reset"),
            date: headers
                .get("date")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_http_date),
        }
    }

    /// Okta's concurrency 429 sets both to 0 (a rate 429 keeps the bucket's limit).
    pub fn is_concurrency(&self) -> bool {
        self.limit == Some(0) && self.remaining == Some(0)
    }

    /// `Reset − Date`, never negative, when both are known.
    pub fn seconds_to_reset(&self) -> Option<u64> {
        Some(self.reset?.saturating_sub(self.date?).max(0) as u64)
    }
}

/// The smallest value over repeated header lines and comma-joined values.
fn min_header<T: std::str::FromStr + Ord>(headers: &HeaderMap, name: &str) -> Option<T> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|v| v.trim().parse().ok())
        .min()
}

/// An HTTP date (RFC 1123, `Sun, 06 Nov 1994 08:49:37 GMT`) as epoch seconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let t = time::PrimitiveDateTime::parse(s.trim(), format).ok()?;
    Some(t.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn status(status: u16, h: &HeaderMap) -> Outcome<'_> {
        Outcome::Status { status, headers: h }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
    }

    const DATE: &str = "Mon, 22 Sep 2025 10:00:00 GMT"; // 1758535200
    const T: i64 = 1758535200;

    fn get(outcome: &Outcome<'_>, attempt: u32) -> Decision {
        decide(
            &policy(),
            &Method::GET,
            attempt,
            Duration::ZERO,
            outcome,
            0.5,
        )
    }

    #[test]
    fn parses_http_dates() {
        assert_eq!(parse_http_date(DATE), Some(T));
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784111777)
        );
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(parse_http_date("2025-09-22T10:00:00Z"), None);
    }

    #[test]
    fn rate_limit_429_waits_reset_minus_date_plus_one() {
        let reset = (T + 42).to_string();
        let h = headers(&[
            ("date", DATE),
            ("x-rate-limit-limit", "600"),
            ("x-rate-limit-remaining", "0"),
            ("x-rate-limit-reset", &reset),
        ]);
        assert_eq!(
            get(&status(429, &h), 1),
            Decision::Retry {
                after: Duration::from_secs(43)
            }
        );
    }

    #[test]
    fn repeated_reset_headers_count_by_their_minimum() {
        let (a, b) = ((T + 50).to_string(), (T + 9).to_string());
        let h = headers(&[
            ("date", DATE),
            ("x-rate-limit-limit", "600"),
            ("x-rate-limit-remaining", "0"),
            ("x-rate-limit-reset", &a),
            ("x-rate-limit-reset", &b),
        ]);
        assert_eq!(
            get(&status(429, &h), 1),
            Decision::Retry {
                after: Duration::from_secs(10)
            }
        );
        let joined = format!("{a}, {b}");
        let h = headers(&[("date", DATE), ("x-rate-limit-reset", &joined)]);
        assert_eq!(RateLimitHeaders::parse(&h).reset, Some(T + 9));
    }

    #[test]
    fn reset_in_the_past_waits_the_margin_only() {
        let reset = (T - 5).to_string();
        let h = headers(&[("date", DATE), ("x-rate-limit-reset", &reset)]);
        assert_eq!(
            get(&status(429, &h), 1),
            Decision::Retry {
                after: Duration::from_secs(1)
            }
        );
    }

    #[test]
    fn rate_limit_429_without_date_or_reset_backs_off() {
        let reset = (T + 42).to_string();
        for h in [
            headers(&[("x-rate-limit-reset", &reset)]),
            headers(&[("date", DATE)]),
            headers(&[("date", "garbage"), ("x-rate-limit-reset", &reset)]),
        ] {
            // attempt 1, jitter 0.5: half of the 500 ms base.
            assert_eq!(
                get(&status(429, &h), 1),
                Decision::Retry {
                    after: Duration::from_millis(250)
                }
            );
        }
    }

    #[test]
    fn concurrency_429_backs_off_instead_of_waiting_for_reset() {
        let reset = (T + 60).to_string();
        let h = headers(&[
            ("date", DATE),
            ("x-rate-limit-limit", "0"),
            ("x-rate-limit-remaining", "0"),
            ("x-rate-limit-reset", &reset),
        ]);
        assert!(RateLimitHeaders::parse(&h).is_concurrency());
        assert_eq!(
            get(&status(429, &h), 2),
            Decision::Retry {
                after: Duration::from_millis(500)
            }
        );
        // A 429 that merely used the last request of a bucket is not a concurrency 429.
        let h = headers(&[
            ("x-rate-limit-limit", "600"),
            ("x-rate-limit-remaining", "0"),
        ]);
        assert!(!RateLimitHeaders::parse(&h).is_concurrency());
    }

    #[test]
    fn post_429_is_retried() {
        let reset = (T + 3).to_string();
        let h = headers(&[("date", DATE), ("x-rate-limit-reset", &reset)]);
        let d = decide(
            &policy(),
            &Method::POST,
            1,
            Duration::ZERO,
            &status(429, &h),
            0.5,
        );
        assert_eq!(
            d,
            Decision::Retry {
                after: Duration::from_secs(4)
            }
        );
    }

    #[test]
    fn gateway_errors_retried_for_idempotent_methods_only() {
        let h = HeaderMap::new();
        for s in [502, 503, 504] {
            for m in [Method::GET, Method::PUT, Method::DELETE] {
                let d = decide(&policy(), &m, 1, Duration::ZERO, &status(s, &h), 1.0);
                assert_eq!(
                    d,
                    Decision::Retry {
                        after: Duration::from_millis(500)
                    },
                    "{m} {s}"
                );
            }
            let d = decide(
                &policy(),
                &Method::POST,
                1,
                Duration::ZERO,
                &status(s, &h),
                1.0,
            );
            assert!(matches!(d, Decision::GiveUp { .. }), "POST {s}");
        }
    }

    #[test]
    fn internal_error_retried_for_safe_methods_only() {
        let h = HeaderMap::new();
        assert!(matches!(get(&status(500, &h), 1), Decision::Retry { .. }));
        for m in [Method::PUT, Method::DELETE, Method::POST] {
            let d = decide(&policy(), &m, 1, Duration::ZERO, &status(500, &h), 1.0);
            assert!(matches!(d, Decision::GiveUp { .. }), "{m}");
        }
    }

    #[test]
    fn client_errors_are_not_retried() {
        let h = HeaderMap::new();
        for s in [400, 401, 403, 404, 405, 409, 501] {
            assert!(
                matches!(get(&status(s, &h), 1), Decision::GiveUp { .. }),
                "{s}"
            );
        }
    }

    #[test]
    fn connection_errors() {
        let refused = Outcome::Transport {
            kind: ErrorKind::Connect,
            sent: false,
        };
        let broken = Outcome::Transport {
            kind: ErrorKind::Connect,
            sent: true,
        };
        let timeout = Outcome::Transport {
            kind: ErrorKind::Timeout,
            sent: true,
        };
        let tls = Outcome::Transport {
            kind: ErrorKind::Tls,
            sent: false,
        };
        let p = policy();
        let d = |m: &Method, o| decide(&p, m, 1, Duration::ZERO, o, 0.5);
        // Never reached Okta: safe to resend even a POST.
        assert!(matches!(d(&Method::POST, &refused), Decision::Retry { .. }));
        assert!(matches!(d(&Method::POST, &broken), Decision::GiveUp { .. }));
        assert!(matches!(
            d(&Method::POST, &timeout),
            Decision::GiveUp { .. }
        ));
        assert!(matches!(d(&Method::GET, &broken), Decision::Retry { .. }));
        assert!(matches!(d(&Method::GET, &timeout), Decision::Retry { .. }));
        assert!(matches!(d(&Method::GET, &tls), Decision::GiveUp { .. }));
    }

    #[test]
    fn backoff_doubles_with_full_jitter_and_a_cap() {
        let p = policy();
        assert_eq!(backoff(&p, 1, 1.0), Duration::from_millis(500));
        assert_eq!(backoff(&p, 2, 1.0), Duration::from_millis(1000));
        assert_eq!(backoff(&p, 4, 1.0), Duration::from_millis(4000));
        assert_eq!(backoff(&p, 4, 0.25), Duration::from_millis(1000));
        assert_eq!(backoff(&p, 4, 0.0), Duration::ZERO);
        assert_eq!(backoff(&p, 10, 1.0), Duration::from_secs(30));
        assert_eq!(backoff(&p, u32::MAX, 1.0), Duration::from_secs(30));
    }

    #[test]
    fn attempts_are_bounded() {
        let h = HeaderMap::new();
        let p = RetryPolicy {
            max_attempts: 3,
            ..policy()
        };
        let d = |n| decide(&p, &Method::GET, n, Duration::ZERO, &status(503, &h), 0.5);
        assert!(matches!(d(1), Decision::Retry { .. }));
        assert!(matches!(d(2), Decision::Retry { .. }));
        assert_eq!(
            d(3),
            Decision::GiveUp {
                reason: "gave up after 3 attempts".into()
            }
        );
        let one = RetryPolicy {
            max_attempts: 1,
            ..policy()
        };
        let d = decide(&one, &Method::GET, 1, Duration::ZERO, &status(503, &h), 0.5);
        assert!(matches!(d, Decision::GiveUp { .. }));
    }

    #[test]
    fn no_wait_ends_past_the_deadline() {
        let reset = (T + 30).to_string();
        let h = headers(&[("date", DATE), ("x-rate-limit-reset", &reset)]);
        let p = RetryPolicy {
            deadline: Duration::from_secs(60),
            ..policy()
        };
        let d = |elapsed| decide(&p, &Method::GET, 1, elapsed, &status(429, &h), 0.5);
        assert!(matches!(d(Duration::from_secs(29)), Decision::Retry { .. }));
        assert!(matches!(
            d(Duration::from_secs(29) + Duration::from_millis(1)),
            Decision::GiveUp { .. }
        ));
        match d(Duration::from_secs(40)) {
            Decision::GiveUp { reason } => assert!(reason.contains("deadline"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn jitter_is_in_unit_interval() {
        for _ in 0..100 {
            let j = random_jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
