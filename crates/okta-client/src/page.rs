//! Link-header pagination as streams that fetch one page at a time: the next page is requested only
//! when the consumer has taken every item of the current one, so memory stays at one page.
//!
//! The `next` link is followed exactly as Okta sends it (Okta: "query parameters or cursor formats may
//! change without notice"); [`crate::Client::send`] still refuses one that leaves the org.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use reqwest::Url;
use reqwest::header::HeaderMap;

use crate::client::Client;
use crate::error::{Error, ErrorKind};
use crate::models::LogEvent;

/// Items of a list, fetched one page at a time.
pub struct Pages<T> {
    #[allow(clippy::type_complexity)]
    inner: Pin<Box<dyn Stream<Item = Result<T, Error>> + Send>>,
}

impl<T> Pages<T> {
    pub fn from_stream(stream: impl Stream<Item = Result<T, Error>> + Send + 'static) -> Self {
        Pages {
            inner: Box::pin(stream),
        }
    }
}

impl<T> Stream for Pages<T> {
    type Item = Result<T, Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// One page of a list.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The `rel="next"` link, absolute; `None` on the last page.
    pub next: Option<Url>,
    /// The URL this page was read from.
    pub url: Url,
    /// `X-Okta-Request-Id` of the answer.
    pub request_id: Option<String>,
}

/// The `rel="next"` target of `Link` headers: one header per link or several comma-separated in
/// one (RFC 8288), resolved against the request URL. Commas inside `<...>` or quotes do not split.
pub fn next_link(headers: &HeaderMap, base: &Url) -> Option<Url> {
    headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(split_links)
        .find_map(|(target, params)| {
            let is_next = params.split(';').any(|p| {
                let Some((k, v)) = p.split_once('=') else {
                    return false;
                };
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            });
            if is_next {
                base.join(target).ok()
            } else {
                None
            }
        })
}

/// `<a>; rel="x", <b>; rel="y"` → `[("a", "; rel=\"x\""), ("b", "; rel=\"y\"")]`.
fn split_links(value: &str) -> Vec<(&str, &str)> {
    let mut links = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>').map(|c| open + c) else {
            break;
        };
        let target = &rest[open + 1..close];
        let after = &rest[close + 1..];
        // The parameters run to the next comma outside quotes.
        let mut in_quotes = false;
        let end = after
            .char_indices()
            .find(|&(_, c)| {
                if c == '"' {
                    in_quotes = !in_quotes;
                }
                c == ',' && !in_quotes
            })
            .map_or(after.len(), |(i, _)| i);
        links.push((target.trim(), &after[..end]));
        rest = &after[end..];
    }
    links
}

/// Where a System Log poll starts.
#[derive(Clone, Debug)]
pub enum LogStart {
    /// A first poll: `since` (RFC 3339), with an optional `filter`, `q` and page `limit`.
    Since {
        since: String,
        filter: Option<String>,
        q: Option<String>,
        limit: u32,
    },
    /// Resume from the `next` link a previous poll ended on.
    Cursor(Url),
}

type PageFuture = Pin<Box<dyn Future<Output = Result<Page<LogEvent>, Error>> + Send>>;

/// One poll of the System Log: a stream of events that ends at the first empty page.
pub struct LogPoll {
    client: Client,
    cursor: Option<Url>,
    /// Events of the page at `cursor` not yet yielded.
    buffer: VecDeque<LogEvent>,
    /// The `next` link of the page being yielded: the cursor once it is drained.
    after_buffer: Option<Url>,
    fetch: Option<PageFuture>,
    /// An error to yield before anything else (a start that could not be built).
    error: Option<Error>,
    done: bool,
}

impl LogPoll {
    pub(crate) fn new(client: Client, start: Result<Url, Error>) -> Self {
        let (cursor, error) = match start {
            Ok(url) => (Some(url), None),
            Err(e) => (None, Some(e)),
        };
        LogPoll {
            client,
            cursor,
            buffer: VecDeque::new(),
            after_buffer: None,
            fetch: None,
            error,
            done: false,
        }
    }

    /// The `next` link to resume from: after the stream ended, where the next poll starts; before,
    /// the page being read.
    pub fn cursor(&self) -> Option<&Url> {
        self.cursor.as_ref()
    }
}

impl Stream for LogPoll {
    type Item = Result<LogEvent, Error>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(e) = this.error.take() {
                this.done = true;
                return Poll::Ready(Some(Err(e)));
            }
            if let Some(event) = this.buffer.pop_front() {
                return Poll::Ready(Some(Ok(event)));
            }
            if let Some(next) = this.after_buffer.take() {
                this.cursor = Some(next);
            }
            if this.done {
                return Poll::Ready(None);
            }
            let fetch = match &mut this.fetch {
                Some(f) => f,
                None => {
                    let Some(url) = this.cursor.clone() else {
                        return Poll::Ready(None);
                    };
                    let client = this.client.clone();
                    this.fetch
                        .insert(Box::pin(async move { client.page(url).await }))
                }
            };
            let result = std::task::ready!(fetch.as_mut().poll(cx));
            this.fetch = None;
            match result {
                Err(e) => this.error = Some(e),
                Ok(page) => match page.next {
                    // Okta sends a next link on every page of a polling query.
                    None => {
                        this.error = Some(Error {
                            request_id: page.request_id,
                            ..Error::new(
                                ErrorKind::Decode,
                                "the System Log answered a polling query without a next link",
                            )
                        })
                    }
                    Some(next) if page.items.is_empty() => {
                        this.cursor = Some(next);
                        this.done = true;
                    }
                    Some(next) => {
                        this.buffer = page.items.into();
                        this.after_buffer = Some(next);
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link_headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("link", v.parse().unwrap());
        }
        h
    }

    fn base() -> Url {
        "https://acme.okta.com/api/v1/users?limit=2"
            .parse()
            .unwrap()
    }

    #[test]
    fn next_from_two_header_lines() {
        let h = link_headers(&[
            "<https://acme.okta.com/api/v1/users?limit=2>; rel=\"self\"",
            "<https://acme.okta.com/api/v1/users?after=00u2&limit=2>; rel=\"next\"",
        ]);
        assert_eq!(
            next_link(&h, &base()).unwrap().as_str(),
            "https://acme.okta.com/api/v1/users?after=00u2&limit=2"
        );
    }

    #[test]
    fn next_from_one_comma_separated_header() {
        let h = link_headers(&[
            "<https://acme.okta.com/api/v1/users?limit=2&q=a,b>; rel=\"self\", <https://acme.okta.com/api/v1/users?after=x,y&limit=2>; rel=next",
        ]);
        assert_eq!(
            next_link(&h, &base()).unwrap().as_str(),
            "https://acme.okta.com/api/v1/users?after=x,y&limit=2"
        );
    }

    #[test]
    fn next_among_several_rels_and_relative() {
        let h = link_headers(&["</api/v1/users?after=z>; title=\"a, b\"; REL=\"prev next\""]);
        assert_eq!(
            next_link(&h, &base()).unwrap().as_str(),
            "https://acme.okta.com/api/v1/users?after=z"
        );
    }

    #[test]
    fn no_next() {
        let h = link_headers(&["<https://acme.okta.com/api/v1/users?limit=2>; rel=\"self\""]);
        assert_eq!(next_link(&h, &base()), None);
        assert_eq!(next_link(&HeaderMap::new(), &base()), None);
        let h = link_headers(&["<https://acme.okta.com/x>; rel=\"nextish\"", "garbage"]);
        assert_eq!(next_link(&h, &base()), None);
    }

    #[test]
    fn the_next_url_is_kept_exactly() {
        let raw = "https://acme.okta.com/api/v1/logs?since=2025-01-01T00%3A00%3A00Z&after=1627500044869_1&limit=1000";
        let h = link_headers(&[&format!("<{raw}>; rel=\"next\"")]);
        assert_eq!(next_link(&h, &base()).unwrap().as_str(), raw);
    }
}
