//! `/api/v1/logs`: the System Log, as Okta serves it (docs `reference/system-log-query`, spec
//! `listLogEvents`, FACTS §5).
//!
//! * Polling (no `until`, `sortOrder=ASCENDING`, the default): events in persistence order after the
//!   cursor, `since` on persistence time, and a `next` link on every page, even an empty one.
//! * Bounded (`until` given, or `DESCENDING`): events by `published` between `since` (default
//!   `until` − 7 days; inclusive) and `until` (default now; exclusive), finite: no `next` after the
//!   last page.
//!
//! Cursors look like Okta's (`1627500044869_1`): `{ms}_{seq}`. In polling, `seq` is the next
//! position in persistence order and `ms` the persistence time before it; in bounded queries they
//! are the `published` time and position of the last event served. Both are checked against the
//! store, so a made-up cursor is refused.

use std::cell::OnceCell;
use std::ops::Bound;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::Value;

use crate::Sim;
use crate::clock::parse_iso;
use crate::filter::{self, Dialect, Expr, FilterErrorKind, Lookup};
use crate::http::{ApiError, ApiResult, Params, link_headers};
use crate::syslog::json::{any_text, fast_field, write_page};
use crate::syslog::{LogData, LogEvent, StoreMeta};

const DAY_MS: i64 = 86_400_000;
/// Events older than this are not returned (Okta's data retention).
const RETENTION_MS: i64 = 90 * DAY_MS;
/// A `since` further back is refused.
const MAX_SINCE_AGE_MS: i64 = 180 * DAY_MS;
/// The default `since` is this long before `until`.
const DEFAULT_WINDOW_MS: i64 = 7 * DAY_MS;
const MAX_KEYWORD_CHARS: usize = 40;
const MAX_KEYWORDS: usize = 10;

pub fn routes() -> Router<Arc<Sim>> {
    Router::new().route("/api/v1/logs", get(list_logs))
}

async fn list_logs(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let query = LogQuery::parse(&params, sim.clock.now_ms())?;
    // A filtered page may scan the whole store: keep it off the async workers.
    let worker = sim.clone();
    let page = tokio::task::spawn_blocking(move || {
        worker.logs.read(|data| query.run(data, &worker.logs.meta))
    })
    .await
    .map_err(|_| ApiError::internal())??;
    let headers = link_headers(
        sim.base_url(),
        "/api/v1/logs",
        &params,
        page.next.as_deref(),
    );
    let mut resp = (headers, page.body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// `since` on persistence time.
    Polling { since: i64 },
    /// `[since, until)` on `published`.
    Bounded {
        since: i64,
        until: i64,
        descending: bool,
    },
}

/// A cursor: `{ms}_{seq}`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cursor {
    ms: i64,
    seq: u32,
}

impl Cursor {
    fn parse(s: &str) -> Option<Cursor> {
        let (ms, seq) = s.split_once('_')?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(ms) || !digits(seq) {
            return None;
        }
        Some(Cursor {
            ms: ms.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }

    fn text(self) -> String {
        format!("{}_{}", self.ms, self.seq)
    }
}

/// A validated query.
#[derive(Debug)]
struct LogQuery {
    mode: Mode,
    after: Option<Cursor>,
    filter: Option<Expr>,
    /// Lower-cased `q` keywords; every one must match.
    keywords: Vec<String>,
    limit: usize,
    /// Events published before this are past retention.
    retention_floor: i64,
}

/// The body of a page and the cursor of its `next` link.
struct PageOut {
    body: Vec<u8>,
    next: Option<String>,
}

impl LogQuery {
    fn parse(params: &Params, now: i64) -> ApiResult<LogQuery> {
        let limit = params.limit(100, 1000)?;
        let since = date_param(params, "since")?;
        let until = date_param(params, "until")?;
        let descending = match params
            .get("sortOrder")
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            None | Some("") | Some("ASCENDING") => false,
            Some("DESCENDING") => true,
            Some(_) => {
                return Err(ApiError::validation(
                    "sortOrder",
                    "sortOrder: must be one of ASCENDING, DESCENDING.",
                ));
            }
        };
        let after = params.get("after").filter(|a| !a.is_empty());
        // Okta's `next` links repeat `since`; with a cursor the cursor decides where to go on,
        // so a poller that follows its links keeps working once `since` is 180 days old.
        if after.is_none() && since.is_some_and(|s| s < now - MAX_SINCE_AGE_MS) {
            return Err(ApiError::new(
                400,
                "E0000053",
                "Invalid parameter: The since parameter is over 180 days prior to the current day.",
            ));
        }
        let filter = match params.get("filter").filter(|f| !f.trim().is_empty()) {
            None => None,
            Some(f) => Some(
                filter::parse(f, Dialect::LogFilter).map_err(|e| match e.kind {
                    FilterErrorKind::UnsupportedCombination => {
                        // Okta's summary stops after the field name.
                        let summary = e.message.split(" (position").next().unwrap_or(&e.message);
                        ApiError::new(400, "E0000031", summary.to_string())
                    }
                    FilterErrorKind::Invalid => ApiError::new(
                        400,
                        "E0000053",
                        format!("Invalid filter '{f}': {}", e.message),
                    ),
                })?,
            ),
        };
        let keywords = keywords(params.get("q").unwrap_or(""))?;
        let after = match after {
            None => None,
            Some(a) => Some(Cursor::parse(a).ok_or_else(ApiError::invalid_cursor)?),
        };
        let mode = if until.is_none() && !descending {
            Mode::Polling {
                since: since.unwrap_or(now - DEFAULT_WINDOW_MS),
            }
        } else {
            let until = until.unwrap_or(now);
            Mode::Bounded {
                since: since.unwrap_or(until - DEFAULT_WINDOW_MS),
                until,
                descending,
            }
        };
        Ok(LogQuery {
            mode,
            after,
            filter,
            keywords,
            limit,
            retention_floor: now - RETENTION_MS,
        })
    }

    fn run(&self, data: &LogData, meta: &StoreMeta) -> ApiResult<PageOut> {
        match self.mode {
            Mode::Polling { since } => self.poll(data, meta, since),
            Mode::Bounded {
                since,
                until,
                descending,
            } => self.bounded(data, meta, since, until, descending),
        }
    }

    /// Events in persistence order from the cursor (or the first persisted at `since`). The next
    /// cursor points after the last event served, or after everything scanned when the page is
    /// short, so a re-poll only looks at what was persisted since.
    fn poll(&self, data: &LogData, meta: &StoreMeta, since: i64) -> ApiResult<PageOut> {
        let events = &data.events;
        // Okta's own next links carry `since` as well as `after`: the cursor decides where to go on.
        let start = match self.after {
            Some(c) => {
                let pos = c.seq as usize;
                let consistent =
                    pos <= events.len() && (pos == 0 || events[pos - 1].stored_ms == c.ms);
                if !consistent {
                    return Err(ApiError::invalid_cursor());
                }
                pos
            }
            None => data.first_stored_at_or_after(since),
        };
        let mut picked = Vec::with_capacity(self.limit.min(1000));
        let mut pos = start;
        if self.limit > 0 {
            while pos < events.len() {
                let ev = &events[pos];
                pos += 1;
                if self.accepts(ev, meta) {
                    picked.push(ev);
                    if picked.len() == self.limit {
                        break;
                    }
                }
            }
        }
        let next = Cursor {
            ms: if pos == 0 {
                since
            } else {
                events[pos - 1].stored_ms
            },
            seq: pos as u32,
        };
        Ok(PageOut {
            body: render(picked, meta),
            next: Some(next.text()),
        })
    }

    /// Events by `published` within `[since, until)`, after the cursor, in either direction.
    fn bounded(
        &self,
        data: &LogData,
        meta: &StoreMeta,
        since: i64,
        until: i64,
        descending: bool,
    ) -> ApiResult<PageOut> {
        let cursor = match self.after {
            Some(c) => {
                let key = (c.ms, c.seq);
                if !data.by_published.contains(&key) {
                    return Err(ApiError::invalid_cursor());
                }
                Some(key)
            }
            None => None,
        };
        let lower = (since.max(self.retention_floor), 0u32);
        let upper = (until, 0u32);
        let keys: Box<dyn Iterator<Item = &(i64, u32)>> = if descending {
            let end = cursor.unwrap_or(upper).min(upper);
            if lower >= end {
                Box::new(std::iter::empty())
            } else {
                Box::new(
                    data.by_published
                        .range((Bound::Included(lower), Bound::Excluded(end)))
                        .rev(),
                )
            }
        } else {
            let start = cursor.map_or(Bound::Included(lower), |c| Bound::Excluded(c.max(lower)));
            let start_key = match start {
                Bound::Included(k) | Bound::Excluded(k) => k,
                Bound::Unbounded => lower,
            };
            if start_key >= upper {
                Box::new(std::iter::empty())
            } else {
                Box::new(data.by_published.range((start, Bound::Excluded(upper))))
            }
        };
        let mut matches = keys
            .map(|&(_, seq)| (seq, &data.events[seq as usize]))
            .filter(|(_, ev)| self.accepts(ev, meta));
        let picked: Vec<(u32, &LogEvent)> = matches.by_ref().take(self.limit).collect();
        let more = matches.next().is_some();
        let next = match (more, picked.last()) {
            (true, Some(&(seq, last))) => Some(Cursor {
                ms: last.published_ms,
                seq,
            }),
            // `limit=0`: nothing served, nothing to resume from but the start.
            (true, None) => cursor.map(|(ms, seq)| Cursor { ms, seq }),
            (false, _) => None,
        };
        Ok(PageOut {
            body: render(picked.into_iter().map(|(_, ev)| ev).collect(), meta),
            next: next.map(Cursor::text),
        })
    }

    /// Retention, `filter` and `q`.
    fn accepts(&self, ev: &LogEvent, meta: &StoreMeta) -> bool {
        if ev.published_ms < self.retention_floor {
            return false;
        }
        if let Some(expr) = &self.filter {
            let rendered: OnceCell<Value> = OnceCell::new();
            let lookup = |path: &str| match fast_field(ev, path) {
                Some(v) => v,
                None => rendered.get_or_init(|| ev.to_value(meta)).lookup(path),
            };
            if !expr.matches(&lookup) {
                return false;
            }
        }
        self.keywords
            .iter()
            .all(|kw| any_text(ev, &mut |text| has_keyword(text, kw)))
    }
}

fn render(events: Vec<&LogEvent>, meta: &StoreMeta) -> Vec<u8> {
    let mut body = Vec::with_capacity(events.len() * 2048 + 2);
    write_page(&mut body, events.into_iter(), meta);
    body
}

/// `since`/`until`: absent or empty is "not given"; anything but an ISO 8601 date-time is Okta's
/// E0000001 with its two causes.
fn date_param(params: &Params, name: &str) -> ApiResult<Option<i64>> {
    let Some(raw) = params.get(name).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    // An unencoded `+01:00` offset arrives as a space.
    let text = raw.trim().replace(' ', "+");
    let parsed = parse_iso(&text).or_else(|| {
        filter::normalize_timestamp(&text)
            .as_deref()
            .and_then(parse_iso)
    });
    parsed.map(Some).ok_or_else(|| {
        let format = format!(
            "{name}: The date format in your query is not recognized. Please enter dates using \
             ISO8601 string format."
        );
        let empty = format!("{name}: must be a valid date-time or empty.");
        ApiError::new(
            400,
            "E0000001",
            format!(
                "Api validation failed: '{name}': The date format in your query is not recognized. \
                 Please enter dates using ISO8601 string format. '{name}': must be a valid \
                 date-time or empty."
            ),
        )
        .cause(format)
        .cause(empty)
    })
}

/// `q`: space-separated keywords, at most 10, each at most 40 characters.
fn keywords(q: &str) -> ApiResult<Vec<String>> {
    let words: Vec<&str> = q.split_whitespace().collect();
    let refuse = |what: &str| {
        let cause = format!(
            "Freeform search cannot contain {what}. Please shorten the items in your search or \
             use an advanced filter to query by specific fields."
        );
        ApiError::new(
            400,
            "E0000001",
            format!("Api validation failed: 'q': {cause}"),
        )
        .cause(format!("q: {cause}"))
    };
    if words.iter().any(|w| w.chars().count() > MAX_KEYWORD_CHARS) {
        return Err(refuse("items longer than 40 characters"));
    }
    if words.len() > MAX_KEYWORDS {
        return Err(refuse("more than 10 items"));
    }
    Ok(words.iter().map(|w| w.to_lowercase()).collect())
}

/// Whether `text` contains `keyword` (lower case) as a whole value or a whole word; words split on
/// white space and URL punctuation, and hyphenated words also match by their parts (docs).
fn has_keyword(text: &str, keyword: &str) -> bool {
    let eq = |t: &str| {
        if t.is_ascii() {
            t.eq_ignore_ascii_case(keyword)
        } else {
            t.chars().flat_map(char::to_lowercase).eq(keyword.chars())
        }
    };
    eq(text)
        || text
            .split(|c: char| c.is_whitespace() || matches!(c, '/' | '?' | '&' | '=' | ',' | ';'))
            .any(|t| eq(t) || (t.contains('-') && t.split('-').any(eq)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let c = Cursor::parse("1627500044869_1").unwrap();
        assert_eq!(
            c,
            Cursor {
                ms: 1627500044869,
                seq: 1
            }
        );
        assert_eq!(c.text(), "1627500044869_1");
        for junk in [
            "",
            "abc",
            "00u1",
            "1_",
            "_1",
            "1_2_3",
            "-1_2",
            "349996bd-5091-45dc",
        ] {
            assert!(Cursor::parse(junk).is_none(), "{junk}");
        }
    }

    #[test]
    fn keywords_match_words_case_insensitively() {
        assert!(has_keyword("San Francisco", "francisco"));
        assert!(has_keyword("XOxBw-2JIRnCFd0gG0GjHAAABjY", "xoxbw"));
        assert!(has_keyword(
            "XOxBw-2JIRnCFd0gG0GjHAAABjY",
            "xoxbw-2jirncfd0gg0gjhaaabjy"
        ));
        assert!(has_keyword(
            "https://interestingURI.com/x",
            "interestinguri.com"
        ));
        assert!(has_keyword("Lucía Kim", "lucía"));
        assert!(!has_keyword("San Francisco", "fran"));
        assert!(keywords(&"x".repeat(41)).is_err());
        assert!(keywords("a b c d e f g h i j k").is_err());
        assert_eq!(keywords(" Jane  DOE ").unwrap(), vec!["jane", "doe"]);
    }
}
