//! Writing actions' answers: JSON, NDJSON, a table or CSV, streamed as items arrive.
//!
//! JSON and NDJSON keep every field of Okta's objects. A table and CSV show the columns the action
//! declares (dotted paths such as `profile.login`). A table sizes its columns from the first rows it
//! has seen, so a long list starts printing at once instead of after the last page.

use std::io::{self, Write};

use serde_json::Value;

/// How answers are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON document: an object, or an array for a list (pretty-printed).
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Aligned columns for reading.
    Table,
    /// Comma-separated values with a header line (RFC 4180 quoting).
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "json" => Ok(Format::Json),
            "ndjson" | "jsonl" => Ok(Format::Ndjson),
            "table" => Ok(Format::Table),
            "csv" => Ok(Format::Csv),
            other => Err(format!(
                "unknown output format '{other}': use json, ndjson, table or csv"
            )),
        }
    }
}

/// Rows a table looks at before fixing its column widths.
const TABLE_SAMPLE: usize = 50;
/// The widest a table column grows; longer values are cut with an ellipsis.
const TABLE_MAX_WIDTH: usize = 48;

/// Writes a sequence of items in one format: `item` for each, then `finish`.
pub struct Writer<W: Write> {
    out: W,
    format: Format,
    columns: Vec<String>,
    written: u64,
    /// Table rows held back until the widths are known.
    pending: Vec<Vec<String>>,
    widths: Option<Vec<usize>>,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W, format: Format, columns: &[&str]) -> Self {
        Writer {
            out,
            format,
            columns: columns.iter().map(|c| c.to_string()).collect(),
            written: 0,
            pending: Vec::new(),
            widths: None,
        }
    }

    /// Items written so far.
    pub fn count(&self) -> u64 {
        self.written
    }

    pub fn item(&mut self, item: &Value) -> io::Result<()> {
        match self.format {
            Format::Json => {
                self.out
                    .write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
                let text = serde_json::to_string_pretty(item).map_err(io::Error::other)?;
                for (i, line) in text.lines().enumerate() {
                    if i > 0 {
                        self.out.write_all(b"\n")?;
                    }
                    write!(self.out, "  {line}")?;
                }
            }
            Format::Ndjson => {
                serde_json::to_writer(&mut self.out, item).map_err(io::Error::other)?;
                self.out.write_all(b"\n")?;
            }
            Format::Csv => {
                if self.written == 0 {
                    let header: Vec<String> = self.columns.clone();
                    self.csv_line(&header)?;
                }
                let row = self.cells(item);
                self.csv_line(&row)?;
            }
            Format::Table => {
                let row = self.cells(item);
                match &self.widths {
                    Some(_) => self.table_line(&row)?,
                    None => {
                        self.pending.push(row);
                        if self.pending.len() >= TABLE_SAMPLE {
                            self.flush_table()?;
                        }
                    }
                }
            }
        }
        self.written += 1;
        // Stream: whoever reads our output sees each item as soon as it arrived.
        if self.format != Format::Table || self.widths.is_some() {
            self.out.flush()?;
        }
        Ok(())
    }

    /// Ends the output (closes the JSON array, prints a short table).
    pub fn finish(mut self) -> io::Result<()> {
        match self.format {
            Format::Json => {
                self.out
                    .write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?
            }
            Format::Table => {
                if self.written == 0 {
                    // The header alone says "nothing", in the table's own shape.
                    self.pending.clear();
                }
                self.flush_table()?
            }
            Format::Csv if self.written == 0 => {
                let header = self.columns.clone();
                self.csv_line(&header)?
            }
            _ => {}
        }
        self.out.flush()
    }

    /// One object on its own (not a list): JSON pretty, NDJSON one line, a table of one row.
    pub fn single(out: W, format: Format, columns: &[&str], item: &Value) -> io::Result<()> {
        match format {
            Format::Json => {
                let mut out = out;
                serde_json::to_writer_pretty(&mut out, item).map_err(io::Error::other)?;
                out.write_all(b"\n")?;
                out.flush()
            }
            _ => {
                let mut writer = Writer::new(out, format, columns);
                writer.item(item)?;
                writer.finish()
            }
        }
    }

    fn cells(&self, item: &Value) -> Vec<String> {
        self.columns.iter().map(|c| cell(item, c)).collect()
    }

    fn flush_table(&mut self) -> io::Result<()> {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &self.pending {
            for (w, value) in widths.iter_mut().zip(row) {
                *w = (*w).max(value.chars().count()).min(TABLE_MAX_WIDTH);
            }
        }
        self.widths = Some(widths);
        let header = self
            .columns
            .iter()
            .map(|c| c.to_uppercase())
            .collect::<Vec<_>>();
        self.table_line(&header)?;
        for row in std::mem::take(&mut self.pending) {
            self.table_line(&row)?;
        }
        self.out.flush()
    }

    fn table_line(&mut self, row: &[String]) -> io::Result<()> {
        let widths = self
            .widths
            .as_ref()
            .expect("widths are set before rows are printed");
        let mut line = String::new();
        for (i, (value, width)) in row.iter().zip(widths).enumerate() {
            let value = truncate(value, *width);
            if i + 1 == row.len() {
                line.push_str(&value);
            } else {
                line.push_str(&format!("{value:<width$}  "));
            }
        }
        writeln!(self.out, "{}", line.trim_end())
    }

    fn csv_line(&mut self, row: &[String]) -> io::Result<()> {
        let line: Vec<String> = row.iter().map(|v| csv_field(v)).collect();
        self.out.write_all(line.join(",").as_bytes())?;
        self.out.write_all(b"\r\n")
    }
}

/// The text of a dotted path in an object: strings bare, arrays joined with `;`, objects as JSON,
/// absent or null as empty.
pub fn cell(item: &Value, path: &str) -> String {
    let mut value = item;
    for key in path.split('.') {
        match value.get(key) {
            Some(v) => value = v,
            None => return String::new(),
        }
    }
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(";"),
        other => other.to_string(),
    }
}

fn truncate(value: &str, width: usize) -> String {
    // Control characters (a newline in a description) would break the table's lines.
    let clean: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= width {
        clean
    } else {
        let mut cut: String = clean.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(format: Format, items: &[Value]) -> String {
        let mut buf = Vec::new();
        let mut w = Writer::new(&mut buf, format, &["id", "profile.login", "tags"]);
        for item in items {
            w.item(item).unwrap();
        }
        w.finish().unwrap();
        String::from_utf8(buf).unwrap()
    }

    fn items() -> Vec<Value> {
        vec![
            json!({"id": "00u1", "profile": {"login": "a@x.com"}, "tags": ["x", "y"], "extra": {"k": 1}}),
            json!({"id": "00u2", "profile": {"login": "b,\"q\"@x.com"}}),
        ]
    }

    #[test]
    fn json_is_one_array_that_keeps_every_field() {
        let text = render(Format::Json, &items());
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, Value::Array(items()));
        assert_eq!(render(Format::Json, &[]).trim(), "[]");
    }

    #[test]
    fn ndjson_is_one_object_per_line() {
        let text = render(Format::Ndjson, &items());
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines, items());
    }

    #[test]
    fn csv_quotes_and_flattens() {
        let text = render(Format::Csv, &items());
        assert_eq!(
            text,
            "id,profile.login,tags\r\n00u1,a@x.com,x;y\r\n00u2,\"b,\"\"q\"\"@x.com\",\r\n"
        );
        assert_eq!(render(Format::Csv, &[]), "id,profile.login,tags\r\n");
    }

    #[test]
    fn table_aligns_columns() {
        let text = render(Format::Table, &items());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "ID    PROFILE.LOGIN  TAGS");
        assert_eq!(lines[1], "00u1  a@x.com        x;y");
        assert_eq!(lines[2], "00u2  b,\"q\"@x.com");
        assert_eq!(render(Format::Table, &[]).trim(), "ID  PROFILE.LOGIN  TAGS");
    }

    #[test]
    fn long_cells_are_cut() {
        let long = "x".repeat(100);
        let text = render(Format::Table, &[json!({"id": long})]);
        let row = text.lines().nth(1).unwrap();
        // The empty columns after it are trimmed away.
        assert_eq!(row.chars().count(), TABLE_MAX_WIDTH);
        assert!(row.ends_with('…'));
    }
}
