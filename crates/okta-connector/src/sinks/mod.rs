//! Sinks: where a trigger's records go. A sink acknowledges a batch only once the records are safe
//! on its side (written and fsynced, answered 2xx, read by a command that exited 0); the runner
//! commits the trigger's cursor only after that acknowledgement.
//!
//! Kinds (see [`SinkSpec`]): stdout (NDJSON), an append-only JSONL file (fsync before acknowledging),
//! an HTTP webhook (JSON batches, retried with backoff, anything but 2xx not acknowledged) and exec
//! (each batch piped as NDJSON to a command's stdin; exit status 0 acknowledges).

pub mod exec;
pub mod file;
mod spec;
pub mod stdout;
pub mod webhook;

use std::future::Future;
use std::pin::Pin;

/// One record ready to deliver: its id and its envelope as one line of JSON (no newline).
#[derive(Clone, Debug)]
pub struct Line {
    pub id: String,
    pub json: String,
}

/// Why a sink did not acknowledge.
#[derive(Debug)]
pub struct SinkError {
    pub message: String,
    /// Whether delivering the same batch again later can succeed (a 503, a full disk freed later).
    pub retryable: bool,
}

impl std::fmt::Display for SinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SinkError {}

pub type SinkFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SinkError>> + Send + 'a>>;

pub trait Sink: Send {
    /// Called once before the first delivery with the position the runner committed with the
    /// trigger's cursor (`None` at the first start). Returns the ids of records the sink already
    /// holds beyond that position: delivered by a process that died before it could commit. The
    /// runner skips them, so a crash between acknowledgement and commit delivers nothing twice to a
    /// sink that can tell (the file sink). Sinks that cannot look back return nothing.
    fn recover<'a>(&'a mut self, committed: Option<&'a str>) -> SinkFuture<'a, Vec<String>>;

    /// Delivers a batch (never empty). `Ok` is the acknowledgement: the records are durable on the
    /// sink's side. It carries the sink's position after them (e.g. the file's length), committed
    /// with the cursor and handed back to `recover` after a restart.
    fn deliver<'a>(&'a mut self, batch: &'a [Line]) -> SinkFuture<'a, Option<String>>;

    /// What the sink is, for logs and the job history (never a secret: no header values, no URL
    /// credentials or query).
    fn describe(&self) -> String;
}

/// A sink as configured: `--sink` on the command line (`stdout`, `file:PATH`, `webhook:URL`,
/// `exec:COMMAND [ARGS...]`) or `sink:` in a `serve` configuration (the same strings, or a map with
/// more options).
///
/// The shorthand ([`FromStr`](std::str::FromStr)):
/// * `stdout`
/// * `file:PATH` — everything after `file:` is the path.
/// * `webhook:URL` — http or https, no credentials in it (see secret headers below).
/// * `exec:COMMAND [ARGS...]` — split into words as [`exec::split_words`] says (whitespace
///   separates, `'...'` and `"..."` quote, `\` escapes; no shell: variables, globs and pipes need
///   an explicit `sh -c '...'`).
/// * `{...}` — the map form below, inline (YAML flow or JSON), for the options the shorthand lacks.
///
/// In YAML ([`Deserialize`](serde::Deserialize)) each kind is one of the strings above or a map
/// with exactly one key; unknown keys are refused:
/// ```yaml
/// sink: {stdout: null}
/// sink: {file: /var/lib/okta-connector/events.jsonl}
/// sink: {webhook: https://hooks.example.com/okta}
/// sink:
///   webhook:
///     url: https://hooks.example.com/okta
///     headers: {X-Source: okta-connector}          # plain values; secret-looking names refused
///     secret_headers: {Authorization: HOOK_AUTH}   # header: environment variable holding its value
///     timeout: 30s                                 # per request (default 30s)
///     max_attempts: 5                              # per batch (default 5)
///     backoff: 1s                                  # first retry delay, doubled (default 1s)
///     max_backoff: 30s                             # (default 30s)
///     max_retry_after: 60s                         # longest Retry-After honoured (default 60s)
/// sink: {exec: [jq, -c, .]}                        # or a string, split as above
/// sink:
///   exec:
///     command: [sh, -c, "cat >> /var/lib/okta-connector/out.jsonl"]
///     timeout: 5m                                  # per batch (default 5m)
/// ```
/// Durations are a whole number and a unit: s, m, h or d.
#[derive(Clone, Debug, PartialEq)]
pub enum SinkSpec {
    Stdout,
    File(file::FileSpec),
    Webhook(webhook::WebhookSpec),
    Exec(exec::ExecSpec),
}

/// A batch as NDJSON: each envelope and a newline. An envelope with a newline inside would split
/// into two broken lines (and recovery would misread them), so it is refused.
pub(crate) fn ndjson(batch: &[Line]) -> Result<Vec<u8>, SinkError> {
    let mut out = Vec::with_capacity(batch.iter().map(|l| l.json.len() + 1).sum());
    for line in batch {
        if line.json.contains('\n') {
            return Err(SinkError {
                message: format!("record {} is not one line of JSON", line.id),
                retryable: false,
            });
        }
        out.extend_from_slice(line.json.as_bytes());
        out.push(b'\n');
    }
    Ok(out)
}
