//! When a scheduled search runs: the instants of a monthly, daily or hourly schedule in an IANA time
//! zone, computed from local calendar dates with jiff (so daylight saving time moves the instant,
//! not the local time people scheduled).
//!
//! Daylight saving time:
//! * A local time that does not exist (02:30 on a spring-forward day) runs when the clocks have
//!   moved on, at the same distance past the gap (03:30 local): jiff's "compatible" rule, as in
//!   RFC 5545 and JavaScript's Temporal. The day's search is neither skipped nor doubled.
//! * A local time that happens twice (01:30 on an autumn day) runs once, at its first occurrence
//!   (daily and monthly), so a daily search still runs once a day.
//! * An hourly schedule runs at every instant whose local time shows `minute`: in the repeated hour
//!   it runs twice (each an hour of real time apart) and in the skipped hour not at all, so its
//!   windows stay one real hour long across the change.

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};

/// How often a schedule runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frequency {
    Monthly,
    Daily,
    Hourly,
}

/// A validated schedule.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub frequency: Frequency,
    /// Monthly: days of the month (1–31), sorted and de-duplicated.
    pub month_days: Vec<i8>,
    /// Daily and hourly: which days of the week run, Monday first.
    pub week_days: [bool; 7],
    pub hour: i8,
    pub minute: i8,
    pub tz: TimeZone,
}

/// How far to look for the next or previous run: every valid schedule runs at least once in any
/// 62 days (a monthly one at least once a month), so this is only a guard against a bug looping.
const SEARCH_DAYS: i32 = 800;

impl Schedule {
    /// The first scheduled time strictly after `t`.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        // Start a day early: `t`'s local date may hold runs on either side of it.
        let mut date = self.tz.to_datetime(t).date().yesterday().ok()?;
        for _ in 0..SEARCH_DAYS {
            if let Some(found) = self.on_date(date).into_iter().find(|s| *s > t) {
                return Some(found);
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// The last scheduled time at or before `t`.
    pub fn last_at_or_before(&self, t: Timestamp) -> Option<Timestamp> {
        let mut date = self.tz.to_datetime(t).date().tomorrow().ok()?;
        for _ in 0..SEARCH_DAYS {
            if let Some(found) = self.on_date(date).into_iter().rev().find(|s| *s <= t) {
                return Some(found);
            }
            date = date.yesterday().ok()?;
        }
        None
    }

    /// The runs on one local calendar date, in order.
    fn on_date(&self, date: Date) -> Vec<Timestamp> {
        match self.frequency {
            Frequency::Monthly => {
                // A day past the month's end is its last day (31 → 30 April, 28/29 February).
                let last = date.days_in_month();
                if self.month_days.iter().any(|d| (*d).min(last) == date.day()) {
                    self.once(date, self.hour).into_iter().collect()
                } else {
                    Vec::new()
                }
            }
            Frequency::Daily => {
                if self.runs_on(date.weekday()) {
                    self.once(date, self.hour).into_iter().collect()
                } else {
                    Vec::new()
                }
            }
            Frequency::Hourly => {
                if !self.runs_on(date.weekday()) {
                    return Vec::new();
                }
                let mut runs = Vec::with_capacity(25);
                for hour in 0..24 {
                    let local = date.at(hour, self.minute, 0, 0);
                    let ambiguous = self.tz.to_ambiguous_timestamp(local);
                    match ambiguous.offset() {
                        AmbiguousOffset::Unambiguous { offset } => {
                            runs.extend(offset.to_timestamp(local).ok())
                        }
                        // This local time never shows on the clock: no run this hour.
                        AmbiguousOffset::Gap { .. } => {}
                        // It shows twice, an hour of real time apart: both are runs.
                        AmbiguousOffset::Fold { before, after } => {
                            runs.extend(before.to_timestamp(local).ok());
                            runs.extend(after.to_timestamp(local).ok());
                        }
                    }
                }
                runs
            }
        }
    }

    /// The one run at `hour:minute` local on `date` (see the module docs for DST).
    fn once(&self, date: Date, hour: i8) -> Option<Timestamp> {
        self.tz
            .to_ambiguous_timestamp(date.at(hour, self.minute, 0, 0))
            .compatible()
            .ok()
    }

    fn runs_on(&self, day: Weekday) -> bool {
        self.week_days[day.to_monday_zero_offset() as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(frequency: Frequency, tz: &str, hour: i8, minute: i8) -> Schedule {
        Schedule {
            frequency,
            month_days: vec![1],
            week_days: [true; 7],
            hour,
            minute,
            tz: TimeZone::get(tz).unwrap(),
        }
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// The next `n` runs after `from`, as UTC text.
    fn runs(s: &Schedule, from: &str, n: usize) -> Vec<String> {
        let mut t = ts(from);
        (0..n)
            .map(|_| {
                t = s.next_after(t).unwrap();
                t.to_string()
            })
            .collect()
    }

    #[test]
    fn hourly_in_utc_and_a_half_hour_zone() {
        let s = schedule(Frequency::Hourly, "UTC", 0, 15);
        assert_eq!(
            runs(&s, "2026-05-01T10:15:00Z", 2),
            ["2026-05-01T11:15:00Z", "2026-05-01T12:15:00Z"]
        );
        // India is UTC+05:30: minute 0 local is half past in UTC.
        let s = schedule(Frequency::Hourly, "Asia/Kolkata", 0, 0);
        assert_eq!(
            runs(&s, "2026-05-01T10:00:00Z", 2),
            ["2026-05-01T10:30:00Z", "2026-05-01T11:30:00Z"]
        );
        assert_eq!(
            s.last_at_or_before(ts("2026-05-01T10:30:00Z")).unwrap(),
            ts("2026-05-01T10:30:00Z")
        );
        assert_eq!(
            s.last_at_or_before(ts("2026-05-01T10:29:59Z")).unwrap(),
            ts("2026-05-01T09:30:00Z")
        );
    }

    #[test]
    fn hourly_across_spring_forward_and_fall_back() {
        // New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT. Local 02:30 never happens; the
        // runs stay one real hour apart.
        let s = schedule(Frequency::Hourly, "America/New_York", 0, 30);
        assert_eq!(
            runs(&s, "2026-03-08T06:00:00Z", 3),
            [
                "2026-03-08T06:30:00Z", // 01:30 EST
                "2026-03-08T07:30:00Z", // 03:30 EDT
                "2026-03-08T08:30:00Z", // 04:30 EDT
            ]
        );
        // 1 November 2026: 02:00 EDT falls back to 01:00 EST. Local 01:30 happens twice; both run.
        assert_eq!(
            runs(&s, "2026-11-01T04:00:00Z", 3),
            [
                "2026-11-01T04:30:00Z", // 00:30 EDT
                "2026-11-01T05:30:00Z", // 01:30 EDT
                "2026-11-01T06:30:00Z", // 01:30 EST
            ]
        );
        assert_eq!(
            runs(&s, "2026-11-01T06:30:00Z", 1),
            ["2026-11-01T07:30:00Z"]
        );
    }

    #[test]
    fn daily_across_dst() {
        // 02:30 daily in New York: on the spring-forward day it runs at 03:30 EDT, then back at
        // 02:30 EDT; on the fall-back day 01:30 runs once, at its first (EDT) occurrence.
        let s = schedule(Frequency::Daily, "America/New_York", 2, 30);
        assert_eq!(
            runs(&s, "2026-03-07T00:00:00Z", 3),
            [
                "2026-03-07T07:30:00Z", // 02:30 EST
                "2026-03-08T07:30:00Z", // 03:30 EDT (02:30 does not exist)
                "2026-03-09T06:30:00Z", // 02:30 EDT
            ]
        );
        let s = schedule(Frequency::Daily, "America/New_York", 1, 30);
        assert_eq!(
            runs(&s, "2026-10-31T00:00:00Z", 3),
            [
                "2026-10-31T05:30:00Z", // 01:30 EDT
                "2026-11-01T05:30:00Z", // 01:30 EDT, the first of two
                "2026-11-02T06:30:00Z", // 01:30 EST
            ]
        );
        // Europe moves on another date, at 01:00 UTC: 02:30 in Paris on 29 March 2026 is 03:30 CEST.
        let s = schedule(Frequency::Daily, "Europe/Paris", 2, 30);
        assert_eq!(
            runs(&s, "2026-03-28T12:00:00Z", 2),
            ["2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"]
        );
    }

    #[test]
    fn daily_on_chosen_weekdays() {
        let mut s = schedule(Frequency::Daily, "UTC", 9, 0);
        s.week_days = [true, false, false, false, true, false, false]; // Monday, Friday
        // 1 May 2026 is a Friday.
        assert_eq!(
            runs(&s, "2026-05-01T00:00:00Z", 3),
            [
                "2026-05-01T09:00:00Z",
                "2026-05-04T09:00:00Z",
                "2026-05-08T09:00:00Z"
            ]
        );
        assert_eq!(
            s.last_at_or_before(ts("2026-05-04T08:59:59Z")).unwrap(),
            ts("2026-05-01T09:00:00Z")
        );
    }

    #[test]
    fn monthly_days_past_the_end_are_the_last_day() {
        let mut s = schedule(Frequency::Monthly, "UTC", 23, 0);
        s.month_days = vec![15, 31];
        assert_eq!(
            runs(&s, "2026-01-20T00:00:00Z", 6),
            [
                "2026-01-31T23:00:00Z",
                "2026-02-15T23:00:00Z",
                "2026-02-28T23:00:00Z",
                "2026-03-15T23:00:00Z",
                "2026-03-31T23:00:00Z",
                "2026-04-15T23:00:00Z",
            ]
        );
        assert_eq!(
            runs(&s, "2026-04-15T23:00:00Z", 1),
            ["2026-04-30T23:00:00Z"]
        );
        // Leap year; and 29, 30, 31 all mean 29 February: one run, not three.
        s.month_days = vec![29, 30, 31];
        assert_eq!(
            runs(&s, "2028-02-01T00:00:00Z", 3),
            [
                "2028-02-29T23:00:00Z",
                "2028-03-29T23:00:00Z",
                "2028-03-30T23:00:00Z"
            ]
        );
    }

    #[test]
    fn monthly_in_a_zone_ahead_of_utc() {
        // Midnight on the 1st in Tokyo is 15:00 UTC on the last day of the previous month.
        let s = schedule(Frequency::Monthly, "Asia/Tokyo", 0, 0);
        assert_eq!(
            runs(&s, "2026-01-15T00:00:00Z", 2),
            ["2026-01-31T15:00:00Z", "2026-02-28T15:00:00Z"]
        );
        assert_eq!(
            s.last_at_or_before(ts("2026-01-31T14:59:59Z")).unwrap(),
            ts("2025-12-31T15:00:00Z")
        );
    }

    #[test]
    fn next_and_last_agree() {
        // For any instant t: last(t) <= t < next(t), and next(last(t)) == next(t) unless t is a run.
        let mut s = schedule(Frequency::Hourly, "America/New_York", 0, 30);
        s.week_days = [false, false, false, false, false, true, true];
        let mut t = ts("2026-10-30T00:00:00Z");
        for _ in 0..500 {
            let last = s.last_at_or_before(t).unwrap();
            let next = s.next_after(t).unwrap();
            assert!(last <= t && t < next, "{last} {t} {next}");
            assert_eq!(s.next_after(last).unwrap(), next, "at {t}");
            t += jiff::SignedDuration::from_mins(37);
        }
    }
}
