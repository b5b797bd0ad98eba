//! Link-header pagination as streams. CONTRACT (filled in by the client-core work).

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use reqwest::Url;

use crate::error::Error;
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

/// One poll of the System Log: a stream of events that ends at the first empty page.
pub struct LogPoll {
    #[allow(dead_code)]
    cursor: Option<Url>,
}

impl LogPoll {
    /// The `next` link to resume from: after the stream ended, where the next poll starts; before,
    /// the page being read.
    pub fn cursor(&self) -> Option<&Url> {
        self.cursor.as_ref()
    }
}

impl Stream for LogPoll {
    type Item = Result<LogEvent, Error>;
    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        todo!("client-core")
    }
}
