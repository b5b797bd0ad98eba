//! The simulator's clock. Every timestamp the org writes (created, published, rate-limit resets, the
//! `Date` header) comes from here, so tests can freeze or advance time instead of sleeping.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Default)]
pub struct Clock {
    /// Milliseconds added to the wall clock (moved by `advance`).
    offset_ms: AtomicI64,
    /// When frozen, the fixed instant in epoch milliseconds.
    frozen: AtomicBool,
    frozen_at_ms: AtomicI64,
}

impl Clock {
    /// Epoch milliseconds on the simulated clock.
    pub fn now_ms(&self) -> i64 {
        if self.frozen.load(Ordering::Acquire) {
            return self.frozen_at_ms.load(Ordering::Acquire);
        }
        wall_ms().saturating_add(self.offset_ms.load(Ordering::Acquire))
    }

    /// Stops the clock at its current reading (or at `at_ms`).
    pub fn freeze(&self, at_ms: Option<i64>) {
        let at = at_ms.unwrap_or_else(|| self.now_ms());
        self.frozen_at_ms.store(at, Ordering::Release);
        self.frozen.store(true, Ordering::Release);
    }

    /// Lets the clock run again from where it stands.
    pub fn unfreeze(&self) {
        if self.frozen.swap(false, Ordering::AcqRel) {
            let at = self.frozen_at_ms.load(Ordering::Acquire);
            self.offset_ms.store(at - wall_ms(), Ordering::Release);
        }
    }

    /// Moves the clock forward (frozen or not).
    pub fn advance_ms(&self, ms: i64) {
        let add = |v: i64| Some(v.saturating_add(ms));
        let slot = if self.frozen.load(Ordering::Acquire) {
            &self.frozen_at_ms
        } else {
            &self.offset_ms
        };
        let _ = slot.fetch_update(Ordering::AcqRel, Ordering::Acquire, add);
    }

    pub fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::Acquire)
    }
}

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Okta's timestamp form: `2024-05-02T18:46:21.121Z` (always milliseconds, always `Z`).
pub fn iso_ms(epoch_ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(epoch_ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Parses the ISO-8601 forms Okta accepts in `since`/`until` and in filters.
pub fn parse_iso(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// RFC 1123 `Date` header value, e.g. `Tue, 15 Nov 1994 08:12:31 GMT`.
pub fn http_date(epoch_ms: i64) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = OffsetDateTime::from_unix_timestamp(epoch_ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[t.weekday().number_days_from_monday() as usize],
        t.day(),
        MONTHS[t.month() as usize - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_okta() {
        assert_eq!(iso_ms(1_609_459_200_123), "2021-01-01T00:00:00.123Z");
        assert_eq!(http_date(784_887_151_000), "Tue, 15 Nov 1994 08:12:31 GMT");
        assert_eq!(
            parse_iso("2021-01-01T00:00:00.123Z"),
            Some(1_609_459_200_123)
        );
        assert_eq!(
            parse_iso("2021-01-01T01:00:00+01:00"),
            Some(1_609_459_200_000)
        );
        assert_eq!(parse_iso("yesterday"), None);
    }

    #[test]
    fn freeze_and_advance() {
        let c = Clock::default();
        c.freeze(Some(1000));
        assert_eq!(c.now_ms(), 1000);
        c.advance_ms(500);
        assert_eq!(c.now_ms(), 1500);
        c.unfreeze();
        assert!((c.now_ms() - 1500).abs() < 1000);
    }
}
