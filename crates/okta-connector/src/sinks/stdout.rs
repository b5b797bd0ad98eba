//! The stdout sink: one NDJSON envelope per line, flushed before acknowledging. A closed stdout
//! (the reader of the pipe went away) is an error that retrying cannot fix, never a panic.

use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::{Line, Sink, SinkError, SinkFuture, ndjson};

/// NDJSON to any writer; [`StdoutSink`] is this over the process's stdout.
pub struct WriterSink<W> {
    out: W,
    name: String,
}

impl<W: AsyncWrite + Unpin + Send> WriterSink<W> {
    /// `name` is what [`describe`](Sink::describe) says.
    pub fn new(out: W, name: impl Into<String>) -> Self {
        WriterSink {
            out,
            name: name.into(),
        }
    }

    pub fn get_ref(&self) -> &W {
        &self.out
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), SinkError> {
        let written = async {
            self.out.write_all(bytes).await?;
            self.out.flush().await
        };
        written.await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                SinkError {
                    message: format!("{} is closed (the program reading it went away)", self.name),
                    retryable: false,
                }
            } else {
                SinkError {
                    message: format!("could not write to {}: {e}", self.name),
                    retryable: true,
                }
            }
        })
    }
}

impl<W: AsyncWrite + Unpin + Send> Sink for WriterSink<W> {
    fn recover<'a>(&'a mut self, _committed: Option<&'a str>) -> SinkFuture<'a, Vec<String>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn deliver<'a>(&'a mut self, batch: &'a [Line]) -> SinkFuture<'a, Option<String>> {
        Box::pin(async move {
            let bytes = ndjson(batch)?;
            self.write(&bytes).await?;
            Ok(None)
        })
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// Batches of every stdout sink in the process go out one at a time: tokio may split a large
/// write, and two triggers' lines must not interleave mid-line.
static STDOUT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The process's stdout.
pub struct StdoutSink(WriterSink<tokio::io::Stdout>);

impl StdoutSink {
    pub fn new() -> Self {
        StdoutSink(WriterSink::new(tokio::io::stdout(), "stdout"))
    }
}

impl Default for StdoutSink {
    fn default() -> Self {
        Self::new()
    }
}

impl Sink for StdoutSink {
    fn recover<'a>(&'a mut self, committed: Option<&'a str>) -> SinkFuture<'a, Vec<String>> {
        self.0.recover(committed)
    }

    fn deliver<'a>(&'a mut self, batch: &'a [Line]) -> SinkFuture<'a, Option<String>> {
        Box::pin(async move {
            let _turn = STDOUT.lock().await;
            self.0.deliver(batch).await
        })
    }

    fn describe(&self) -> String {
        self.0.describe()
    }
}
