//! `/api/v1/logs`: bounded System Log searches.
//!
//! Okta's System Log has two modes. Without `until` (and ascending) a request is a *poll*: every
//! page, even an empty one, carries a `next` link, because new events may arrive later; following
//! `next` never ends. With `until` the query is *bounded*: the last page has no `next`, so the
//! stream ends. [`SearchLogs`] therefore always sends `until` (now, unless given) and is always
//! finite. For tailing the log use [`Client::poll_logs`], which ends each poll on an empty page.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api::SortOrder;
use crate::client::{Client, Query};
use crate::models::LogEvent;
use crate::page::Pages;

/// The System Log: `client.logs()`.
#[derive(Clone, Copy)]
pub struct Logs<'c> {
    client: &'c Client,
}

impl<'c> Logs<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Logs { client }
    }

    /// A bounded search: set `since`, `until`, `filter`, `q`, then [`SearchLogs::stream`].
    pub fn search(&self) -> SearchLogs<'c> {
        SearchLogs {
            client: self.client,
            since: None,
            until: None,
            filter: None,
            q: None,
            sort_order: None,
            limit: None,
        }
    }
}

/// `GET /api/v1/logs` between `since` and `until`. The setters are the query string.
#[derive(Clone)]
pub struct SearchLogs<'c> {
    client: &'c Client,
    since: Option<String>,
    until: Option<String>,
    filter: Option<String>,
    q: Option<String>,
    sort_order: Option<SortOrder>,
    limit: Option<u32>,
}

impl SearchLogs<'_> {
    /// The first instant, inclusive (RFC 3339; Okta's default is 7 days before `until`).
    pub fn since(mut self, since: impl Into<String>) -> Self {
        self.since = Some(since.into());
        self
    }
    /// The last instant, exclusive (RFC 3339; default: now, taken when the query is built).
    pub fn until(mut self, until: impl Into<String>) -> Self {
        self.until = Some(until.into());
        self
    }
    /// A filter expression (`eventType eq "user.session.start"`, `actor.id eq "00u..."`).
    pub fn filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }
    /// Keywords matched anywhere in the event.
    pub fn q(mut self, q: impl Into<String>) -> Self {
        self.q = Some(q.into());
        self
    }
    /// `ASCENDING` (default, oldest first) or `DESCENDING`.
    pub fn sort_order(mut self, order: SortOrder) -> Self {
        self.sort_order = Some(order);
        self
    }
    /// Page size (Okta's default and maximum is 1000).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The query string this search sends; `until` is always there (see the module docs).
    pub fn query(&self) -> Query {
        let until = self.until.clone().unwrap_or_else(now);
        Query::new()
            .opt("since", self.since.as_ref())
            .push("until", until)
            .opt("filter", self.filter.as_ref())
            .opt("q", self.q.as_ref())
            .opt("sortOrder", self.sort_order.map(SortOrder::long))
            .opt("limit", self.limit)
    }

    /// Every matching event, one page at a time; the stream ends after the last page.
    pub fn stream(self) -> Pages<LogEvent> {
        self.client.paginate("/api/v1/logs", self.query())
    }
}

/// Now in Okta's format (`2024-05-02T18:46:21.121Z`).
fn now() -> String {
    let now = OffsetDateTime::now_utc();
    let now = now.replace_millisecond(now.millisecond()).unwrap_or(now);
    now.format(&Rfc3339)
        .expect("a UTC instant formats as RFC 3339")
}
