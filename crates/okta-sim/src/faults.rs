//! Injected faults, set through the control API: extra latency, a rate of 5xx answers, a rate of
//! connection resets, and 429 storms. They apply to `/api/v1` requests only, and to those under
//! `path_prefix` when one is set.

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::rng::Rng;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FaultConfig {
    /// Added to every response.
    pub latency_ms: u64,
    /// Share of requests (0.0–1.0) answered 500 E0000009 (or 503 when `error_status` says so).
    pub error_rate: f64,
    /// The status of injected errors: 500, 502, 503 or 504.
    pub error_status: Option<u16>,
    /// Share of requests whose connection is dropped without an answer.
    pub reset_rate: f64,
    /// Until this simulated epoch-ms instant every request gets 429 E0000047.
    pub storm_until_ms: Option<i64>,
    /// Only requests whose path starts with this are affected (all when absent).
    pub path_prefix: Option<String>,
}

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    Error(u16),
    Reset,
    TooManyRequests,
}

#[derive(Debug)]
pub struct Faults {
    config: Mutex<FaultConfig>,
    rng: Mutex<Rng>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            config: Mutex::new(FaultConfig::default()),
            rng: Mutex::new(Rng::new(0xFA17)),
        }
    }
}

impl Faults {
    pub fn set(&self, config: FaultConfig) {
        *self.config.lock() = config;
    }

    pub fn get(&self) -> FaultConfig {
        self.config.lock().clone()
    }

    pub fn clear(&self) {
        self.set(FaultConfig::default());
    }

    /// Starts a 429 storm lasting `ms` from `now_ms`.
    pub fn storm(&self, now_ms: i64, ms: i64) {
        self.config.lock().storm_until_ms = Some(now_ms.saturating_add(ms));
    }

    /// The injected latency for a request to `path`.
    pub fn latency_ms(&self, path: &str) -> u64 {
        let c = self.config.lock();
        if c.path_prefix
            .as_deref()
            .is_some_and(|p| !path.starts_with(p))
        {
            return 0;
        }
        c.latency_ms
    }

    /// Decides the fault for one request to `path` at `now_ms`.
    pub fn decide(&self, path: &str, now_ms: i64) -> Fault {
        let c = self.config.lock();
        if c.path_prefix
            .as_deref()
            .is_some_and(|p| !path.starts_with(p))
        {
            return Fault::None;
        }
        if c.storm_until_ms.is_some_and(|until| now_ms < until) {
            return Fault::TooManyRequests;
        }
        if c.reset_rate <= 0.0 && c.error_rate <= 0.0 {
            return Fault::None;
        }
        let mut rng = self.rng.lock();
        if c.reset_rate > 0.0 && rng.chance(c.reset_rate) {
            return Fault::Reset;
        }
        if c.error_rate > 0.0 && rng.chance(c.error_rate) {
            return Fault::Error(c.error_status.unwrap_or(500));
        }
        Fault::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_storms() {
        let f = Faults::default();
        assert_eq!(f.decide("/api/v1/users", 0), Fault::None);
        f.set(FaultConfig {
            error_rate: 1.0,
            error_status: Some(503),
            ..Default::default()
        });
        assert_eq!(f.decide("/api/v1/users", 0), Fault::Error(503));
        f.set(FaultConfig {
            error_rate: 0.5,
            ..Default::default()
        });
        let errors = (0..10_000)
            .filter(|_| f.decide("/api/v1/users", 0) != Fault::None)
            .count();
        assert!((4_500..5_500).contains(&errors), "{errors}");
        f.clear();
        f.storm(1_000, 5_000);
        assert_eq!(f.decide("/api/v1/logs", 2_000), Fault::TooManyRequests);
        assert_eq!(f.decide("/api/v1/logs", 6_000), Fault::None);
        f.set(FaultConfig {
            reset_rate: 1.0,
            path_prefix: Some("/api/v1/logs".into()),
            ..Default::default()
        });
        assert_eq!(f.decide("/api/v1/users", 0), Fault::None);
        assert_eq!(f.decide("/api/v1/logs", 0), Fault::Reset);
        f.set(FaultConfig {
            latency_ms: 50,
            path_prefix: Some("/api/v1/logs".into()),
            ..Default::default()
        });
        assert_eq!(f.latency_ms("/api/v1/users"), 0);
        assert_eq!(f.latency_ms("/api/v1/logs"), 50);
        f.storm(i64::MAX - 1, i64::MAX);
        assert_eq!(
            f.get().storm_until_ms,
            Some(i64::MAX),
            "a long storm saturates"
        );
    }
}
