//! The exec sink: each batch piped as NDJSON to a command.
//!
//! Per batch the command is started (directly, no shell), the batch written to its stdin, stdin
//! closed, and the command waited for: exit status 0 acknowledges. Its stdout is the connector's
//! stdout; its stderr is kept, and the last lines go into the error when it fails. It runs in its
//! own process group, so a Ctrl-C meant for the connector does not cut the batch in flight (the
//! connector finishes it), and a command that overruns the timeout is killed with its children.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Line, Sink, SinkError, SinkFuture, ndjson};
use crate::triggers::time_spec::Span;

/// `exec:COMMAND [ARGS...]`; in YAML the same string, a list `{exec: [COMMAND, ARGS...]}`, or a map
/// `{exec: {command: [COMMAND, ARGS...], timeout: 5m}}`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecSpec {
    /// The program and its arguments (never empty).
    pub command: Vec<String>,
    /// How long one batch may take before the command is killed and the batch not acknowledged.
    pub timeout: Duration,
}

impl ExecSpec {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

    pub fn new(command: Vec<String>) -> Result<ExecSpec, String> {
        match command.first() {
            Some(program) if !program.is_empty() => Ok(ExecSpec {
                command,
                timeout: Self::DEFAULT_TIMEOUT,
            }),
            _ => Err("an exec sink needs a command, e.g. exec:jq -c .".into()),
        }
    }

    /// The words of `exec:COMMAND [ARGS...]`, split as [`split_words`] says.
    pub fn parse(text: &str) -> Result<ExecSpec, String> {
        ExecSpec::new(split_words(text)?)
    }
}

/// Splits a command line into words, a small part of the shell's rule and nothing else: words are
/// separated by whitespace; `'...'` keeps everything inside as it is; `"..."` too, except that
/// `\"` and `\\` stand for `"` and `\`; outside quotes `\` keeps the next character as it is.
/// No variables, globs, pipes or redirections: for those, run a shell explicitly
/// (`exec:sh -c 'jq -c . >> out.jsonl'`).
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let unterminated = |q: char| format!("the command has an unterminated {q} quote: {text}");
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(unterminated('\'')),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(unterminated('"')),
                        },
                        Some(c) => word.push(c),
                        None => return Err(unterminated('"')),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err(format!("the command ends with a lone \\: {text}")),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// A command as YAML gives it: a string (split by [`split_words`]) or a list of words.
struct Words(Vec<String>);

impl<'de> Deserialize<'de> for Words {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Words, D::Error> {
        struct WordsVisitor;
        impl<'de> Visitor<'de> for WordsVisitor {
            type Value = Words;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a command: a string or a list [COMMAND, ARGS...]")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Words, E> {
                split_words(text).map(Words).map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Words, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Words)
            }
        }
        d.deserialize_any(WordsVisitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecMap {
    command: Words,
    timeout: Option<Span>,
}

struct CommandVisitor;

impl<'de> Visitor<'de> for CommandVisitor {
    type Value = ExecSpec;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(
            "a command: a string, a list [COMMAND, ARGS...] or {command: [...], timeout: 5m}",
        )
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<ExecSpec, E> {
        ExecSpec::parse(text).map_err(E::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ExecSpec, A::Error> {
        let words = Vec::<String>::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        ExecSpec::new(words).map_err(de::Error::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ExecSpec, A::Error> {
        let map = ExecMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
        let mut spec = ExecSpec::new(map.command.0).map_err(de::Error::custom)?;
        if let Some(Span(timeout)) = map.timeout {
            if timeout.is_zero() {
                return Err(de::Error::custom("the exec timeout must be more than 0s"));
            }
            spec.timeout = timeout;
        }
        Ok(spec)
    }
}

impl<'de> Deserialize<'de> for ExecSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ExecSpec, D::Error> {
        d.deserialize_any(CommandVisitor)
    }
}

/// How much of the command's stderr is kept for the error message.
const STDERR_KEPT: usize = 8 << 10;
const STDERR_LINES: usize = 10;

pub struct ExecSink {
    spec: ExecSpec,
}

impl ExecSink {
    /// Checks that the program exists and can be run, so a typo is reported at start-up rather
    /// than at the first batch.
    pub fn open(spec: &ExecSpec, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<ExecSink> {
        let program = &spec.command[0];
        if program.contains('/') {
            check_executable(Path::new(program))
                .map_err(|why| anyhow::anyhow!("exec sink: {program} {why}"))?;
        } else {
            let path = env("PATH").unwrap_or_default();
            let found = path
                .split(':')
                .filter(|dir| !dir.is_empty())
                .any(|dir| check_executable(&Path::new(dir).join(program)).is_ok());
            if !found {
                anyhow::bail!(
                    "exec sink: the command '{program}' was not found in any directory of PATH; \
                     give its full path or install it"
                );
            }
        }
        Ok(ExecSink { spec: spec.clone() })
    }

    fn name(&self) -> &str {
        &self.spec.command[0]
    }

    async fn run(&self, bytes: Vec<u8>) -> Result<(), SinkError> {
        let mut child = tokio::process::Command::new(&self.spec.command[0])
            .args(&self.spec.command[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::inherit())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| SinkError {
                message: match e.kind() {
                    std::io::ErrorKind::NotFound => {
                        format!("exec sink: the command '{}' was not found", self.name())
                    }
                    _ => format!("exec sink: could not start '{}': {e}", self.name()),
                },
                retryable: false,
            })?;
        let pid = child.id();
        let (Some(mut stdin), Some(stderr)) = (child.stdin.take(), child.stderr.take()) else {
            unreachable!("stdin and stderr are piped");
        };
        let stderr = tokio::spawn(stderr_tail(stderr));
        // Write and wait at once: a command may exit (or fail) before reading everything.
        let write = async move {
            stdin.write_all(&bytes).await?;
            stdin.shutdown().await
        };
        let run = async { tokio::join!(write, child.wait()) };
        let Ok((written, status)) = tokio::time::timeout(self.spec.timeout, run).await else {
            kill_group(pid);
            let _ = child.start_kill();
            let _ = child.wait().await;
            return Err(SinkError {
                message: format!(
                    "exec sink: '{}' did not finish within {} and was killed{}",
                    self.name(),
                    Span(self.spec.timeout),
                    stderr_suffix(&collect(stderr).await)
                ),
                retryable: true,
            });
        };
        let status = status.map_err(|e| SinkError {
            message: format!("exec sink: could not wait for '{}': {e}", self.name()),
            retryable: true,
        })?;
        let stderr = collect(stderr).await;
        if !status.success() {
            return Err(SinkError {
                message: format!(
                    "exec sink: '{}' {}{}",
                    self.name(),
                    exit(status),
                    stderr_suffix(&stderr)
                ),
                // The command decides; it may well succeed later (a network it needs is back).
                retryable: true,
            });
        }
        // The exit status is the acknowledgement. A command that exits 0 without reading all of
        // its input is not an error: whether the pipe still held the unread part when it exited
        // is a race, and the command said it was done.
        if let Err(e) = written {
            tracing::warn!(
                command = self.name(),
                "the exec command exited 0 without reading all of its input: {e}"
            );
        }
        Ok(())
    }
}

impl Sink for ExecSink {
    fn recover<'a>(&'a mut self, _committed: Option<&'a str>) -> SinkFuture<'a, Vec<String>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn deliver<'a>(&'a mut self, batch: &'a [Line]) -> SinkFuture<'a, Option<String>> {
        Box::pin(async move {
            self.run(ndjson(batch)?).await?;
            Ok(None)
        })
    }

    fn describe(&self) -> String {
        let words: Vec<String> = self
            .spec
            .command
            .iter()
            .map(|w| {
                if w.is_empty() || w.contains(|c: char| c.is_whitespace() || "'\"\\".contains(c)) {
                    format!("'{}'", w.replace('\'', r"'\''"))
                } else {
                    w.clone()
                }
            })
            .collect();
        format!("exec {}", words.join(" "))
    }
}

fn check_executable(path: &Path) -> Result<(), &'static str> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err("is a directory"),
        Ok(m) if m.permissions().mode() & 0o111 == 0 => Err("is not executable"),
        Ok(_) => Ok(()),
        Err(_) => Err("does not exist"),
    }
}

/// Kills the command's process group: the command and whatever it started.
fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|p| libc::pid_t::try_from(p).ok()) {
        // SAFETY: kill only sends a signal; the group is the child's own (process_group(0)).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

fn exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}"),
        _ => format!("failed ({status})"),
    }
}

/// The last [`STDERR_KEPT`] bytes of the command's stderr.
async fn stderr_tail(mut stderr: tokio::process::ChildStderr) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = vec![0; 8 << 10];
    while let Ok(n) = stderr.read(&mut buf).await
        && n > 0
    {
        kept.extend_from_slice(&buf[..n]);
        if kept.len() > 2 * STDERR_KEPT {
            kept.drain(..kept.len() - STDERR_KEPT);
        }
    }
    if kept.len() > STDERR_KEPT {
        kept.drain(..kept.len() - STDERR_KEPT);
    }
    kept
}

/// The stderr read so far. A process the command left behind may hold stderr open: after the
/// command is gone, wait only briefly for the rest.
async fn collect(task: tokio::task::JoinHandle<Vec<u8>>) -> Vec<u8> {
    let abort = task.abort_handle();
    match tokio::time::timeout(Duration::from_millis(500), task).await {
        Ok(Ok(bytes)) => bytes,
        _ => {
            abort.abort();
            Vec::new()
        }
    }
}

fn stderr_suffix(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let last = &lines[lines.len().saturating_sub(STDERR_LINES)..];
    format!("; its stderr ended with:\n{}", last.join("\n"))
}
