//! Bulk runs: one action over many inputs (NDJSON or CSV), with bounded concurrency inside the
//! client's rate-limit governor, a result per input, and the run journal (`crate::journal`) that
//! makes an interrupted run resumable.
//!
//! **The resume contract.** On resume, `done` items are skipped (their recorded output is reported
//! again, marked `"skipped": true`); `failed` items are tried again; `started` items — the process
//! died between sending and recording — are sent again. That is safe only for actions that are
//! idempotent by state: acting on an object already in the target state reports "already in that
//! state" instead of acting twice (the lifecycle actions do: deactivating a DEPROVISIONED user does
//! nothing). An action that is not idempotent (e.g. a raw `custom_api_call` POST that creates
//! something) may be performed twice for the few items in flight at the moment of a crash; at most
//! `concurrency` of them.
//!
//! Results come out in **completion order** (each carries its input line), so a slow input never
//! holds back the others.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use okta_client::Client;
use serde_json::{Value, json};

use crate::actions::{ActionDef, ActionError, ActionOutput};
use crate::journal::{ItemState, RunJournal, content_hash};

/// One input of a batch, as read from its file.
#[derive(Clone, Debug)]
pub struct Item {
    /// The 1-based line of the file where the input starts (CSV: the header is line 1).
    pub line: u64,
    /// The input, or why the line is not one.
    pub input: Result<Value, String>,
}

/// Inputs from NDJSON: one JSON value per line; blank lines are ignored.
pub fn parse_ndjson(text: &str) -> Vec<Item> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Item {
            line: i as u64 + 1,
            input: serde_json::from_str(l).map_err(|e| format!("not JSON: {e}")),
        })
        .collect()
}

/// Inputs from CSV (RFC 4180: quoted fields, doubled quotes, newlines inside quotes): a header row
/// naming input properties, then one input per row. An empty cell leaves the property out. A cell
/// becomes JSON (object, array, number, boolean) when the property's schema type allows that and the
/// cell parses as it; otherwise it is a string.
pub fn parse_csv(text: &str, input_schema: &Value) -> Vec<Item> {
    let records = csv_records(text);
    let mut records = records.into_iter();
    let Some((_, header)) = records.next() else {
        return Vec::new();
    };
    let header: Vec<String> = header.into_iter().map(|h| h.trim().to_string()).collect();
    records
        .filter(|(_, cells)| !(cells.len() == 1 && cells[0].trim().is_empty()))
        .map(|(line, cells)| {
            let input = if cells.len() != header.len() {
                Err(format!(
                    "{} cells where the header names {} columns",
                    cells.len(),
                    header.len()
                ))
            } else {
                let mut object = serde_json::Map::new();
                for (name, cell) in header.iter().zip(cells) {
                    if !cell.is_empty() {
                        let types = schema_types(&input_schema["properties"][name], input_schema);
                        object.insert(name.clone(), csv_value(cell, &types));
                    }
                }
                Ok(Value::Object(object))
            };
            Item { line, input }
        })
        .collect()
}

/// The JSON types a property's schema allows (empty: unknown, anything goes).
fn schema_types(property: &Value, root: &Value) -> Vec<String> {
    let mut types = Vec::new();
    let mut add = |schema: &Value| match &schema["type"] {
        Value::String(t) => types.push(t.clone()),
        Value::Array(ts) => types.extend(ts.iter().filter_map(|t| t.as_str().map(String::from))),
        _ => {}
    };
    // Follow one local `$ref` (`#/$defs/Name`), as schemars writes them.
    let resolve = |s: &Value| -> Value {
        match s["$ref"].as_str().and_then(|r| r.strip_prefix("#/")) {
            Some(path) => path
                .split('/')
                .fold(root.clone(), |v, part| v[part].clone()),
            None => s.clone(),
        }
    };
    let property = resolve(property);
    add(&property);
    for key in ["anyOf", "oneOf"] {
        for alternative in property[key].as_array().into_iter().flatten() {
            add(&resolve(alternative));
        }
    }
    types
}

fn csv_value(cell: String, types: &[String]) -> Value {
    let only_string = !types.is_empty() && types.iter().all(|t| t == "string" || t == "null");
    if only_string {
        return Value::String(cell);
    }
    match serde_json::from_str::<Value>(cell.trim()) {
        Ok(v) if !v.is_string() && !v.is_null() => {
            let kind = match &v {
                Value::Object(_) => "object",
                Value::Array(_) => "array",
                Value::Bool(_) => "boolean",
                Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                _ => "number",
            };
            let fits = types.is_empty()
                || types
                    .iter()
                    .any(|t| t == kind || (t == "number" && kind == "integer"));
            if fits { v } else { Value::String(cell) }
        }
        _ => Value::String(cell),
    }
}

/// CSV records with the line each starts on.
fn csv_records(text: &str) -> Vec<(u64, Vec<String>)> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1u64;
    let mut start = 1u64;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            }
            '"' if field.is_empty() => quoted = true,
            '\n' if quoted => {
                line += 1;
                field.push('\n');
            }
            ',' if !quoted => record.push(std::mem::take(&mut field)),
            '\r' if !quoted && chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push((start, std::mem::take(&mut record)));
                line += 1;
                start = line;
            }
            c => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push((start, record));
    }
    records
}

/// What became of one input.
#[derive(Clone, Debug)]
pub enum Outcome {
    Ok(Value),
    /// Okta refused or failed, or the input is bad (nothing sent).
    Failed(String),
    /// Done by an earlier attempt of this run: its recorded output.
    Skipped(Value),
}

impl Outcome {
    /// The result line: `{"line": n, "ok": true, "output": ...}` or `{"line": n, "ok": false, "error": ...}`.
    pub fn to_json(&self, line: u64) -> Value {
        match self {
            Outcome::Ok(output) => json!({"line": line, "ok": true, "output": output}),
            Outcome::Skipped(output) => {
                json!({"line": line, "ok": true, "skipped": true, "output": output})
            }
            Outcome::Failed(error) => json!({"line": line, "ok": false, "error": error}),
        }
    }
}

/// How a batch went.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub total: u64,
    pub ok: u64,
    pub failed: u64,
    /// Lines that are not valid inputs (also counted in `failed`).
    pub invalid: u64,
    /// Done by an earlier attempt of the same run.
    pub skipped: u64,
    /// Inputs not started because the run was stopped (Ctrl-C).
    pub not_started: u64,
    pub elapsed: Duration,
    pub interrupted: bool,
}

impl Summary {
    pub fn done(&self) -> u64 {
        self.ok + self.failed + self.skipped
    }

    /// Actions sent per second (skipped and invalid inputs send nothing).
    pub fn rate(&self) -> f64 {
        let sent = (self.ok + self.failed - self.invalid) as f64;
        sent / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A batch to run.
pub struct Batch<'a> {
    pub action: &'static ActionDef,
    pub items: Vec<Item>,
    /// Requests in flight at most (the governor may hold them back further).
    pub concurrency: usize,
    pub journal: Option<&'a RunJournal>,
    /// Set to stop taking new inputs; those in flight finish and are recorded.
    pub stop: Arc<AtomicBool>,
}

/// Runs the batch; `report` sees each input's outcome as it completes, with the running summary.
pub async fn run(
    client: &Client,
    batch: Batch<'_>,
    mut report: impl FnMut(u64, &Outcome, &Summary),
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let action = batch.action;
    let recorded = match batch.journal {
        Some(j) => j.recorded()?,
        None => HashMap::new(),
    };
    let mut summary = Summary {
        total: batch.items.len() as u64,
        ..Summary::default()
    };
    let mut to_run = Vec::new();
    for item in batch.items {
        let outcome = match item.input {
            Err(reason) => Some(Outcome::Failed(format!("invalid input: {reason}"))),
            Ok(input) => match action.validate(input.clone()) {
                Err(e) => Some(Outcome::Failed(e.to_string())),
                Ok(()) => {
                    let hash = content_hash(input.to_string().as_bytes());
                    match recorded.get(&item.line) {
                        Some(r) if r.state == ItemState::Done && r.input_hash == hash => {
                            Some(Outcome::Skipped(r.result.clone().unwrap_or(Value::Null)))
                        }
                        _ => {
                            to_run.push((item.line, hash, input));
                            None
                        }
                    }
                }
            },
        };
        if let Some(outcome) = outcome {
            tally(&mut summary, &outcome, true);
            summary.elapsed = started.elapsed();
            report(item.line, &outcome, &summary);
        }
    }

    let journal = batch.journal;
    let stop = batch.stop.clone();
    let mut results = futures_util::stream::iter(to_run)
        .take_while(|_| std::future::ready(!stop.load(Ordering::SeqCst)))
        .map(|(line, hash, input)| async move {
            if let Some(j) = journal {
                // Before the request: if we die after sending, the journal says "maybe sent".
                j.record(line, &hash, ItemState::Started, None)?;
            }
            let outcome = match perform(client, action, input).await {
                Ok(output) => Outcome::Ok(output),
                Err(e) => Outcome::Failed(e.to_string()),
            };
            if let Some(j) = journal {
                match &outcome {
                    Outcome::Ok(v) => j.record(line, &hash, ItemState::Done, Some(v))?,
                    Outcome::Failed(e) => {
                        j.record(line, &hash, ItemState::Failed, Some(&json!(e)))?
                    }
                    Outcome::Skipped(_) => {}
                }
            }
            anyhow::Ok((line, outcome))
        })
        .buffer_unordered(batch.concurrency.max(1));
    let mut ran = 0u64;
    let queued = summary.total - summary.done();
    while let Some(result) = results.next().await {
        let (line, outcome) = result?;
        ran += 1;
        tally(&mut summary, &outcome, false);
        summary.elapsed = started.elapsed();
        report(line, &outcome, &summary);
    }
    summary.not_started = queued - ran;
    summary.interrupted = batch.stop.load(Ordering::SeqCst);
    summary.elapsed = started.elapsed();
    Ok(summary)
}

fn tally(summary: &mut Summary, outcome: &Outcome, before_sending: bool) {
    match outcome {
        Outcome::Ok(_) => summary.ok += 1,
        Outcome::Skipped(_) => summary.skipped += 1,
        Outcome::Failed(_) => {
            summary.failed += 1;
            if before_sending {
                summary.invalid += 1;
            }
        }
    }
}

/// One action; a list output is collected (a bulk run of list actions is rare and small).
async fn perform(client: &Client, action: &ActionDef, input: Value) -> Result<Value, ActionError> {
    match action.run(client.clone(), input).await? {
        ActionOutput::One(v) => Ok(v),
        ActionOutput::Stream(mut items) => {
            let mut all = Vec::new();
            while let Some(item) = items.next().await {
                all.push(item?);
            }
            Ok(Value::Array(all))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndjson_lines_keep_their_numbers_and_bad_lines_say_why() {
        let items = parse_ndjson("{\"a\":1}\n\nnot json\n{\"b\":2}\n");
        let lines: Vec<u64> = items.iter().map(|i| i.line).collect();
        assert_eq!(lines, [1, 3, 4]);
        assert!(items[1].input.as_ref().unwrap_err().starts_with("not JSON"));
        assert_eq!(items[2].input.as_ref().unwrap()["b"], 2);
    }

    #[test]
    fn csv_cells_follow_the_schema_types() {
        let schema = json!({
            "properties": {
                "user": {"type": "string"},
                "sendEmail": {"type": ["boolean", "null"]},
                "body": {},
                "query": {"$ref": "#/$defs/Q"},
            },
            "$defs": {"Q": {"type": "object"}}
        });
        let text = "user,sendEmail,body,query\r\n\
                    123,true,\"{\"\"a\"\": [1]}\",\"{\"\"x\"\":\"\"y\"\"}\"\n\
                    \"multi\nline\",,plain,\n\
                    only,two\n";
        let items = parse_csv(text, &schema);
        assert_eq!(items.len(), 3);
        let first = items[0].input.as_ref().unwrap();
        assert_eq!(items[0].line, 2);
        assert_eq!(first["user"], "123", "a string property stays a string");
        assert_eq!(first["sendEmail"], true);
        assert_eq!(first["body"], json!({"a": [1]}));
        assert_eq!(first["query"], json!({"x": "y"}));
        let second = items[1].input.as_ref().unwrap();
        assert_eq!(second["user"], "multi\nline");
        assert!(
            second.get("sendEmail").is_none(),
            "an empty cell is left out"
        );
        assert_eq!(second["body"], "plain");
        assert_eq!(items[2].line, 5);
        assert!(items[2].input.as_ref().unwrap_err().contains("2 cells"));
    }
}
