//! The daemon's metrics, rendered for Prometheus by /metrics.

/// Every counter and gauge the daemon exports. Cheap to update from any task.
#[derive(Debug, Default)]
pub struct Metrics {}

impl Metrics {
    pub fn new() -> Self {
        Metrics::default()
    }

    /// A trigger instance delivered a batch of `records`.
    pub fn delivered(&self, _instance: &str, _trigger: &str, _records: u64) {}

    /// A sink did not acknowledge a batch.
    pub fn sink_error(&self, _instance: &str, _trigger: &str) {}

    /// How far a trigger instance is behind: seconds since it last caught up (0 when caught up).
    pub fn lag(&self, _instance: &str, _trigger: &str, _seconds: f64) {}

    /// An Event Hook delivery of `events` was accepted (or refused, with its status).
    pub fn hook_delivery(&self, _instance: &str, _status: u16, _events: u64) {}
}
