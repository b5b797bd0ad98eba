//! System Log search: a bounded query (since and until), so it ends.

use okta_client::Client;
use schemars::JsonSchema;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::users::SortOrder;
use super::{Action, ActionFuture, OutputDef, check_limit, stream_values};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SearchSystemLogInput {
    /// Start of the range: an ISO 8601 time (`2026-11-01T00:00:00Z`) or a time ago (`15m`, `12h`, `7d`).
    /// Default: 7 days ago, as Okta's. Okta refuses more than 180 days back and keeps 90 days.
    pub since: Option<String>,
    /// End of the range: an ISO 8601 time or a time ago. Default: now.
    pub until: Option<String>,
    /// A filter expression on event fields (not `published`), e.g.
    /// `eventType eq "user.lifecycle.create" and outcome.result eq "SUCCESS"`.
    pub filter: Option<String>,
    /// Keywords (each at most 40 characters) matched anywhere in the event.
    pub q: Option<String>,
    /// Oldest first (default) or newest first.
    pub sort_order: Option<SortOrder>,
    /// Page size (1–1000; default 1000, the fewest requests).
    pub limit: Option<u32>,
    /// Stop after this many events.
    pub max: Option<u64>,
}

pub struct SearchSystemLog;

impl Action for SearchSystemLog {
    type Input = SearchSystemLogInput;
    const NAME: &'static str = "search_system_log";
    const SUMMARY: &'static str =
        "Search the System Log over a time range (since, until, filter, q), every page streamed.";
    const OUTPUT: OutputDef = OutputDef {
        list: true,
        item: "LogEvent",
        columns: &[
            "published",
            "eventType",
            "outcome.result",
            "actor.alternateId",
            "displayMessage",
        ],
    };

    fn check(input: &SearchSystemLogInput) -> Result<(), String> {
        let now = OffsetDateTime::now_utc();
        let since = input
            .since
            .as_deref()
            .map(|s| parse_time(s, now))
            .transpose()?;
        let until = input
            .until
            .as_deref()
            .map(|s| parse_time(s, now))
            .transpose()?;
        if let (Some(since), Some(until)) = (since, until)
            && since > until
        {
            return Err("since is after until".into());
        }
        if let Some(q) = &input.q
            && let Some(word) = q.split_whitespace().find(|w| w.chars().count() > 40)
        {
            return Err(format!(
                "q: Okta refuses keywords longer than 40 characters ({word})"
            ));
        }
        check_limit(input.limit, 1000)
    }

    fn run(client: Client, input: SearchSystemLogInput) -> ActionFuture {
        let now = OffsetDateTime::now_utc();
        // `check` has parsed these already; a bounded query always sends `until`, because without it
        // Okta answers a polling query whose `next` link never ends.
        let since = input.since.as_deref().map(|s| parse_time(s, now));
        let until = input
            .until
            .as_deref()
            .map(|s| parse_time(s, now))
            .unwrap_or(Ok(now));
        Box::pin(async move {
            let mut search = client.logs().search();
            if let Some(since) = since {
                search = search.since(format_time(since.map_err(super::ActionError::Input)?));
            }
            search = search.until(format_time(until.map_err(super::ActionError::Input)?));
            if let Some(filter) = input.filter {
                search = search.filter(filter);
            }
            if let Some(q) = input.q {
                search = search.q(q);
            }
            if let Some(order) = input.sort_order {
                search = search.sort_order(order.into());
            }
            search = search.limit(input.limit.unwrap_or(1000));
            Ok(stream_values(search.stream(), input.max))
        })
    }
}

/// An ISO 8601 time, or a duration ago: `30s`, `15m`, `12h`, `7d`, `2w`.
pub fn parse_time(text: &str, now: OffsetDateTime) -> Result<OffsetDateTime, String> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t);
    }
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(unit_at);
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => 0,
    };
    match number.parse::<i64>() {
        Ok(n) if seconds > 0 && !number.is_empty() => n
            .checked_mul(seconds)
            .map(|s| now - time::Duration::seconds(s))
            .ok_or_else(|| format!("'{text}' is too far back")),
        _ => Err(format!(
            "'{text}' is not a time: use ISO 8601 (2026-11-01T00:00:00Z) or a time ago (15m, 12h, 7d)"
        )),
    }
}

fn format_time(t: OffsetDateTime) -> String {
    // Okta's own format: UTC with milliseconds.
    let t = t.to_offset(time::UtcOffset::UTC);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_ago_and_iso() {
        let now = OffsetDateTime::parse("2026-11-29T12:00:00Z", &Rfc3339).unwrap();
        assert_eq!(
            format_time(parse_time("2h", now).unwrap()),
            "2026-11-29T10:00:00.000Z"
        );
        assert_eq!(
            format_time(parse_time("7d", now).unwrap()),
            "2026-11-22T12:00:00.000Z"
        );
        assert_eq!(
            format_time(parse_time("2026-11-01T01:02:03.456+01:00", now).unwrap()),
            "2026-11-01T00:02:03.456Z"
        );
        for bad in ["", "d", "7", "7y", "yesterday", "-5m"] {
            assert!(parse_time(bad, now).is_err(), "{bad}");
        }
    }
}
