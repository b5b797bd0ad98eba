//! `okta-connector sim`: serve a simulated org until Ctrl-C.

use std::net::SocketAddr;

use anyhow::Context;
use okta_sim::SimConfig;

use crate::cli::SimArgs;

pub async fn run(args: SimArgs) -> anyhow::Result<()> {
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
