//! `okta-connector sim`: serve a simulated org until Ctrl-C.

use std::net::SocketAddr;

use anyhow::Context;
use okta_sim::SimConfig;

use crate::cli::SimArgs;

pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let oauth_apps = match &args.oauth_apps {
        Some(path) => read_oauth_apps(path)?,
        None => Vec::new(),
    };
    let config = SimConfig {
        users: args.users,
        groups: args.groups,
        apps: args.apps,
        log_events: args.log_events,
        seed: args.seed,
        rate_limits: args.rate_limits,
        latency_ms: args.latency_ms,
        api_token: args.api_token.clone().map(|t| t.0),
        org_name: args.org_name,
        oauth_apps,
        ..SimConfig::default()
    };
    let addr = SocketAddr::new(args.bind, args.port);
    let server = okta_sim::spawn(config, addr).await.with_context(|| {
        format!("cannot listen on {addr} (is the port in use? --port 0 picks a free one)")
    })?;
    println!("Simulated Okta org listening on {}", server.base_url());
    // A generated token is printed on purpose: it is this sandbox's only credential and the user
    // needs it. A token the user chose is theirs already and is not repeated.
    let token = match args.api_token {
        None => {
            println!("API token: {}", server.api_token());
            server.api_token()
        }
        Some(_) => {
            println!("API token: the one given with --api-token / OKTA_SIM_API_TOKEN");
            "$TOKEN".to_string()
        }
    };
    println!(
        "Try: curl -i -H \"Authorization: SSWS {token}\" {}/api/v1/users?limit=2",
        server.base_url()
    );
    let apps = server.sim().oauth.apps();
    if !apps.is_empty() {
        let ids: Vec<&str> = apps.iter().map(|a| a.client_id()).collect();
        println!(
            "OAuth apps: {} (token endpoint {}/oauth2/v1/token)",
            ids.join(", "),
            server.base_url()
        );
    }
    println!(
        "Control API: {}/control/counters (Ctrl-C stops)",
        server.base_url()
    );
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    eprintln!("shutting down");
    server.shutdown().await;
    Ok(())
}

/// The `--oauth-apps` file: a JSON array of apps in the control API's shape, each checked as the
/// simulator will check it, so a mistake names the app and the problem before anything starts.
fn read_oauth_apps(path: &std::path::Path) -> anyhow::Result<Vec<okta_sim::oauth::OAuthApp>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the OAuth apps file {}", path.display()))?;
    let apps: Vec<okta_sim::oauth::OAuthApp> = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a JSON array of OAuth apps (see the README's simulator section)",
            path.display()
        )
    })?;
    for app in &apps {
        okta_sim::oauth::App::new(app.clone())
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    Ok(apps)
}
