//! `okta-connector connections ...`: flags in, the library's connections module does the work, plain
//! text (or JSON) out. Warnings go to stderr, results to stdout.

use std::io::{IsTerminal, Read};
use std::time::Duration;

use anyhow::{Context as _, bail};
use okta_client::{Auth, Client, ClientConfig, SecretString};
use okta_connector::connections::diagnose::{self, Check};
use okta_connector::connections::domain::OrgUrl;
use okta_connector::connections::store::{AuthKind, Entry, NewConnection, Store};
use okta_connector::connections::{self, Resolved};
use serde_json::json;

use crate::cli::connections::{
    AddArgs, ConnectionsArgs, ConnectionsCommand, Format, ShowArgs, TestArgs,
};
use crate::commands::Context;
use crate::exit::{self, Exit};

/// Runs a `connections` subcommand. A failure exits with 3 (no usable connection) unless Okta's
/// answer says more (4: refused, 5: unreachable).
pub async fn run(ctx: &Context, args: ConnectionsArgs) -> anyhow::Result<()> {
    subcommand(ctx, args)
        .await
        .map_err(|e| match exit::code(&e) {
            1 => Exit::error(exit::CONNECTION, e),
            _ => e,
        })
}

async fn subcommand(ctx: &Context, args: ConnectionsArgs) -> anyhow::Result<()> {
    match args.command {
        ConnectionsCommand::Add(args) => add(ctx, args),
        ConnectionsCommand::List => list(ctx, json_output(ctx)),
        ConnectionsCommand::Show(args) => show(ctx, args),
        ConnectionsCommand::Test(args) => test(ctx, args).await,
        ConnectionsCommand::Remove(args) => {
            let removed = open(ctx)?.remove(&args.name)?;
            println!("Removed connection '{}'.", removed.name);
            if removed.is_default {
                println!(
                    "It was the default: choose another with `okta-connector connections default NAME`."
                );
            }
            Ok(())
        }
        ConnectionsCommand::Default(args) => {
            open(ctx)?.set_default(&args.name)?;
            println!("'{}' is now the default connection.", args.name);
            Ok(())
        }
    }
}

fn open(ctx: &Context) -> anyhow::Result<Store> {
    connections::open_store(&ctx.state_dir()?, &ctx.environment())
}

fn add(ctx: &Context, args: AddArgs) -> anyhow::Result<()> {
    // Everything is checked before the secret is asked for, so a typo costs no retyping.
    connections::store::validate_name(&args.name)?;
    let org = OrgUrl::parse(&args.org_url, args.allow_custom_domain)?;
    for warning in &org.warnings {
        eprintln!("warning: {warning}");
    }
    let mut store = open(ctx)?;
    if !args.replace && store.entry(&args.name)?.is_some() {
        bail!(
            "a connection named '{}' already exists: add --replace to overwrite it, or choose another name",
            args.name
        );
    }
    let token = read_secret(&args)?;
    let added = store.add(
        &NewConnection {
            name: args.name.clone(),
            org_url: org.url.clone(),
            auth: Auth::ApiToken(token),
            allow_custom_domain: args.allow_custom_domain,
            make_default: args.default,
        },
        args.replace,
    )?;
    println!(
        "{} connection '{}' ({}, API token){}.",
        if added.replaced { "Replaced" } else { "Added" },
        args.name,
        org.url,
        if added.is_default {
            "; it is the default"
        } else {
            ""
        }
    );
    println!(
        "Check it with: okta-connector connections test {}",
        args.name
    );
    Ok(())
}

/// The API token from stdin, a variable or a no-echo prompt; never from a flag.
fn read_secret(args: &AddArgs) -> anyhow::Result<SecretString> {
    let token = if args.secret_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the API token from standard input")?;
        text
    } else if let Some(var) = &args.secret_env {
        std::env::var(var).map_err(|_| {
            anyhow::anyhow!("--secret-env {var}: the environment variable {var} is not set")
        })?
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("API token for '{}' (input hidden): ", args.name))
            .context("cannot read the API token from the terminal")?
    } else {
        bail!(
            "no API token given: pipe it in with --secret-stdin, name an environment variable with \
             --secret-env VAR, or run in a terminal to be prompted (a token is never a command-line \
             argument: it would show in the process list and the shell history)"
        );
    };
    let token = token.trim();
    if token.is_empty() {
        bail!("the API token is empty");
    }
    if token.chars().any(char::is_whitespace) {
        bail!("the API token contains whitespace: give the token alone, on one line");
    }
    Ok(SecretString::new(token))
}

fn list(ctx: &Context, format: Format) -> anyhow::Result<()> {
    let entries = open(ctx)?.list()?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&entries)?),
        Format::Table if entries.is_empty() => eprintln!(
            "No connections yet: add one with `okta-connector connections add NAME --org-url ORG.okta.com`."
        ),
        Format::Table => {
            let rows: Vec<[String; 4]> = entries
                .iter()
                .map(|e| {
                    [
                        if e.is_default { "*" } else { "" }.to_string(),
                        e.name.clone(),
                        e.org_url.clone(),
                        e.auth.label().to_string(),
                    ]
                })
                .collect();
            print_table(["DEFAULT", "NAME", "ORG URL", "AUTH"], &rows);
        }
    }
    Ok(())
}

fn print_table<const N: usize>(header: [&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: [&str; N]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header);
    for row in rows {
        line(row.each_ref().map(String::as_str));
    }
}

fn show(ctx: &Context, args: ShowArgs) -> anyhow::Result<()> {
    let (fields, source) = match &args.name {
        // A stored connection: shown from its row alone, so no master key is needed.
        Some(name) => {
            let store = open(ctx)?;
            let entry = store.require(name)?;
            (
                entry_fields(&entry),
                format!("the connection store {}", store.path().display()),
            )
        }
        None => {
            let resolved = resolve(ctx, None)?;
            let c = &resolved.connection;
            let mut fields = json!({
                "name": c.name,
                "org_url": c.org_url.as_str(),
                "auth": AuthKind::of(&c.auth),
            });
            // A connection from the store has more to show than what resolving returns.
            if matches!(
                resolved.source,
                connections::Source::Named | connections::Source::StoreDefault
            ) && let Some(entry) = open(ctx)?.entry(&c.name)?
            {
                fields = entry_fields(&entry);
            }
            (fields, resolved.source.to_string())
        }
    };
    match json_output(ctx) {
        Format::Json => {
            let mut fields = fields;
            fields["source"] = json!(source);
            println!("{}", serde_json::to_string_pretty(&fields)?);
        }
        Format::Table => {
            for (key, value) in fields.as_object().into_iter().flatten() {
                let value = match value {
                    serde_json::Value::String(s) if key == "auth" => AuthKind::parse(s)
                        .map_or_else(|_| s.clone(), |kind| kind.label().to_string()),
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                println!("{:<20} {value}", format!("{key}:"));
            }
            println!("{:<20} {source}", "source:");
        }
    }
    Ok(())
}

fn entry_fields(entry: &Entry) -> serde_json::Value {
    serde_json::to_value(entry).unwrap_or_default()
}

/// `--output json` (or ndjson) prints JSON; anything else a table.
fn json_output(ctx: &Context) -> Format {
    match ctx.output {
        Some(okta_connector::output::Format::Json | okta_connector::output::Format::Ndjson) => {
            Format::Json
        }
        _ => Format::Table,
    }
}

/// The connection a command uses, with its warnings shown.
fn resolve(ctx: &Context, name: Option<&str>) -> anyhow::Result<Resolved> {
    let name = name.or(ctx.connection.as_deref());
    let resolved = connections::resolve(&ctx.state_dir()?, name, &ctx.environment())?;
    for warning in &resolved.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(resolved)
}

async fn test(ctx: &Context, args: TestArgs) -> anyhow::Result<()> {
    let resolved = resolve(ctx, args.name.as_deref())?;
    let c = &resolved.connection;
    println!(
        "Testing '{}': {} with an {}, from {}",
        c.name,
        c.org_url,
        c.auth.kind(),
        resolved.source
    );
    let client = test_client(&resolved, Duration::from_secs(args.timeout))?;
    let mut first_failure: Option<u8> = None;
    let mut stop = false;
    for check in Check::ALL {
        let call = check.call();
        if stop {
            println!(
                "  skip  {:<20} {call}: not tried after the failure above",
                check.name()
            );
            continue;
        }
        match check.run(&client).await {
            Ok(found) => println!("  ok    {:<20} {call}: {found}", check.name()),
            Err(error) => {
                let d = diagnose::explain(check, &error);
                println!("  FAIL  {:<20} {call}: {}", check.name(), d.problem);
                println!("        what happened: {}", d.detail);
                println!("        fix: {}", d.fix);
                first_failure.get_or_insert(exit::okta_code(&error));
                // A missing permission is per call: the next one may need a role the admin has.
                // Anything else (token, network, URL) would fail every call the same way.
                stop = error.status() != Some(403);
            }
        }
    }
    if let Some(code) = first_failure {
        return Err(Exit::error(
            code,
            anyhow::anyhow!("the connection test failed"),
        ));
    }
    println!("The connection works.");
    Ok(())
}

/// A client for the test: one attempt per call (a diagnosis, not a job to finish), bounded by `timeout`.
fn test_client(resolved: &Resolved, timeout: Duration) -> anyhow::Result<Client> {
    let c = &resolved.connection;
    let mut config = ClientConfig::new(c.org_url.clone(), c.auth.clone());
    config.request_timeout = timeout;
    config.retry.max_attempts = 1;
    config.retry.deadline = timeout;
    Ok(Client::new(config)?)
}
