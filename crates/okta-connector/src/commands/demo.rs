//! `okta-connector demo`: starts a simulated org in-process and walks through what the connector does
//! against it, through the same `okta_client::Client` and action registry the CLI uses: connecting
//! as an OAuth service app with DPoP, paging, searching, the user lifecycle with Okta's refusals,
//! group membership, the two-step delete, the System Log that recorded it all, and the discovery
//! actions.
//!
//! Every number and code printed comes from what happened (a stream's count, an error's fields, the
//! simulator's request counters), so the walk-through stays honest as the connector changes.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use okta_client::auth::{ClientCredentials, DpopMode, PrivateKey};
use okta_client::models::LogEvent;
use okta_client::{Auth, Client, ClientConfig, Error, LogStart, Query};
use okta_connector::actions::{self, ActionOutput};
use okta_connector::output::{Format, Writer};
use okta_sim::SimServer;
use reqwest::Method;
use serde_json::{Value, json};

use crate::cli::DemoArgs;

/// Page size of the first listing: small, so the walk-through follows several `next` links, and not
/// smaller, because the client spreads each rate-limit bucket's requests over its window.
const PAGE: u32 = 20;
/// The demo's API Services app and the Okta API scopes granted to it.
const DEMO_CLIENT_ID: &str = "0oademo0connector0app";
const SCOPES: &[&str] = &[
    "okta.users.read",
    "okta.users.manage",
    "okta.groups.read",
    "okta.groups.manage",
    "okta.apps.read",
    "okta.logs.read",
    "okta.schemas.read",
    "okta.userTypes.read",
];
/// Users shown of the first page.
const SHOWN: usize = 5;

fn step(n: u32, title: &str) {
    println!("\n{n}. {title}");
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The demo connects as an Okta admin would set up an integration today: an API Services app
    // with a public key (private_key_jwt), the Okta API scopes it needs, an admin role, and DPoP
    // required (the default for new apps). The key pair is made here; the org knows the public half.
    let key = PrivateKey::generate_es256();
    let app: okta_sim::oauth::OAuthApp = serde_json::from_value(json!({
        "clientId": DEMO_CLIENT_ID,
        "type": "service",
        "jwks": {"keys": [key.public_jwk()]},
        "grantedScopes": SCOPES,
        "adminRole": true,
        "dpopRequired": true,
    }))
    .context("the demo's app registration")?;
    let config = okta_sim::SimConfig {
        users: 200,
        groups: 8,
        apps: 5,
        log_events: 300,
        seed: args.seed,
        oauth_apps: vec![app],
        ..okta_sim::SimConfig::default()
    };
    let server = okta_sim::spawn(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .context("cannot start the simulated org on loopback")?;
    let url = server
        .base_url()
        .parse()
        .context("the simulator's URL does not parse")?;
    // The private key goes into the client's auth and nowhere else: nothing below prints it.
    let client = Client::new(ClientConfig::new(
        url,
        Auth::ClientCredentials(ClientCredentials {
            client_id: DEMO_CLIENT_ID.into(),
            key,
            key_id: None,
            scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
            dpop: DpopMode::Auto,
            dpop_key: None,
        }),
    ))?;
    println!(
        "Simulated Okta org at {} (200 seeded users, 8 groups, 5 apps, Workforce rate limits)",
        server.base_url()
    );
    // Everything from here on is in the System Log the demo polls at the end, the token grant first.
    let demo_start = server.sim().clock.now_ms();
    let status = client
        .authenticate()
        .await
        .context("the demo app could not get an access token")?;
    println!(
        "Connected with OAuth 2.0 client credentials (private_key_jwt, ES256); DPoP: {}; token type {}; {} scopes granted",
        status.dpop_summary(),
        status.token_type.as_deref().unwrap_or("-"),
        status.scopes.len()
    );

    let result = walk_through(&server, &client, demo_start).await;
    let counters = server.sim().counters.snapshot();
    server.shutdown().await;
    result?;
    println!(
        "\nDone: the simulator served {} requests and throttled {} (the client keeps to {}% of each rate-limit bucket).",
        counters["total"],
        counters["throttled"],
        client.config().max_bucket_share * 100.0
    );
    continue_with_the_tool();
    Ok(())
}

async fn walk_through(server: &SimServer, client: &Client, demo_start: i64) -> anyhow::Result<()> {
    list_users(server, client).await?;
    search_users(client).await?;
    let user = lifecycle(client).await?;
    membership(client, &user).await?;
    two_step_delete(client, &user.id).await?;
    system_log(server, client, demo_start, &user.id).await?;
    discovery_actions(server, client, demo_start, &user).await?;
    triggers(client, demo_start).await
}

/// Step 8: two triggers run by the same runner `watch` and `serve` use, into files in a temporary
/// state directory; run again, they deliver nothing twice.
async fn triggers(client: &Client, demo_start: i64) -> anyhow::Result<()> {
    use okta_connector::triggers::runtime::{self, Instance, Options};
    step(
        8,
        "Triggers: the demo's changes delivered to files, durably (what `watch` and `serve` run)",
    );
    let dir = std::env::temp_dir().join(format!("okta-connector-demo-{}", std::process::id()));
    let result = async {
        okta_connector::connections::crypto::create_private_dir(&dir)?;
        let since = okta_sim::clock::iso_ms(demo_start);
        let triggers = [
            (
                "lifecycle",
                "new_events",
                json!({"start": since, "categories": ["user_lifecycle"]}),
            ),
            (
                "memberships",
                "group_membership_changed",
                json!({"start": since}),
            ),
        ];
        let options = Options {
            once: true,
            ..Options::default()
        };
        for round in ["first run", "run again"] {
            for (name, trigger, config) in &triggers {
                let file = dir.join(format!("{name}.jsonl"));
                let instance = Instance {
                    name: (*name).into(),
                    connection: "demo".into(),
                    trigger: okta_connector::triggers::find(trigger)
                        .context("the trigger is in the registry")?,
                    config: config.clone(),
                    sink: format!("file:{}", file.display())
                        .parse()
                        .map_err(|e: String| anyhow::anyhow!(e))?,
                };
                let (_stop, shutdown) = tokio::sync::watch::channel(false);
                let summary = runtime::run(
                    &instance,
                    client.clone(),
                    &dir,
                    Arc::new(okta_client::TokioClock),
                    &options,
                    shutdown,
                )
                .await
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
                let lines = std::fs::read_to_string(&file)?;
                let last: Value = lines
                    .lines()
                    .last()
                    .map(serde_json::from_str)
                    .transpose()?
                    .unwrap_or(Value::Null);
                println!(
                    "   {round}: {trigger} delivered {} records ({} in the file); last: {} {}",
                    summary.delivered,
                    lines.lines().count(),
                    last["record"]["eventType"].as_str().unwrap_or("-"),
                    last.get("details")
                        .map(Value::to_string)
                        .unwrap_or_default(),
                );
            }
        }
        anyhow::Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The demo's own user, created in step 3.
struct DemoUser {
    id: String,
    login: String,
}

async fn list_users(server: &SimServer, client: &Client) -> anyhow::Result<()> {
    step(
        1,
        &format!(
            "List users with client.users().list(), {PAGE} per page, following Okta's Link headers"
        ),
    );
    let counters = &server.sim().counters;
    let started = std::time::Instant::now();
    let requests_before = counters.count("GET /api/v1/users");
    let mut users = client.users().list().limit(PAGE).stream();
    let mut count = 0;
    while let Some(user) = users.next().await {
        let user = user?;
        if count < SHOWN {
            println!(
                "   {}  {:<12} {}",
                user.id,
                user.status.get().map(|s| s.as_str()).unwrap_or("-"),
                user.login().unwrap_or("-")
            );
        }
        count += 1;
    }
    let pages = counters.count("GET /api/v1/users") - requests_before;
    let elapsed = started.elapsed().as_secs_f64();
    // What the org holds, read from the simulator's state: Okta's list leaves DEPROVISIONED users out.
    let held = server
        .sim()
        .org
        .read()
        .users
        .values()
        .filter(|u| u.status != okta_sim::state::UserStatus::Deprovisioned)
        .count();
    println!("   …");
    println!(
        "   streamed {count} users in {pages} pages; the org holds {held} users that are not DEPROVISIONED (the list omits those)"
    );
    println!(
        "   the pages took {elapsed:.1} s: the client spreads its requests over the rate-limit window (X-Rate-Limit-* headers) instead of bursting"
    );
    Ok(())
}

async fn search_users(client: &Client) -> anyhow::Result<()> {
    step(
        2,
        "Search with Okta's expression language, custom attributes included",
    );
    let search = r#"profile.department eq "Engineering" and profile.clearanceLevel ge 3"#;
    let mut found = client.users().list().search(search).limit(200).stream();
    let mut count = 0;
    while let Some(user) = found.next().await {
        user?;
        count += 1;
    }
    println!("   search={search}\n   → {count} users");
    let mut bad = client
        .users()
        .list()
        .search(r#"profile.department eqq "x""#)
        .stream();
    let refused = expect_refusal(bad.next().await.transpose(), "a malformed search")?;
    println!("   a malformed search is refused: {}", refusal(&refused));
    Ok(())
}

async fn lifecycle(client: &Client) -> anyhow::Result<DemoUser> {
    step(
        3,
        "Create a user (staged, with a password), then walk the lifecycle",
    );
    println!("   (no typed API for these yet: client.json / client.send with Okta's paths)");
    let login = "dana.demo@acme.example.com";
    let created: Value = client
        .json(
            Method::POST,
            "/api/v1/users",
            &Query::new().push("activate", false),
            Some(&json!({
                "profile": {
                    "firstName": "Dana", "lastName": "Demo", "email": login, "login": login,
                    "employeeId": "E900001", "region": "EMEA", "department": "Engineering"
                },
                "credentials": {"password": {"value": "Correct-Horse-Battery-9"}}
            })),
        )
        .await?;
    let id = created["id"]
        .as_str()
        .context("the created user has no id")?
        .to_string();
    println!(
        "   created {id}: {}",
        created["status"].as_str().unwrap_or("-")
    );
    let invalid = client
        .json::<Value, Value>(
            Method::POST,
            "/api/v1/users",
            &Query::new(),
            Some(
                &json!({"profile": {"firstName": "X", "lastName": "Y", "email": "not-an-email",
                                     "login": "x", "clearanceLevel": 9}}),
            ),
        )
        .await;
    let invalid = expect_refusal(invalid, "an invalid user")?;
    println!(
        "   invalid input is refused before anything happens: {}",
        refusal(&invalid)
    );

    let activated = lifecycle_op(client, &id, "activate", Some(("sendEmail", false))).await?;
    // The activation URL embeds a one-time token, a credential: only its origin is shown.
    let origin = activated["activationUrl"]
        .as_str()
        .and_then(|u| reqwest::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|| "none".into());
    println!(
        "   activate (sendEmail=false) → {}; Okta handed back an activation link on {origin} (its token not shown)",
        status_of(client, &id).await?
    );
    lifecycle_op(client, &id, "suspend", None).await?;
    let again = lifecycle_op(client, &id, "suspend", None).await;
    let again = expect_refusal(again, "suspending a suspended user")?;
    println!(
        "   suspend → {}; suspending again: {}",
        status_of(client, &id).await?,
        refusal(&again)
    );
    lifecycle_op(client, &id, "unsuspend", None).await?;
    println!("   unsuspend → {}", status_of(client, &id).await?);
    Ok(DemoUser {
        id,
        login: login.to_string(),
    })
}

async fn membership(client: &Client, user: &DemoUser) -> anyhow::Result<()> {
    step(4, "Group membership");
    let group = client
        .groups()
        .list()
        .q("Engineering")
        .stream()
        .next()
        .await
        .context("the seeded org has an Engineering group")??;
    let name = group.name().unwrap_or("-").to_string();
    let before = members(client, &group.id, &user.id).await?;
    let path = format!("/api/v1/groups/{}/users/{}", group.id, user.id);
    client.send(Method::PUT, &path, &Query::new(), None).await?;
    let added = members(client, &group.id, &user.id).await?;
    println!(
        "   {name} had {} members; after the PUT it has {} (the demo user among them: {})",
        before.0,
        added.0,
        yes_no(added.1)
    );
    client
        .send(Method::DELETE, &path, &Query::new(), None)
        .await?;
    let removed = members(client, &group.id, &user.id).await?;
    println!(
        "   after the DELETE: {} members (the demo user among them: {})",
        removed.0,
        yes_no(removed.1)
    );
    Ok(())
}

/// The group's member count, streamed with `client.groups().members(..)`, and whether `user_id` is one.
async fn members(client: &Client, group_id: &str, user_id: &str) -> anyhow::Result<(u64, bool)> {
    let mut stream = client.groups().members(group_id).stream();
    let (mut count, mut found) = (0, false);
    while let Some(member) = stream.next().await {
        found |= member?.id == user_id;
        count += 1;
    }
    Ok((count, found))
}

async fn two_step_delete(client: &Client, id: &str) -> anyhow::Result<()> {
    step(5, "Deactivate and delete (Okta's two-step delete)");
    let path = format!("/api/v1/users/{id}");
    client
        .send(Method::DELETE, &path, &Query::new(), None)
        .await?;
    println!(
        "   first DELETE deactivates: {}",
        status_of(client, id).await?
    );
    client
        .send(Method::DELETE, &path, &Query::new(), None)
        .await?;
    let gone = expect_refusal(client.users().get(id).await, "a deleted user")?;
    println!("   second DELETE deletes: {}", refusal(&gone));
    Ok(())
}

async fn system_log(
    server: &SimServer,
    client: &Client,
    demo_start: i64,
    user_id: &str,
) -> anyhow::Result<()> {
    step(
        6,
        "The System Log recorded every step (client.poll_logs from the demo's start)",
    );
    let mut poll = client.poll_logs(LogStart::Since {
        since: okta_sim::clock::iso_ms(demo_start),
        filter: None,
        q: None,
        limit: 100,
    });
    let mut events = 0;
    while let Some(event) = poll.next().await {
        print_event(&event?);
        events += 1;
    }
    let cursor = poll
        .cursor()
        .cloned()
        .context("a finished poll has a cursor")?;
    println!(
        "   the poll read {events} events and ended on an empty page, holding the cursor to resume from"
    );
    let mut again = client.poll_logs(LogStart::Cursor(cursor));
    let mut new = 0;
    while let Some(event) = again.next().await {
        event?;
        new += 1;
    }
    println!("   polling again from that cursor: {new} new events");

    // A bounded search ends by itself. `until` is the simulator's clock plus 1 ms, so every event
    // already recorded (published <= now) is inside the range, however fast the demo ran.
    let until = okta_sim::clock::iso_ms(server.sim().clock.now_ms() + 1);
    let mut about = client
        .logs()
        .search()
        .since(okta_sim::clock::iso_ms(demo_start))
        .until(until)
        .filter(format!("target.id eq \"{user_id}\""))
        .stream();
    let mut count = 0;
    while let Some(event) = about.next().await {
        event?;
        count += 1;
    }
    println!("   client.logs().search() with filter target.id eq \"{user_id}\": {count} events");
    Ok(())
}

fn print_event(event: &LogEvent) {
    let target = event
        .targets()
        .first()
        .and_then(|t| t.alternate_id.as_deref())
        .unwrap_or("");
    println!(
        "   {}  {:<34} {target}",
        event.published().unwrap_or(""),
        event.event_type
    );
}

async fn discovery_actions(
    server: &SimServer,
    client: &Client,
    demo_start: i64,
    user: &DemoUser,
) -> anyhow::Result<()> {
    step(
        7,
        "Discovery actions from the registry the CLI, the docs and the HTTP API are generated from",
    );
    let names: Vec<&str> = actions::registry().iter().map(|a| a.name).collect();
    println!("   {} actions: {}", names.len(), names.join(", "));

    let search = json!({"search": "profile.department eq \"Engineering\"",
                        "sortBy": "profile.lastName", "max": 3});
    run_action(client, "search_users", search).await?;
    // The demo user is deleted by now: take a seeded one, found by the search the CLI runs.
    let login = client
        .users()
        .list()
        .search("profile.department eq \"Engineering\"")
        .limit(1)
        .stream()
        .next()
        .await
        .context("the seeded org has Engineering users")??
        .login()
        .unwrap_or_default()
        .to_string();
    run_action(client, "get_user", json!({"user": login})).await?;
    let since = okta_sim::clock::iso_ms(demo_start);
    let log = json!({"since": since, "filter": "eventType eq \"group.user_membership.add\""});
    run_action(client, "search_system_log", log).await?;

    // The registry checks input against the action's rules before any request is sent.
    let sent_before = server.sim().counters.total();
    let both = json!({"q": "dana", "search": format!("profile.login eq \"{}\"", user.login)});
    let refused = match actions::find("search_users")
        .context("search_users is in the registry")?
        .run(client.clone(), both)
        .await
    {
        Ok(_) => bail!("search_users accepted both q and search"),
        Err(e) => e,
    };
    println!(
        "   search_users with both q and search → {refused}; requests sent: {}",
        server.sim().counters.total() - sent_before
    );
    Ok(())
}

/// Runs an action exactly as `okta-connector actions run` does and prints its answer as a table.
async fn run_action(client: &Client, name: &str, input: Value) -> anyhow::Result<()> {
    let action = actions::find(name).with_context(|| format!("{name} is in the registry"))?;
    println!("   {name} {input}");
    let mut table = Vec::new();
    let columns = action.output.columns;
    let rows = match action.run(client.clone(), input).await? {
        ActionOutput::One(value) => {
            Writer::single(&mut table, Format::Table, columns, &value)?;
            1
        }
        ActionOutput::Stream(mut items) => {
            let mut writer = Writer::new(&mut table, Format::Table, columns);
            while let Some(item) = items.next().await {
                writer.item(&item?)?;
            }
            let rows = writer.count();
            writer.finish()?;
            rows
        }
    };
    for line in String::from_utf8_lossy(&table).lines() {
        println!("     {line}");
    }
    println!("     ({rows} {})", if rows == 1 { "row" } else { "rows" });
    Ok(())
}

fn continue_with_the_tool() {
    println!(
        "
Continue with the real tool (the simulator stands in for an Okta org):
   okta-connector sim --port 8080 &       # keeps an org running; prints its URL and API token
   printf '%s' \"$SIM_TOKEN\" | okta-connector connections add sandbox --org-url http://127.0.0.1:8080 --secret-stdin --default
   okta-connector connections test sandbox
   okta-connector users search --search 'profile.department eq \"Engineering\"' --max 5
   okta-connector groups list --q Eng
   okta-connector logs search --since 1h
   okta-connector watch new_events --config '{{\"categories\": [\"user_lifecycle\"]}}' --sink file:events.jsonl
   okta-connector actions list            # every action; `actions describe NAME` shows its input schema
For a real org: okta-connector connections add prod --org-url acme.okta.com (prompts for the token)."
    );
}

/// `POST /api/v1/users/{id}/lifecycle/{op}`: no typed API yet, so the generic JSON call.
async fn lifecycle_op(
    client: &Client,
    id: &str,
    op: &str,
    param: Option<(&str, bool)>,
) -> Result<Value, Error> {
    let query = match param {
        Some((key, value)) => Query::new().push(key, value),
        None => Query::new(),
    };
    client
        .json::<Value, Value>(
            Method::POST,
            &format!("/api/v1/users/{id}/lifecycle/{op}"),
            &query,
            None,
        )
        .await
}

/// The user's status, read back with the typed `client.users().get(..)`.
async fn status_of(client: &Client, id: &str) -> anyhow::Result<String> {
    let user = client.users().get(id).await?;
    Ok(user
        .status
        .get()
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|| "-".into()))
}

/// The error of a call Okta must refuse; its success would make the walk-through's claim false.
fn expect_refusal<T>(result: Result<T, Error>, what: &str) -> anyhow::Result<Error> {
    match result {
        Err(e) => Ok(e),
        Ok(_) => bail!("{what} was expected to be refused, but Okta accepted it"),
    }
}

/// An Okta refusal from `okta_client::Error`'s fields: status, code, summary, causes, request id.
fn refusal(e: &Error) -> String {
    let mut text = format!(
        "{} {} {}",
        e.status().map_or("-".into(), |s| s.to_string()),
        e.error_code().unwrap_or("-"),
        e.error_summary().unwrap_or(&e.message)
    );
    let causes = e.error_causes();
    if !causes.is_empty() {
        text.push_str(&format!(" ({})", causes.join("; ")));
    }
    if let Some(id) = e.request_id() {
        text.push_str(&format!(" [request {id}]"));
    }
    text
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
