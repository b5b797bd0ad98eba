//! `okta-connector actions list|describe|run` and the friendly subcommands: all run actions from the
//! registry, validate the input before anything is sent, and write the answer as it streams in.

mod bulk;

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::StreamExt;
use serde_json::{Value, json};

use okta_connector::actions::{self, ActionDef, ActionOutput};
use okta_connector::output::{Format, Writer};

use crate::cli::actions::{ActionsArgs, ActionsCommand};
use crate::commands::Context;
use crate::exit::{self, Exit};

pub async fn run(ctx: &Context, args: ActionsArgs) -> anyhow::Result<()> {
    match args.command {
        ActionsCommand::List => list(ctx),
        ActionsCommand::Describe { name } => describe(ctx, find(&name)?).await,
        ActionsCommand::Run {
            name,
            input,
            bulk,
            concurrency,
            fresh,
        } => {
            let action = find(&name)?;
            if let Some(format) = bulk::format_of(input.as_deref(), bulk) {
                let options = bulk::Options {
                    format,
                    concurrency: concurrency.into(),
                    fresh,
                };
                return bulk::run(ctx, action, input.as_deref().unwrap_or("-"), options).await;
            }
            if fresh {
                return Err(Exit::error(
                    exit::USAGE,
                    anyhow::anyhow!(
                        "--fresh is for bulk runs: give a .ndjson, .jsonl or .csv file, or --bulk"
                    ),
                ));
            }
            let input = read_json(input.as_deref(), "--input")?;
            run_action(ctx, action, input).await
        }
        ActionsCommand::Docs => {
            print!("{}", docs());
            Ok(())
        }
    }
}

pub(crate) fn find(name: &str) -> anyhow::Result<&'static ActionDef> {
    actions::find(name).ok_or_else(|| {
        let names: Vec<&str> = actions::registry().iter().map(|a| a.name).collect();
        Exit::error(
            exit::USAGE,
            anyhow::anyhow!(
                "no action named '{name}'; the actions are: {}",
                names.join(", ")
            ),
        )
    })
}

/// `--input` (or `--config`): JSON text, `@FILE`, or `-` for standard input; `{}` when absent.
pub(crate) fn read_json(input: Option<&str>, flag: &str) -> anyhow::Result<Value> {
    let (text, origin) = match input {
        None => return Ok(json!({})),
        Some("-") => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .context("cannot read the input from standard input")?;
            (text, "standard input".to_string())
        }
        Some(path) if path.starts_with('@') => {
            let path = &path[1..];
            let text = std::fs::read_to_string(path).map_err(|e| {
                Exit::error(
                    exit::USAGE,
                    anyhow::anyhow!("cannot read the input file {path}: {e}"),
                )
            })?;
            (text, path.to_string())
        }
        Some(text) => (text.to_string(), "--input".to_string()),
    };
    serde_json::from_str(&text).map_err(|e| {
        Exit::error(
            exit::USAGE,
            anyhow::anyhow!("the {flag} in {origin} is not JSON: {e} (example: {flag} '{{\"name\": \"value\"}}')"),
        )
    })
}

fn list(ctx: &Context) -> anyhow::Result<()> {
    let rows: Vec<Value> = actions::registry()
        .iter()
        .map(|a| {
            json!({
                "name": a.name,
                "returns": returns(a),
                "summary": a.summary,
            })
        })
        .collect();
    let format = ctx.output.unwrap_or(Format::Table);
    let mut writer = Writer::new(
        std::io::stdout().lock(),
        format,
        &["name", "returns", "summary"],
    );
    for row in &rows {
        writer.item(row)?;
    }
    writer.finish()?;
    Ok(())
}

fn returns(action: &ActionDef) -> String {
    if action.output.list {
        format!("stream of {}", action.output.item)
    } else {
        action.output.item.to_string()
    }
}

/// With `--connection` (or `-c`), an action that takes a user profile shows that org's real profile
/// fields, custom attributes included, from its user schema.
async fn describe(ctx: &Context, action: &ActionDef) -> anyhow::Result<()> {
    let mut schema = action.input_schema();
    let mut profile_from = None;
    if action.profile && ctx.connection.is_some() {
        let client = ctx.client()?;
        let profile = okta_connector::profile_schema::cache().get(&client).await?;
        schema["properties"]["profile"] = profile.to_json_schema();
        profile_from = Some(client.org_url().to_string());
    }
    if matches!(ctx.output, Some(Format::Json | Format::Ndjson)) {
        let doc = json!({
            "name": action.name,
            "summary": action.summary,
            "returns": returns(action),
            "inputSchema": schema,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}: {}", action.name, action.summary)?;
    writeln!(out, "\nReturns: {}", returns(action))?;
    match profile_from {
        Some(org) => writeln!(
            out,
            "\nThe profile's fields are those of {org}'s user schema."
        )?,
        None if action.profile => writeln!(
            out,
            "\nThe profile is checked against the org's user schema; add --connection NAME to see its fields."
        )?,
        None => {}
    }
    writeln!(
        out,
        "\nInput (JSON Schema):\n{}",
        serde_json::to_string_pretty(&schema)?
    )?;
    writeln!(
        out,
        "\nRun it:\n  okta-connector actions run {} --input '{}'",
        action.name,
        example(action)
    )?;
    if let Some((group, verb, _)) = crate::cli::friendly::FRIENDLY
        .iter()
        .find(|(_, _, n)| *n == action.name)
    {
        writeln!(out, "  okta-connector {group} {verb} --help")?;
    }
    Ok(())
}

/// A minimal input for the docs: the required properties with placeholder values.
fn example(action: &ActionDef) -> String {
    let schema = action.input_schema();
    let mut example = serde_json::Map::new();
    for name in schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let placeholder = match name {
            "user" => "alice@example.com",
            "group" => "00g1a2b3c4d5e6f7g8h9",
            "app" => "0oa1a2b3c4d5e6f7g8h9",
            "method" => "GET",
            "path" => "/api/v1/users/me",
            _ => "...",
        };
        example.insert(name.to_string(), Value::String(placeholder.into()));
    }
    Value::Object(example).to_string()
}

/// The Markdown reference of every action, for the README.
pub fn docs() -> String {
    let mut doc =
        String::from("| action | returns | what it does | CLI shortcut |\n|---|---|---|---|\n");
    for action in actions::registry() {
        let shortcut = crate::cli::friendly::FRIENDLY
            .iter()
            .find(|(_, _, n)| *n == action.name)
            .map(|(g, v, _)| format!("`{g} {v}`"))
            .unwrap_or_default();
        doc.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            action.name,
            returns(action),
            action.summary,
            shortcut
        ));
    }
    doc
}

/// Validates the input, resolves the connection, runs the action and writes its answer.
pub async fn run_action(ctx: &Context, action: &ActionDef, input: Value) -> anyhow::Result<()> {
    // Bad input is reported before a connection is needed or a request is sent.
    action.validate(input.clone())?;
    let client = ctx.client()?;
    let output = action.run(client, input).await?;
    let columns = action.output.columns;
    match output {
        ActionOutput::One(value) => {
            let format = ctx.output.unwrap_or(Format::Json);
            Writer::single(std::io::stdout().lock(), format, columns, &value)?;
        }
        ActionOutput::Stream(mut items) => {
            let stdout = std::io::stdout();
            let format = ctx.output.unwrap_or(if stdout.is_terminal() {
                Format::Table
            } else {
                Format::Ndjson
            });
            let mut writer = Writer::new(stdout.lock(), format, columns);
            let mut progress = Progress::new(action.output.item);
            while let Some(item) = items.next().await {
                match item {
                    Ok(value) => {
                        writer.item(&value)?;
                        progress.tick(writer.count());
                    }
                    Err(e) => {
                        // What was printed stays printed; the error says where the list broke off.
                        progress.clear();
                        writer.finish()?;
                        let error = anyhow::Error::new(e);
                        return Err(match progress.count {
                            0 => error,
                            n => error.context(format!("the list broke off after {n} items")),
                        });
                    }
                }
            }
            progress.clear();
            writer.finish()?;
        }
    }
    Ok(())
}

/// A count of items fetched, on stderr, only when stderr is a terminal (never in a pipe or a log).
struct Progress {
    enabled: bool,
    item: &'static str,
    count: u64,
    started: Instant,
    last: Instant,
    shown: bool,
}

impl Progress {
    fn new(item: &'static str) -> Self {
        let now = Instant::now();
        Progress {
            enabled: std::io::stderr().is_terminal(),
            item,
            count: 0,
            started: now,
            last: now,
            shown: false,
        }
    }

    fn tick(&mut self, count: u64) {
        self.count = count;
        // Only lists that take a while get a progress line.
        if !self.enabled
            || self.last.elapsed() < Duration::from_millis(250)
            || self.started.elapsed() < Duration::from_secs(1)
        {
            return;
        }
        self.last = Instant::now();
        let rate = count as f64 / self.started.elapsed().as_secs_f64();
        eprint!("\r\x1b[2K{count} {}s fetched ({rate:.0}/s)…", self.item);
        self.shown = true;
    }

    fn clear(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
            self.shown = false;
        }
    }
}
