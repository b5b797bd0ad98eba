//! `okta-connector connections ...`: flags in, the library's connections module does the work, plain
//! text (or JSON) out. Warnings go to stderr, results to stdout.

use std::io::{IsTerminal, Read};
use std::time::Duration;

use anyhow::{Context as _, bail};
use okta_client::{Client, ClientConfig, PrivateKey, SecretString};
use okta_connector::connections::credentials::{self, Credentials, OAuthSettings};
use okta_connector::connections::diagnose::{self, Check};
use okta_connector::connections::domain::OrgUrl;
use okta_connector::connections::store::{AuthKind, Entry, NewConnection, Store};
use okta_connector::connections::{self, Resolved};
use serde_json::json;

use crate::cli::connections::{
    AddArgs, AuthArg, ConnectionsArgs, ConnectionsCommand, Format, LoginArgs, ShowArgs, TestArgs,
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
        ConnectionsCommand::Add(args) => add(ctx, *args),
        ConnectionsCommand::Login(args) => login(ctx, args).await,
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
    let credentials = match args.auth {
        AuthArg::ApiToken => api_token(&args)?,
        AuthArg::ClientCredentials | AuthArg::AuthorizationCode => oauth(&args)?,
    };
    let kind = AuthKind::of_credentials(&credentials);
    let added = store.add(
        &NewConnection {
            name: args.name.clone(),
            org_url: org.url.clone(),
            credentials,
            allow_custom_domain: args.allow_custom_domain,
            make_default: args.default,
        },
        args.replace,
    )?;
    println!(
        "{} connection '{}' ({}, {}){}.",
        if added.replaced { "Replaced" } else { "Added" },
        args.name,
        org.url,
        kind.label(),
        if added.is_default {
            "; it is the default"
        } else {
            ""
        }
    );
    if kind == AuthKind::AuthorizationCode {
        println!(
            "Sign in once with: okta-connector connections login {}",
            args.name
        );
    } else {
        println!(
            "Check it with: okta-connector connections test {}",
            args.name
        );
    }
    Ok(())
}

fn api_token(args: &AddArgs) -> anyhow::Result<Credentials> {
    let oauth_flags = [
        ("--client-id", args.client_id.is_some()),
        ("--scopes", args.scopes.is_some()),
        ("--key-id", args.key_id.is_some()),
        ("--private-key-file", args.private_key_file.is_some()),
        ("--dpop-key-file", args.dpop_key_file.is_some()),
    ];
    if let Some((flag, _)) = oauth_flags.iter().find(|(_, given)| *given) {
        bail!(
            "{flag} is for OAuth connections: add --auth client-credentials (an API Services app) or \
             --auth authorization-code (a Web app)"
        );
    }
    let token = read_secret(args, "API token")?;
    if token.chars().any(char::is_whitespace) {
        bail!("the API token contains whitespace: give the token alone, on one line");
    }
    Ok(Credentials::ApiToken(SecretString::new(token)))
}

/// The two OAuth kinds: settings from flags, the key or client secret checked before anything is stored.
fn oauth(args: &AddArgs) -> anyhow::Result<Credentials> {
    let code_flow = args.auth == AuthArg::AuthorizationCode;
    let kind = if code_flow {
        "authorization-code"
    } else {
        "client-credentials"
    };
    let Some(client_id) = args
        .client_id
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    else {
        bail!(
            "--auth {kind} needs --client-id: the app's Client ID, on the app's General tab in the \
             Admin Console (Applications > Applications)"
        );
    };
    let scopes = credentials::parse_scopes(args.scopes.as_deref().unwrap_or_default());
    if scopes.is_empty() {
        bail!(
            "--auth {kind} needs --scopes: the okta.* scopes to request, each granted on the app's Okta \
             API Scopes tab, e.g. --scopes 'okta.users.read okta.logs.read okta.schemas.read{}'",
            if code_flow { " offline_access" } else { "" }
        );
    }
    let redirect_uri = if code_flow {
        Some(credentials::loopback_redirect(&args.redirect_uri)?.to_string())
    } else {
        None
    };
    if code_flow && args.private_key_file.is_some() {
        bail!(
            "--private-key-file is for --auth client-credentials: a Web app signs in with its client \
             secret (--secret-stdin, --secret-env VAR or the prompt)"
        );
    }
    if code_flow && args.key_id.is_some() {
        bail!("--key-id is for --auth client-credentials (the key ID of the app's public key)");
    }
    let dpop_key = match &args.dpop_key_file {
        Some(path) => {
            let text = read_key_file(path, "--dpop-key-file")?;
            credentials::parse_key(&text, "the DPoP key")?;
            SecretString::new(text)
        }
        None => PrivateKey::generate_es256().to_text(),
    };
    for warning in credentials::missing_scopes(&scopes, code_flow) {
        eprintln!("warning: {warning}");
    }
    let mut settings = OAuthSettings {
        client_id: client_id.to_string(),
        scopes,
        key_id: args.key_id.clone(),
        dpop: args.dpop.clone(),
        redirect_uri,
    };
    if code_flow {
        let secret = read_secret(args, "client secret")?;
        return Ok(Credentials::AuthorizationCode {
            settings,
            client_secret: SecretString::new(secret),
            dpop_key,
            refresh_token: None,
        });
    }
    let text = match &args.private_key_file {
        Some(path) => read_key_file(path, "--private-key-file")?,
        None => read_secret(args, "private key")?,
    };
    let key = credentials::parse_key(&text, "the private key")?;
    // A JWK's own kid is the one Okta registered; --key-id wins when given.
    settings.key_id = settings.key_id.or(key.key_id.clone());
    Ok(Credentials::ClientCredentials {
        settings,
        private_key: SecretString::new(text),
        dpop_key,
    })
}

/// A key file's text. A path is not a secret; the file's content is, and is never echoed.
fn read_key_file(path: &std::path::Path, flag: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("{flag} {}: cannot read the file", path.display()))
}

/// A secret from stdin, a variable or a no-echo prompt; never from a flag. Trimmed, never empty.
fn read_secret(args: &AddArgs, what: &str) -> anyhow::Result<String> {
    let text = if args.secret_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read the {what} from standard input"))?;
        text
    } else if let Some(var) = &args.secret_env {
        std::env::var(var).map_err(|_| {
            anyhow::anyhow!("--secret-env {var}: the environment variable {var} is not set")
        })?
    } else if std::io::stdin().is_terminal() && what != "private key" {
        rpassword::prompt_password(format!("{what} for '{}' (input hidden): ", args.name))
            .with_context(|| format!("cannot read the {what} from the terminal"))?
    } else {
        let file = if what == "private key" {
            " or give a file with --private-key-file FILE,"
        } else {
            ""
        };
        bail!(
            "no {what} given: pipe it in with --secret-stdin,{file} name an environment variable with \
             --secret-env VAR, or run in a terminal to be prompted (a secret is never a command-line \
             argument: it would show in the process list and the shell history)"
        );
    };
    let text = text.trim();
    if text.is_empty() {
        bail!("the {what} is empty");
    }
    Ok(text.to_string())
}

/// `connections login NAME`: the browser half of the authorization code flow.
async fn login(ctx: &Context, args: LoginArgs) -> anyhow::Result<()> {
    use okta_client::auth::{Pkce, authorize_url, random_state};
    use okta_connector::connections::login;

    let store = open(ctx)?;
    let entry = store.require(&args.name)?;
    let Some(settings) = entry
        .oauth
        .filter(|_| entry.auth == AuthKind::AuthorizationCode)
    else {
        bail!(
            "'{}' is an {} connection: only authorization-code connections (Web apps) sign in in a \
             browser; it needs no login",
            args.name,
            entry.auth.label()
        );
    };
    let redirect_text = settings
        .redirect_uri
        .clone()
        .unwrap_or_else(|| credentials::DEFAULT_REDIRECT_URI.to_string());
    let redirect = credentials::loopback_redirect(&redirect_text)?;
    let host = redirect.host_str().unwrap_or("127.0.0.1");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = redirect.port().unwrap_or(80);
    let listener = tokio::net::TcpListener::bind((host, port))
        .await
        .with_context(|| {
            format!(
                "cannot listen on {host}:{port} for the redirect URI {redirect_text}: another program \
                 uses the port; stop it, or add the connection again with another --redirect-uri \
                 (registered in the app too)"
            )
        })?;
    let org_url = reqwest::Url::parse(&entry.org_url)?;
    let state = random_state();
    let pkce = Pkce::new();
    let url = authorize_url(
        &org_url,
        &settings.client_id,
        &redirect_text,
        &settings.scopes,
        &state,
        &pkce,
    );
    println!("Sign in to Okta in a browser; open this URL:\n\n  {url}\n");
    println!("Waiting for the browser to come back to {redirect_text} ...");
    println!(
        "(If Okta shows \"The 'redirect_uri' parameter must be a Login redirect URI\", add {redirect_text} \
         to the app's Sign-in redirect URIs, General tab.)"
    );
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    if !args.no_browser {
        open_browser(url.as_str());
    }
    let waited = tokio::time::timeout(
        Duration::from_secs(args.timeout),
        login::receive(&listener, &redirect, &state),
    )
    .await;
    let code = match waited {
        Err(_) => bail!(
            "no sign-in came back within {} seconds: nothing was stored. If the browser showed an Okta \
             error, fix what it says (often the redirect URI: register {redirect_text} in the app) and \
             run `okta-connector connections login {}` again",
            args.timeout,
            args.name
        ),
        Ok(received) => received??,
    };
    drop(listener);
    let connection = store.connection(&args.name)?;
    let client = connection.client()?;
    if let Err(e) = client.exchange_code(&code, &pkce).await {
        let d = diagnose::explain_token_error(&e);
        bail!(
            "Okta refused to exchange the sign-in for tokens: {}. {} Fix: {}",
            d.problem,
            d.detail,
            d.fix
        );
    }
    let stored = matches!(
        store.credentials(&args.name)?,
        Credentials::AuthorizationCode {
            refresh_token: Some(_),
            ..
        }
    );
    if stored {
        println!(
            "Signed in. The refresh token is stored encrypted; check the connection with: \
             okta-connector connections test {}",
            args.name
        );
    } else {
        eprintln!(
            "warning: Okta sent no refresh token (the scopes lack offline_access, or the app does not \
             allow the Refresh Token grant): the connection works for an hour only"
        );
    }
    Ok(())
}

/// Best effort: a missing opener is no failure, the URL is printed anyway.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
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
    if args.public_key {
        return public_key(ctx, args.name.as_deref());
    }
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
                    serde_json::Value::Array(items) => items
                        .iter()
                        .filter_map(|i| i.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                    other => other.to_string(),
                };
                println!("{:<20} {value}", format!("{key}:"));
            }
            println!("{:<20} {source}", "source:");
        }
    }
    Ok(())
}

/// `show --public-key`: the public half of the connection's key, as the JWKS the app's Public keys
/// accept (client credentials), plus the DPoP key's thumbprint. Public keys only: safe to print.
fn public_key(ctx: &Context, name: Option<&str>) -> anyhow::Result<()> {
    let resolved = resolve(ctx, name)?;
    let (key, dpop) = match &resolved.connection.auth {
        okta_client::Auth::ClientCredentials(c) => (
            Some(c.key.clone().with_key_id(c.key_id.clone())),
            &c.dpop_key,
        ),
        okta_client::Auth::AuthorizationCode(c) => (None, &c.dpop_key),
        okta_client::Auth::ApiToken(_) => bail!(
            "'{}' uses an API token: it has no key pair (--public-key is for OAuth connections)",
            resolved.connection.name
        ),
    };
    if let Some(key) = key {
        eprintln!(
            "The app's public key ({}): paste this JWKS in the app's General tab > Client Credentials > \
             Public keys (or add the key there as JSON).",
            key.algorithm()
        );
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "keys": [key.public_jwk()] }))?
        );
    }
    if let Some(dpop) = dpop {
        eprintln!(
            "DPoP key: {} (its public JWK travels in every DPoP proof; nothing to upload), thumbprint {}",
            dpop.algorithm(),
            dpop.thumbprint()
        );
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
        "Testing '{}': {} ({}), from {}",
        c.name,
        c.org_url,
        c.auth.kind(),
        resolved.source
    );
    let client = test_client(&resolved, Duration::from_secs(args.timeout))?;
    let oauth = AuthKind::of(&c.auth) != AuthKind::ApiToken;
    let mut first_failure: Option<u8> = None;
    let mut stop = false;
    if oauth {
        // The token first: a failure there explains itself better than a refused API call would.
        match client.authenticate().await {
            Ok(status) => {
                println!(
                    "  ok    {:<20} POST /oauth2/v1/token: granted {} token, scopes: {}",
                    "access token",
                    status.token_type.as_deref().unwrap_or("an access"),
                    status.scopes.join(" ")
                );
                println!("        DPoP: {}", dpop_words(&status));
            }
            Err(error) => {
                let d = diagnose::explain_token_error(&error);
                print_failure("access token", "POST /oauth2/v1/token", &d);
                first_failure = Some(exit::okta_code(&error));
                stop = true;
            }
        }
    }
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
                let d = oauth
                    .then(|| diagnose::explain_oauth(Some(check), &error))
                    .flatten()
                    .unwrap_or_else(|| diagnose::explain(check, &error));
                print_failure(check.name(), &call, &d);
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

fn print_failure(name: &str, call: &str, d: &diagnose::Diagnosis) {
    println!("  FAIL  {name:<20} {call}: {}", d.problem);
    println!("        what happened: {}", d.detail);
    println!("        fix: {}", d.fix);
}

/// Whether the test's token is DPoP-bound, and why, in words.
fn dpop_words(status: &okta_client::auth::AuthStatus) -> String {
    use okta_client::auth::DpopMode;
    match (status.dpop_in_use, status.dpop_mode) {
        (true, _) if status.dpop_required_by_okta => "on, because the app requires it".to_string(),
        (true, _) => "on (--dpop on)".to_string(),
        (false, Some(DpopMode::Auto)) => "off (the app does not require it; auto mode)".to_string(),
        (false, Some(DpopMode::On)) => {
            "off: Okta granted a Bearer token although proofs were sent (--dpop on)".to_string()
        }
        (false, _) => "off (--dpop off)".to_string(),
    }
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
