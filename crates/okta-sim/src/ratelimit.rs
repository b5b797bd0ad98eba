//! Okta's rate limits: per-bucket requests per minute (each bucket a family of endpoints, with the
//! numbers Okta publishes per tier) and the org-wide concurrency limit. A limited request gets 429
//! E0000047; a concurrency 429 reports `X-Rate-Limit-Limit: 0` and `X-Rate-Limit-Remaining: 0`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;

use crate::config::RateLimitTier;

/// Okta's default concurrency limit for Workforce and Customer Identity orgs.
pub const CONCURRENCY_LIMIT: usize = 75;
const WINDOW_MS: i64 = 60_000;
const OFF_LIMIT: u32 = 1_000_000;

/// One rate-limit bucket: a family of endpoints sharing a per-minute counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bucket {
    pub name: &'static str,
    pub workforce: u32,
    pub enterprise: u32,
}

const fn bucket(name: &'static str, workforce: u32, enterprise: u32) -> Bucket {
    Bucket {
        name,
        workforce,
        enterprise,
    }
}

/// Okta's per-minute limits ("Rate limit buckets"), see FACTS.md §3.
pub const LOGS: Bucket = bucket("/api/v1/logs", 120, 50);
pub const USERS: Bucket = bucket("GET,POST /api/v1/users", 600, 600);
pub const USER_GET: Bucket = bucket("GET /api/v1/users/{idOrLogin}", 2000, 1000);
pub const USER_MANAGE: Bucket = bucket("POST,PUT,DELETE /api/v1/users/{id}", 600, 600);
pub const GROUPS: Bucket = bucket("/api/v1/groups", 500, 600);
pub const GROUP_ID: Bucket = bucket("/api/v1/groups/{id}", 1000, 600);
pub const APPS: Bucket = bucket("/api/v1/apps", 100, 100);
pub const APP_ID: Bucket = bucket("/api/v1/apps/{id}", 500, 600);
pub const OTHER: Bucket = bucket("/api/v1 (other)", 1200, 600);

/// Which bucket a request counts against.
pub fn bucket_for(method: &str, path: &str) -> Bucket {
    let segs: Vec<&str> = path
        .trim_start_matches("/api/v1/")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match segs.as_slice() {
        ["logs", ..] => LOGS,
        ["users"] => USERS,
        ["users", _] if method == "GET" => USER_GET,
        // Reads below a user (`/users/{id}/groups`, ...) are in Okta's "most other" bucket.
        ["users", _, ..] if method == "GET" => OTHER,
        ["users", ..] => USER_MANAGE,
        ["groups"] => GROUPS,
        ["groups", ..] => GROUP_ID,
        ["apps", _] => APP_ID,
        ["apps", ..] => APPS,
        _ => OTHER,
    }
}

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Epoch seconds when the window resets.
    pub reset_s: i64,
    /// This is the window's first refused request (Okta logs one violation event per window).
    pub first_refusal: bool,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started_ms: i64,
    used: u32,
    refused: bool,
}

#[derive(Debug)]
pub struct RateLimiter {
    tier: Mutex<RateLimitTier>,
    /// When the last concurrency violation was logged (Okta logs them, but not every refusal).
    last_concurrency_event_ms: Mutex<Option<i64>>,
    windows: Mutex<HashMap<&'static str, Window>>,
    in_flight: Arc<AtomicUsize>,
    concurrency_limit: AtomicUsize,
}

/// Held while a request is in flight; dropping it frees a concurrency slot.
#[derive(Debug)]
pub struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl RateLimiter {
    pub fn new(tier: RateLimitTier) -> Self {
        RateLimiter {
            tier: Mutex::new(tier),
            last_concurrency_event_ms: Mutex::new(None),
            windows: Mutex::new(HashMap::new()),
            in_flight: Arc::new(AtomicUsize::new(0)),
            concurrency_limit: AtomicUsize::new(CONCURRENCY_LIMIT),
        }
    }

    pub fn tier(&self) -> RateLimitTier {
        *self.tier.lock()
    }

    /// Switches tier and starts every window afresh.
    pub fn set_tier(&self, tier: RateLimitTier) {
        *self.tier.lock() = tier;
        self.windows.lock().clear();
    }

    pub fn set_concurrency_limit(&self, n: usize) {
        self.concurrency_limit.store(n, Ordering::Release);
    }

    pub fn limit_of(&self, b: Bucket) -> u32 {
        match self.tier() {
            RateLimitTier::Workforce => b.workforce,
            RateLimitTier::Enterprise => b.enterprise,
            RateLimitTier::Off => OFF_LIMIT,
        }
    }

    /// Counts a request against its bucket. Windows last a minute from their first request, as
    /// Okta's are "not necessarily synchronized with wall clock minutes".
    pub fn check(&self, b: Bucket, now_ms: i64) -> Verdict {
        let limit = self.limit_of(b);
        let mut windows = self.windows.lock();
        let fresh = Window {
            started_ms: now_ms,
            used: 0,
            refused: false,
        };
        let w = windows.entry(b.name).or_insert(fresh);
        if now_ms - w.started_ms >= WINDOW_MS || now_ms < w.started_ms {
            *w = fresh;
        }
        let reset_s = (w.started_ms + WINDOW_MS + 999) / 1000;
        if w.used >= limit {
            let first_refusal = !w.refused;
            w.refused = true;
            return Verdict {
                allowed: false,
                limit,
                remaining: 0,
                reset_s,
                first_refusal,
            };
        }
        w.used += 1;
        Verdict {
            allowed: true,
            limit,
            remaining: limit - w.used,
            reset_s,
            first_refusal: false,
        }
    }

    /// The bucket's state without counting a request (for a 429 storm's headers).
    pub fn peek(&self, b: Bucket, now_ms: i64) -> Verdict {
        let limit = self.limit_of(b);
        let windows = self.windows.lock();
        match windows.get(b.name) {
            Some(w) if now_ms - w.started_ms < WINDOW_MS => Verdict {
                allowed: true,
                limit,
                remaining: limit.saturating_sub(w.used),
                reset_s: (w.started_ms + WINDOW_MS + 999) / 1000,
                first_refusal: false,
            },
            _ => Verdict {
                allowed: true,
                limit,
                remaining: limit,
                reset_s: (now_ms + WINDOW_MS + 999) / 1000,
                first_refusal: false,
            },
        }
    }

    /// Takes a concurrency slot, or `None` when the org already has its limit in flight.
    pub fn enter(&self) -> Option<InFlight> {
        let limit = if self.tier() == RateLimitTier::Off {
            usize::MAX
        } else {
            self.concurrency_limit.load(Ordering::Acquire)
        };
        let prev = self.in_flight.fetch_add(1, Ordering::AcqRel);
        let guard = InFlight(self.in_flight.clone());
        if prev >= limit {
            return None;
        }
        Some(guard)
    }

    /// Whether a concurrency refusal at `now_ms` should be logged: the first one in a minute.
    pub fn first_concurrency_refusal(&self, now_ms: i64) -> bool {
        let mut last = self.last_concurrency_event_ms.lock();
        if last.is_some_and(|t| now_ms - t < WINDOW_MS) {
            return false;
        }
        *last = Some(now_ms);
        true
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_okta_families() {
        assert_eq!(bucket_for("GET", "/api/v1/logs"), LOGS);
        assert_eq!(bucket_for("GET", "/api/v1/users"), USERS);
        assert_eq!(bucket_for("POST", "/api/v1/users"), USERS);
        assert_eq!(bucket_for("GET", "/api/v1/users/00u1"), USER_GET);
        assert_eq!(bucket_for("DELETE", "/api/v1/users/00u1"), USER_MANAGE);
        assert_eq!(
            bucket_for("POST", "/api/v1/users/00u1/lifecycle/activate"),
            USER_MANAGE
        );
        assert_eq!(bucket_for("GET", "/api/v1/users/00u1/groups"), OTHER);
        assert_eq!(bucket_for("GET", "/api/v1/groups"), GROUPS);
        assert_eq!(bucket_for("GET", "/api/v1/groups/00g1/users"), GROUP_ID);
        assert_eq!(bucket_for("GET", "/api/v1/apps/0oa1"), APP_ID);
        assert_eq!(bucket_for("GET", "/api/v1/apps/0oa1/users"), APPS);
        assert_eq!(bucket_for("GET", "/api/v1/meta/types/user"), OTHER);
        // Okta publishes no bucket of its own for event hooks: "most other endpoints".
        assert_eq!(bucket_for("POST", "/api/v1/eventHooks"), OTHER);
        assert_eq!(
            bucket_for("POST", "/api/v1/eventHooks/who1/lifecycle/verify"),
            OTHER
        );
    }

    #[test]
    fn window_counts_down_refuses_then_resets() {
        let rl = RateLimiter::new(RateLimitTier::Enterprise);
        let t0 = 1_000_000;
        for i in 0..50 {
            let v = rl.check(LOGS, t0 + i);
            assert!(v.allowed);
            assert_eq!(v.remaining, 49 - i as u32);
            assert_eq!(v.reset_s, (t0 + 60_000) / 1000);
        }
        let v = rl.check(LOGS, t0 + 100);
        assert!(!v.allowed && v.first_refusal);
        assert_eq!(v.remaining, 0);
        assert!(!rl.check(LOGS, t0 + 101).first_refusal);
        assert!(rl.check(LOGS, t0 + 60_000).allowed);
    }

    #[test]
    fn concurrency_slots_are_released() {
        let rl = RateLimiter::new(RateLimitTier::Workforce);
        rl.set_concurrency_limit(2);
        let a = rl.enter().expect("slot 1");
        let _b = rl.enter().expect("slot 2");
        assert!(rl.enter().is_none());
        drop(a);
        assert!(rl.enter().is_some());
    }
}
