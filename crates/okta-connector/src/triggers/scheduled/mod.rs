//! scheduled_event_search: a System Log search run on a monthly, daily or hourly schedule, delivered
//! in batches.
//!
//! Each scheduled time S(k) covers the window [S(k-1), S(k)): from the previous scheduled time to
//! this one, so consecutive windows neither overlap nor leave a gap. A window is read `settle` after
//! S(k) (Okta may publish events late), whole, into a spool file, then delivered as numbered batches
//! that all carry the window's total count. The cursor records the last completed scheduled time and,
//! mid-window, the next batch, so each window runs exactly once across restarts.
//!
//! * [`calendar`]: the schedule's instants in its time zone (DST rules there).
//! * [`source`]: the cursor, the window's states, the batch records.
//! * [`spool`]: the window on disk.

pub mod calendar;
mod source;
mod spool;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use super::time_spec::{Span, Start};
use super::{RecordDef, Source, Trigger};
use calendar::{Frequency, Schedule};

/// The configuration of `scheduled_event_search`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How often the search runs: `monthly`, `daily` or `hourly`.
    pub schedule: FrequencyName,
    /// Which days it runs. `monthly`: days of the month, 1–31 (required); a day past a month's
    /// end means that month's last day, so `[31]` runs on the last day of every month and `[30]`
    /// on 28/29 February. `daily` and `hourly`: days of the week, `mon` … `sun` (default: every
    /// day). A window always reaches back to the previous run, so the runs on a Monday of a
    /// Monday-to-Friday schedule cover the weekend.
    #[serde(default)]
    pub days: Option<Vec<Day>>,
    /// The hour it runs, 0–23, local to `time_zone` (`monthly` and `daily`; default 0). Not for
    /// `hourly`, which runs every hour.
    #[schemars(range(min = 0, max = 23))]
    pub hour: Option<u8>,
    /// The minute it runs, 0–59 (default 0); `hourly` runs at this minute of every hour.
    #[serde(default)]
    #[schemars(range(min = 0, max = 59))]
    pub minute: u8,
    /// The IANA time zone the days, hour and minute are in, e.g. `Europe/Paris` (default `UTC`).
    /// Daylight saving time: a time that does not exist on the spring-forward day (02:30) runs as
    /// soon as the clocks have jumped (03:30); a time that happens twice in autumn runs at its
    /// first occurrence; `hourly` runs at every real hour, so twice in the repeated hour and not
    /// in the skipped one.
    #[serde(default = "utc")]
    pub time_zone: String,
    /// An Okta System Log filter expression on event fields (not `published`: the window sets the
    /// time range), e.g. `eventType eq "user.session.start" and outcome.result eq "FAILURE"`. Okta
    /// checks it: one it refuses stops the trigger with Okta's message.
    pub filter: Option<String>,
    /// Keywords (each at most 40 characters) matched anywhere in the event.
    pub q: Option<String>,
    /// Events per batch record, 1–1000 (default 100).
    #[serde(default = "default_batch_size")]
    #[schemars(range(min = 1, max = 1000))]
    pub batch_size: u32,
    /// When first started, also run the windows whose scheduled time falls after this point: a
    /// span back from the first start (`7d`) or an RFC 3339 instant, capped at Okta's 90-day
    /// retention. Default: none, the first run is the first scheduled time after the first start.
    pub start: Option<Start>,
    /// How long after its scheduled time a window is read, so that events Okta publishes late are
    /// in it (a duration: `0s`, `1m`, `5m`; default `1m`, at most `1d`).
    #[serde(default = "default_settle")]
    pub settle: Span,
}

fn utc() -> String {
    "UTC".to_string()
}

fn default_batch_size() -> u32 {
    100
}

fn default_settle() -> Span {
    Span(std::time::Duration::from_secs(60))
}

/// `monthly`, `daily` or `hourly`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FrequencyName {
    Monthly,
    Daily,
    Hourly,
}

/// A day of the month (1–31, for `monthly`) or of the week (`mon` … `sun`, for `daily`/`hourly`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(untagged)]
pub enum Day {
    OfMonth(#[schemars(range(min = 1, max = 31))] u8),
    OfWeek(WeekdayName),
}

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WeekdayName {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // By hand, for a message that says what a day may be (untagged enums say only "did not
        // match any variant").
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Day;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a day of the month (1–31) or of the week (mon … sun)")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Day, E> {
                u8::try_from(n)
                    .map(Day::OfMonth)
                    .map_err(|_| E::custom(format!("{n} is not a day of the month: use 1–31")))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Day, E> {
                u64::try_from(n)
                    .map_err(|_| E::custom(format!("{n} is not a day of the month: use 1–31")))
                    .and_then(|n| self.visit_u64(n))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Day, E> {
                let lower = s.trim().to_ascii_lowercase();
                const FULL: [&str; 7] = [
                    "monday",
                    "tuesday",
                    "wednesday",
                    "thursday",
                    "friday",
                    "saturday",
                    "sunday",
                ];
                let names = [
                    WeekdayName::Mon,
                    WeekdayName::Tue,
                    WeekdayName::Wed,
                    WeekdayName::Thu,
                    WeekdayName::Fri,
                    WeekdayName::Sat,
                    WeekdayName::Sun,
                ];
                (0..7)
                    .find(|i| lower == WEEKDAYS[*i] || lower == FULL[*i])
                    .map(|i| Day::OfWeek(names[i]))
                    .ok_or_else(|| {
                        E::custom(format!(
                            "'{s}' is not a day: use mon, tue, wed, thu, fri, sat or sun \
                             (daily, hourly), or 1–31 (monthly)"
                        ))
                    })
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl Config {
    /// The schedule this configuration means, or what is wrong with it and how to fix it.
    pub fn schedule(&self) -> Result<Schedule, String> {
        let frequency = match self.schedule {
            FrequencyName::Monthly => Frequency::Monthly,
            FrequencyName::Daily => Frequency::Daily,
            FrequencyName::Hourly => Frequency::Hourly,
        };
        let name = match frequency {
            Frequency::Monthly => "monthly",
            Frequency::Daily => "daily",
            Frequency::Hourly => "hourly",
        };
        if frequency == Frequency::Hourly && self.hour.is_some() {
            return Err(
                "hour is for daily and monthly schedules: an hourly search runs every \
                        hour at `minute`; remove hour"
                    .into(),
            );
        }
        let hour = self.hour.unwrap_or(0);
        if hour > 23 {
            return Err(format!("hour {hour} is out of range: use 0–23"));
        }
        if self.minute > 59 {
            return Err(format!("minute {} is out of range: use 0–59", self.minute));
        }
        let mut month_days = Vec::new();
        let mut week_days = [self.days.is_none(); 7];
        match (&self.days, frequency) {
            (None, Frequency::Monthly) => {
                return Err(
                    "a monthly schedule needs days of the month, e.g. \"days\": [1] \
                            (the 1st) or [31] (the last day of every month)"
                        .into(),
                );
            }
            (None, _) => {}
            (Some(days), _) if days.is_empty() => {
                return Err(format!(
                    "days is empty: list at least one day{}",
                    if frequency == Frequency::Monthly {
                        ""
                    } else {
                        ", or leave days out for every day"
                    }
                ));
            }
            (Some(days), _) => {
                for day in days {
                    match (day, frequency) {
                        (Day::OfMonth(n), Frequency::Monthly) => {
                            if !(1..=31).contains(n) {
                                return Err(format!(
                                    "days: {n} is not a day of the month: use 1–31 (a day past \
                                     a month's end means its last day)"
                                ));
                            }
                            month_days.push(*n as i8);
                        }
                        (Day::OfWeek(w), Frequency::Monthly) => {
                            return Err(format!(
                                "a monthly schedule takes days of the month (1–31), not '{}'; \
                                 for days of the week use \"schedule\": \"daily\"",
                                WEEKDAYS[*w as usize]
                            ));
                        }
                        (Day::OfMonth(n), _) => {
                            return Err(format!(
                                "a {name} schedule takes days of the week (mon … sun), not {n}; \
                                 for days of the month use \"schedule\": \"monthly\""
                            ));
                        }
                        (Day::OfWeek(w), _) => week_days[*w as usize] = true,
                    }
                }
            }
        }
        month_days.sort_unstable();
        month_days.dedup();
        let tz = jiff::tz::TimeZone::get(self.time_zone.trim()).map_err(|_| {
            format!(
                "unknown time zone '{}': use an IANA name such as UTC, Europe/Paris or \
                 America/New_York",
                self.time_zone
            )
        })?;
        Ok(Schedule {
            frequency,
            month_days,
            week_days,
            hour: hour as i8,
            minute: self.minute as i8,
            tz,
        })
    }

    fn check(&self) -> Result<(), String> {
        self.schedule()?;
        if !(1..=1000).contains(&self.batch_size) {
            return Err(format!(
                "batch_size {} is out of range: use 1–1000",
                self.batch_size
            ));
        }
        if let Some(q) = &self.q
            && let Some(word) = q.split_whitespace().find(|w| w.chars().count() > 40)
        {
            return Err(format!(
                "q: the keyword '{word}' is longer than 40 characters, Okta's limit: shorten it"
            ));
        }
        if self.settle.0.as_secs() > 86_400 {
            return Err(format!(
                "settle {} is longer than 1d: use a few minutes",
                self.settle
            ));
        }
        Ok(())
    }
}

/// The `scheduled_event_search` trigger.
pub struct ScheduledEventSearch;

impl Trigger for ScheduledEventSearch {
    type Config = Config;
    const NAME: &'static str = "scheduled_event_search";
    const SUMMARY: &'static str = "Search the System Log on a monthly, daily or hourly schedule \
        (with time zone), each window [previous run, this run) once, in batches of 1–1000 events.";
    const RECORD: RecordDef = RecordDef {
        object: "ScheduledSearchBatch",
        shape: Some(
            "one batch of a window's System Log events: {\"scheduledTime\", \"range\": {\"since\", \"until\"}, \
             \"batchIndex\", \"firstRecordId\", \"lastRecordId\", \"totalCount\", \"firstBatch\", \"lastBatch\", \
             \"startOffset\", \"endOffset\", \"events\": [LogEvent, as Okta sent it]}. Times are UTC \
             (2026-11-29T08:00:00.000Z); range is [since, until) = [previous scheduled time, scheduledTime); \
             batchIndex counts from 0; offsets are 0-based positions in the window's events, startOffset \
             inclusive and endOffset exclusive; first/lastRecordId are the uuids of the batch's first and \
             last events (null when it has none); totalCount is the number of events in the whole window. \
             A window with no events comes out as one batch with totalCount 0 and no events, so every run \
             is visible.",
        ),
        id: "{scheduledTime}#{batchIndex}",
        details: None,
    };

    fn check(config: &Config) -> Result<(), String> {
        config.check()
    }

    fn source(config: Config) -> Box<dyn Source> {
        Box::new(source::ScheduledSource::new(config))
    }
}
