//! `okta-connector triggers list|describe|status|reset`, `watch`, `serve` and `jobs list`.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::Arc;

use anyhow::Context as _;
use okta_connector::output::{Format, Writer};
use okta_connector::serve::ServeConfig;
use okta_connector::sinks::SinkSpec;
use okta_connector::triggers::categories::CATEGORIES;
use okta_connector::triggers::runtime::{self, Instance, Options, RunError, Stopped};
use okta_connector::triggers::{self, SourceError, TriggerDef, state};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::Context;
use crate::cli::triggers::{
    HooksArgs, HooksCommand, JobsArgs, JobsCommand, ServeArgs, TriggersArgs, TriggersCommand,
    WatchArgs,
};
use crate::exit::{self, Exit};

pub async fn run(ctx: &Context, args: TriggersArgs) -> anyhow::Result<()> {
    match args.command {
        TriggersCommand::List => list(ctx),
        TriggersCommand::Describe { name } => describe(ctx, find(&name)?),
        TriggersCommand::Status => status(ctx),
        TriggersCommand::Reset { name } => {
            let dir = ctx.state_dir()?;
            if state::reset(&dir, &name)? {
                eprintln!("forgot the cursor of '{name}': its next run starts from its `start`");
                Ok(())
            } else {
                Err(Exit::error(
                    exit::USAGE,
                    anyhow::anyhow!(
                        "no trigger instance named '{name}' (see `okta-connector triggers status`)"
                    ),
                ))
            }
        }
        TriggersCommand::Docs => {
            print!("{}", docs());
            Ok(())
        }
    }
}

fn find(name: &str) -> anyhow::Result<&'static TriggerDef> {
    triggers::find(name).ok_or_else(|| {
        let names: Vec<&str> = triggers::registry().iter().map(|t| t.name).collect();
        Exit::error(
            exit::USAGE,
            anyhow::anyhow!(
                "no trigger named '{name}'; the triggers are: {}",
                names.join(", ")
            ),
        )
    })
}

fn list(ctx: &Context) -> anyhow::Result<()> {
    let mut writer = Writer::new(
        std::io::stdout().lock(),
        ctx.output.unwrap_or(Format::Table),
        &["name", "record", "summary"],
    );
    for t in triggers::registry() {
        writer.item(&json!({"name": t.name, "record": t.record.object, "summary": t.summary}))?;
    }
    writer.finish()?;
    Ok(())
}

fn describe(ctx: &Context, trigger: &TriggerDef) -> anyhow::Result<()> {
    let schema = trigger.config_schema();
    if matches!(ctx.output, Some(Format::Json | Format::Ndjson)) {
        let doc = json!({
            "name": trigger.name,
            "summary": trigger.summary,
            "record": {
                "object": trigger.record.object,
                "shape": trigger.record.shape,
                "id": trigger.record.id,
                "details": trigger.record.details,
            },
            "configSchema": schema,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}: {}", trigger.name, trigger.summary)?;
    writeln!(
        out,
        "\nRecords: envelopes {{trigger, connection, id, cursor, emitted, record{}}}\n  record: the {} as Okta sent it\n  id: {}",
        if trigger.record.details.is_some() {
            ", details"
        } else {
            ""
        },
        trigger.record.object,
        trigger.record.id
    )?;
    if let Some(shape) = trigger.record.shape {
        writeln!(out, "  record fields: {shape}")?;
    }
    if let Some(details) = trigger.record.details {
        writeln!(out, "  details: {details}")?;
    }
    if trigger.name == "new_events" {
        writeln!(out, "\nCategories (each sent as eventType sw \"prefix\"):")?;
        for (category, prefixes) in CATEGORIES {
            writeln!(out, "  {:<17} {}", category.name(), prefixes.join(", "))?;
        }
    }
    writeln!(
        out,
        "\nConfiguration (JSON Schema):\n{}",
        serde_json::to_string_pretty(&schema)?
    )?;
    writeln!(
        out,
        "\nRun it:\n  okta-connector watch {} --config '{{}}' --sink stdout",
        trigger.name
    )?;
    Ok(())
}

/// The README's trigger reference: the table of triggers and the categories of new_events.
pub fn docs() -> String {
    let mut doc = String::from("| trigger | record (id) | what it delivers |\n|---|---|---|\n");
    for t in triggers::registry() {
        doc.push_str(&format!(
            "| `{}` | {} ({}) | {} |\n",
            t.name, t.record.object, t.record.id, t.summary
        ));
    }
    doc.push_str("\n| category | event types (prefixes) |\n|---|---|\n");
    for (category, prefixes) in CATEGORIES {
        let prefixes: Vec<String> = prefixes.iter().map(|p| format!("`{p}`")).collect();
        doc.push_str(&format!(
            "| `{}` | {} |\n",
            category.name(),
            prefixes.join(", ")
        ));
    }
    doc
}

fn status(ctx: &Context) -> anyhow::Result<()> {
    let dir = ctx.state_dir()?;
    let mut writer = Writer::new(
        std::io::stdout().lock(),
        ctx.output.unwrap_or(Format::Table),
        &["name", "connection", "trigger", "updated", "cursor"],
    );
    for row in state::instances(&dir)? {
        let mut value = serde_json::to_value(&row)?;
        if ctx.output.is_none() || ctx.output == Some(Format::Table) {
            // A cursor is long; the table shows its JSON on one line.
            value["cursor"] = Value::String(row.cursor.map(|c| c.to_string()).unwrap_or_default());
        }
        writer.item(&value)?;
    }
    writer.finish()?;
    Ok(())
}

pub async fn jobs(ctx: &Context, args: JobsArgs) -> anyhow::Result<()> {
    let JobsCommand::List { name, limit } = args.command;
    let dir = ctx.state_dir()?;
    let format = ctx.output.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Ndjson
    });
    let mut writer = Writer::new(
        std::io::stdout().lock(),
        format,
        &[
            "id",
            "name",
            "trigger",
            "finished",
            "status",
            "records",
            "duplicates",
            "error",
        ],
    );
    for job in state::jobs(&dir, name.as_deref(), limit)? {
        writer.item(&serde_json::to_value(&job)?)?;
    }
    writer.finish()?;
    Ok(())
}

pub async fn hooks(ctx: &Context, args: HooksArgs) -> anyhow::Result<()> {
    use okta_client::Query;
    use reqwest::Method;
    let client = ctx.client()?;
    match args.command {
        HooksCommand::List => {
            let hooks: Vec<Value> = client.get("/api/v1/eventHooks", &Query::new()).await?;
            let mut writer = Writer::new(
                std::io::stdout().lock(),
                ctx.output.unwrap_or(Format::Table),
                &[
                    "id",
                    "name",
                    "status",
                    "verificationStatus",
                    "uri",
                    "eventTypes",
                ],
            );
            for hook in hooks {
                let items = hook["events"]["items"].as_array().map_or(0, Vec::len);
                writer.item(&json!({
                    "id": hook["id"],
                    "name": hook["name"],
                    "status": hook["status"],
                    "verificationStatus": hook["verificationStatus"],
                    "uri": hook["channel"]["config"]["uri"],
                    "eventTypes": items,
                }))?;
            }
            writer.finish()?;
        }
        HooksCommand::Remove { id } => {
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(Exit::error(
                    exit::USAGE,
                    anyhow::anyhow!(
                        "'{id}' is not an Event Hook id (see `okta-connector hooks list`)"
                    ),
                ));
            }
            let hook: Value = client
                .get(&format!("/api/v1/eventHooks/{id}"), &Query::new())
                .await?;
            if hook["status"] == "ACTIVE" {
                let path = format!("/api/v1/eventHooks/{id}/lifecycle/deactivate");
                client
                    .json::<Value, ()>(Method::POST, &path, &Query::new(), None)
                    .await?;
            }
            client
                .send(
                    Method::DELETE,
                    &format!("/api/v1/eventHooks/{id}"),
                    &Query::new(),
                    None,
                )
                .await?;
            eprintln!(
                "removed the Event Hook {id} ({}); a real-time trigger still running polls through its catch-up",
                hook["name"].as_str().unwrap_or("")
            );
        }
    }
    Ok(())
}

pub async fn watch(ctx: &Context, args: WatchArgs) -> anyhow::Result<()> {
    let trigger = find(&args.trigger)?;
    if trigger.name == "new_events_realtime" {
        return Err(Exit::error(
            exit::USAGE,
            anyhow::anyhow!(
                "new_events_realtime receives Okta's Event Hook deliveries on the daemon's HTTP \
                 endpoint: run it under `okta-connector serve` (or poll with `watch new_events`)"
            ),
        ));
    }
    let config = super::actions::read_json(args.config.as_deref(), "--config")?;
    let sink: SinkSpec = args
        .sink
        .parse()
        .map_err(|e: String| Exit::error(exit::USAGE, anyhow::anyhow!("--sink: {e}")))?;
    if let Err(e) = trigger.source(config.clone()) {
        return Err(Exit::error(
            exit::USAGE,
            anyhow::anyhow!(
                "invalid --config for {}: {e} (see `okta-connector triggers describe {}`)",
                trigger.name,
                trigger.name
            ),
        ));
    }
    let connection = ctx.connection()?;
    let name = args.name.clone().unwrap_or_else(|| {
        let key = format!("{}\n{}\n{}", connection.name, config, args.sink);
        let hash = okta_connector::journal::content_hash(key.as_bytes());
        format!("{}-{}", trigger.name, &hash[..8])
    });
    let state_dir = ctx.state_dir()?;
    let instance = Instance {
        name,
        connection: connection.name.clone(),
        trigger,
        config,
        sink,
    };
    let options = Options {
        interval: args.interval.0,
        dedup_window: args.dedup_window.0,
        once: args.once,
        ..Options::default()
    };
    let client = connection
        .client()
        .map_err(|e| Exit::error(exit::CONNECTION, e))?;
    eprintln!(
        "watching {} on {} as '{}' (state in {})",
        trigger.name,
        connection.name,
        instance.name,
        state_dir.display()
    );
    let shutdown = shutdown_signal();
    let clock: Arc<dyn okta_client::Clock> = Arc::new(okta_client::TokioClock);
    match runtime::run(&instance, client, &state_dir, clock, &options, shutdown).await {
        Ok(summary) => {
            eprintln!(
                "{}: delivered {} records in {} batches ({} duplicates dropped, {} retries)",
                match summary.stopped {
                    Stopped::CaughtUp => "caught up",
                    Stopped::Shutdown => "stopped",
                },
                summary.delivered,
                summary.batches,
                summary.duplicates,
                summary.retries
            );
            Ok(())
        }
        Err(e) => Err(run_error(e)),
    }
}

pub async fn serve(ctx: &Context, args: ServeArgs) -> anyhow::Result<()> {
    let config = ServeConfig::load(&args.config).map_err(|e| Exit::error(exit::USAGE, e))?;
    let state_dir = ctx.state_dir()?;
    let env = ctx.environment();
    let metrics = Arc::new(okta_connector::daemon::metrics::Metrics::new());
    let mut clients = BTreeMap::new();
    for name in config.connections() {
        let resolved = okta_connector::connections::resolve(&state_dir, Some(name), &env)
            .with_context(|| format!("connection '{name}' of {}", args.config.display()))
            .map_err(|e| Exit::error(exit::CONNECTION, e))?;
        let client = resolved
            .connection
            .client_observed(Some(metrics.client_observer(name)))
            .map_err(|e| Exit::error(exit::CONNECTION, e))?;
        clients.insert(name.to_string(), client);
    }
    let env = |name: &str| std::env::var(name).ok();
    let around = okta_connector::serve::Surroundings {
        clients,
        state_dir: &state_dir,
        clock: Arc::new(okta_client::TokioClock),
        env: &env,
        metrics,
    };
    tracing::info!(instances = config.triggers.len(), "serving");
    let outcomes = okta_connector::serve::daemon(&config, around, shutdown_signal())
        .await
        .map_err(|e| Exit::error(exit::USAGE, e))?;
    let mut first_error = None;
    for (name, outcome) in outcomes {
        match outcome {
            Ok(summary) => eprintln!("{name}: delivered {} records", summary.delivered),
            Err(e) => {
                eprintln!("{name}: stopped on an error: {e}");
                first_error
                    .get_or_insert(run_error(e).context(format!("trigger instance '{name}'")));
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// The exit code of a run's error: 2 for configuration and state, else from Okta's answer.
fn run_error(e: RunError) -> anyhow::Error {
    match e {
        RunError::Setup(e) => Exit::error(exit::USAGE, e),
        RunError::Source(SourceError::Okta(e)) => {
            let code = exit::okta_code(&e);
            Exit::error(code, *e)
        }
        RunError::Source(e @ SourceError::Invalid(_)) => Exit::error(exit::USAGE, e),
        RunError::Source(e) => Exit::error(1, e),
    }
}

/// Turns true on the first SIGINT or SIGTERM (the runners finish their batch in flight); a second
/// one exits at once.
fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut signals = 0;
        loop {
            wait_for_signal().await;
            signals += 1;
            if signals > 1 {
                eprintln!("stopping now");
                std::process::exit(130);
            }
            eprintln!("finishing the batch in flight, then stopping (again to stop now)");
            let _ = tx.send(true);
        }
    });
    rx
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
