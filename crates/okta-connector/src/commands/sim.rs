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
        api_token: args.api_token,
        org_name: args.org_name,
        ..SimConfig::default()
    };
    let addr = SocketAddr::new(args.bind, args.port);
    let server = okta_sim::spawn(config, addr).await.with_context(|| {
        format!("cannot listen on {addr} (is the port in use? --port 0 picks a free one)")
    })?;
    // The token is printed on purpose: this is a local sandbox org and the user needs it to call it.
    println!("Simulated Okta org listening on {}", server.base_url());
    println!("API token: {}", server.api_token());
    println!(
        "Try: curl -i -H \"Authorization: SSWS {}\" {}/api/v1/users?limit=2",
        server.api_token(),
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
