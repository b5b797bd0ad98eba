//! `actions run NAME --input @FILE.ndjson|.csv` (or `--bulk`): the CLI side of a bulk run — reading
//! the file, the journal, the progress line, the result lines, the summary, Ctrl-C and the exit code.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use okta_connector::actions::ActionDef;
use okta_connector::bulk::{self, Batch, Outcome, Summary};
use okta_connector::connections as conn;
use okta_connector::journal::{RunJournal, RunKey, content_hash};
use okta_connector::output::{Format, Writer};

use crate::commands::Context;
use crate::exit::{self, Exit};

/// The exit code after Ctrl-C, as a shell reports a process killed by SIGINT.
const INTERRUPTED: u8 = 130;

/// The table/CSV form of a result line.
const COLUMNS: &[&str] = &[
    "line",
    "ok",
    "skipped",
    "output.id",
    "output.status",
    "error",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    Ndjson,
    Csv,
}

pub struct Options {
    pub format: InputFormat,
    pub concurrency: usize,
    pub fresh: bool,
}

/// Whether `--input` names a bulk run, and in which format: by the file's extension, or `--bulk`.
pub fn format_of(input: Option<&str>, bulk_flag: bool) -> Option<InputFormat> {
    let by_extension = input
        .and_then(|i| i.strip_prefix('@'))
        .and_then(|path| std::path::Path::new(path).extension())
        .and_then(|ext| ext.to_str())
        .map(str::to_ascii_lowercase);
    match by_extension.as_deref() {
        Some("csv") => Some(InputFormat::Csv),
        Some("ndjson" | "jsonl") => Some(InputFormat::Ndjson),
        _ if bulk_flag => Some(InputFormat::Ndjson),
        _ => None,
    }
}

fn read_bytes(input: &str) -> anyhow::Result<Vec<u8>> {
    match input.strip_prefix('@') {
        Some(path) => std::fs::read(path).map_err(|e| {
            Exit::error(
                exit::USAGE,
                anyhow::anyhow!("cannot read the input file {path}: {e}"),
            )
        }),
        None if input == "-" => {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).map_err(|e| {
                Exit::error(
                    exit::USAGE,
                    anyhow::anyhow!("cannot read the inputs from standard input: {e}"),
                )
            })?;
            Ok(bytes)
        }
        // `--bulk --input '{...}'`: the text itself, one input per line.
        None => Ok(input.as_bytes().to_vec()),
    }
}

pub async fn run(
    ctx: &Context,
    action: &'static ActionDef,
    input: &str,
    options: Options,
) -> anyhow::Result<()> {
    let bytes = read_bytes(input)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Exit::error(
            exit::USAGE,
            anyhow::anyhow!("the inputs are not UTF-8 text"),
        )
    })?;
    let items = match options.format {
        InputFormat::Ndjson => bulk::parse_ndjson(&text),
        InputFormat::Csv => bulk::parse_csv(&text, &action.input_schema()),
    };

    // The connection is resolved once: one client, so one rate-limit governor for every input.
    let state = ctx.state_dir()?;
    let resolved = conn::resolve(&state, ctx.connection.as_deref(), &ctx.environment())
        .map_err(|e| Exit::error(exit::CONNECTION, e))?;
    for warning in &resolved.warnings {
        eprintln!("warning: {warning}");
    }
    let connection = &resolved.connection;
    let client = connection
        .client()
        .map_err(|e| Exit::error(exit::CONNECTION, e))?;
    let connection_key = format!("{} {}", connection.name, connection.org_url);
    let input_hash = content_hash(text.as_bytes());
    let journal = RunJournal::open(
        &state,
        &RunKey {
            connection: &connection_key,
            action: action.name,
            input_hash: &input_hash,
        },
        items.len() as u64,
        options.fresh,
    )?;
    if journal.resumed {
        eprintln!(
            "resuming run {} (same connection, action and input; --fresh starts over)",
            journal.run_id
        );
    }

    // Ctrl-C: stop taking inputs, let those in flight finish and be recorded. A second one quits now
    // (the journal still holds every finished input; those in flight read as `started`).
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn({
        let stop = stop.clone();
        async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::SeqCst);
                eprintln!("\nstopping: finishing the inputs in flight (Ctrl-C again to quit now)");
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(INTERRUPTED.into());
                }
            }
        }
    });

    let format = ctx.output.unwrap_or(Format::Ndjson);
    let mut writer = Writer::new(std::io::stdout().lock(), format, COLUMNS);
    let mut progress = Progress::new();
    let mut write_error = None;
    let batch = Batch {
        action,
        items,
        concurrency: options.concurrency,
        journal: Some(&journal),
        stop: stop.clone(),
    };
    let summary = bulk::run(&client, batch, |line, outcome, summary| {
        if write_error.is_none()
            && let Err(e) = writer.item(&outcome.to_json(line))
        {
            // The reader went away: stop taking inputs, keep the journal right.
            write_error = Some(e);
            stop.store(true, Ordering::SeqCst);
        }
        progress.tick(summary, matches!(outcome, Outcome::Skipped(_)));
    })
    .await;
    watcher.abort();
    progress.clear();
    let summary = summary?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    writer.finish()?;
    eprintln!("{}", describe(action.name, journal.run_id, &summary));

    if summary.interrupted {
        return Err(Exit::error(
            INTERRUPTED,
            anyhow::anyhow!(
                "interrupted: {} inputs not started; run the same command to resume",
                summary.not_started
            ),
        ));
    }
    if summary.failed > 0 {
        return Err(Exit::error(
            exit::REFUSED,
            anyhow::anyhow!(
                "{} of {} inputs failed (see their result lines)",
                summary.failed,
                summary.total
            ),
        ));
    }
    Ok(())
}

fn describe(action: &str, run_id: i64, s: &Summary) -> String {
    let bad = if s.invalid > 0 {
        format!(" ({} bad lines)", s.invalid)
    } else {
        String::new()
    };
    format!(
        "{action}: {} ok, {} failed{bad}, {} skipped as already done, of {} inputs in {:.1} s \
         ({:.1} actions sent/s); run {run_id} in the journal",
        s.ok,
        s.failed,
        s.skipped,
        s.total,
        s.elapsed.as_secs_f64(),
        s.rate()
    )
}

/// One line on stderr, only when it is a terminal: done/total, ok/failed, rate and ETA.
struct Progress {
    enabled: bool,
    last: Option<Instant>,
    shown: bool,
}

impl Progress {
    fn new() -> Self {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            last: None,
            shown: false,
        }
    }

    fn tick(&mut self, s: &Summary, skipped: bool) {
        if !self.enabled || skipped {
            return;
        }
        if self
            .last
            .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
        {
            return;
        }
        self.last = Some(Instant::now());
        let done = s.done();
        let width = 24;
        let filled = (done * width / s.total.max(1)) as usize;
        let rate = s.rate();
        let eta = if rate > 0.0 {
            format_duration((s.total - done) as f64 / rate)
        } else {
            "?".into()
        };
        eprint!(
            "\r\x1b[2K[{}{}] {done}/{} · {} ok · {} failed · {rate:.1}/s · ETA {eta}",
            "#".repeat(filled),
            "-".repeat(width as usize - filled),
            s.total,
            s.ok + s.skipped,
            s.failed
        );
        self.shown = true;
    }

    fn clear(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
            self.shown = false;
        }
    }
}

fn format_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}
