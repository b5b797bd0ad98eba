//! Times as users write them in trigger configurations: durations (`90s`, `15m`, `1h`, `7d`) and
//! starting points ("pick up events from": a duration back from the first start, or an RFC 3339
//! instant). Both deserialize from strings, so a bad one is refused when the configuration is read.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A duration written `<number><unit>` with unit `s`, `m`, `h` or `d` (`90s`, `15m`, `1h`, `7d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[schemars(
    with = "String",
    description = "A duration: a whole number and a unit, s, m, h or d (90s, 15m, 1h, 7d)"
)]
pub struct Span(pub Duration);

impl Span {
    pub fn parse(text: &str) -> Result<Span, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("'{text}' has no unit: write e.g. 90s, 15m, 1h or 7d"))?;
        let (number, unit) = text.split_at(split);
        let n: u64 = number
            .parse()
            .map_err(|_| format!("'{text}' does not start with a whole number: write e.g. 15m"))?;
        let seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => {
                return Err(format!(
                    "'{text}' has the unit '{unit}': use s, m, h or d (e.g. 90s, 15m, 1h, 7d)"
                ));
            }
        };
        n.checked_mul(seconds)
            .map(|s| Span(Duration::from_secs(s)))
            .ok_or_else(|| format!("'{text}' is too long"))
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Span::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0.as_secs();
        match s {
            _ if s > 0 && s.is_multiple_of(86_400) => write!(f, "{}d", s / 86_400),
            _ if s > 0 && s.is_multiple_of(3600) => write!(f, "{}h", s / 3600),
            _ if s > 0 && s.is_multiple_of(60) => write!(f, "{}m", s / 60),
            _ => write!(f, "{s}s"),
        }
    }
}

/// Where a trigger starts reading the first time it runs: a span back from that first start
/// (`1h`, `7d`) or an instant (`2026-11-01T00:00:00Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[schemars(
    with = "String",
    description = "A span back from the first start (1h, 7d) or an RFC 3339 instant (2026-11-01T00:00:00Z)"
)]
pub enum Start {
    Ago(Span),
    At(OffsetDateTime),
}

impl Start {
    pub fn parse(text: &str) -> Result<Start, String> {
        let text = text.trim();
        if text.starts_with(|c: char| c.is_ascii_digit()) && text.contains(['-', ':', 'T']) {
            return OffsetDateTime::parse(text, &Rfc3339)
                .map(Start::At)
                .map_err(|e| {
                    format!(
                        "'{text}' is not an RFC 3339 instant ({e}): write e.g. 2026-11-01T00:00:00Z"
                    )
                });
        }
        Span::parse(text).map(Start::Ago).map_err(|_| {
            format!(
                "'{text}' is neither a span back from the first start (1h, 7d) nor an RFC 3339 \
                 instant (2026-11-01T00:00:00Z)"
            )
        })
    }

    /// The instant this start means when the trigger first starts at `now`, no earlier than
    /// `now - max_age` (Okta's retention: older events no longer exist).
    pub fn resolve(self, now: OffsetDateTime, max_age: Duration) -> OffsetDateTime {
        let at = match self {
            Start::Ago(span) => now - span.0,
            Start::At(at) => at,
        };
        at.max(now - max_age).min(now)
    }
}

impl serde::Serialize for Start {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Start::Ago(span) => s.collect_str(span),
            Start::At(at) => s.collect_str(&okta_time(*at)),
        }
    }
}

impl<'de> Deserialize<'de> for Start {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Start::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An instant in Okta's format: `2026-11-29T08:00:00.000Z` (UTC, milliseconds).
pub fn okta_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// Parses an RFC 3339 instant (Okta's `published`, `lastUpdated`, a stored cursor).
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans() {
        assert_eq!(Span::parse("90s").unwrap().0, Duration::from_secs(90));
        assert_eq!(Span::parse("15m").unwrap().0, Duration::from_secs(900));
        assert_eq!(Span::parse("7d").unwrap().0, Duration::from_secs(604_800));
        assert_eq!(Span::parse("2h").unwrap().to_string(), "2h");
        assert!(Span::parse("7").unwrap_err().contains("no unit"));
        assert!(Span::parse("7w").unwrap_err().contains("use s, m, h or d"));
        assert!(Span::parse("d").is_err());
    }

    #[test]
    fn starts() {
        let now = OffsetDateTime::parse("2026-11-29T08:00:00Z", &Rfc3339).unwrap();
        let day = Duration::from_secs(86_400);
        let start = Start::parse("1h").unwrap();
        assert_eq!(
            okta_time(start.resolve(now, 90 * day)),
            "2026-11-29T07:00:00.000Z"
        );
        // Capped at the retention.
        let start = Start::parse("365d").unwrap();
        assert_eq!(
            okta_time(start.resolve(now, 90 * day)),
            "2026-08-31T08:00:00.000Z"
        );
        let start = Start::parse("2026-11-28T10:30:00+01:00").unwrap();
        assert_eq!(
            okta_time(start.resolve(now, 90 * day)),
            "2026-11-28T09:30:00.000Z"
        );
        // A start in the future is now.
        let start = Start::parse("2027-01-01T00:00:00Z").unwrap();
        assert_eq!(start.resolve(now, 90 * day), now);
        assert!(Start::parse("2026-13-01T00:00:00Z").is_err());
        assert!(Start::parse("yesterday").is_err());
    }
}
