//! `okta-connector demo`: a guided walk through the simulated org.

use crate::cli::DemoArgs;

pub async fn run(_args: DemoArgs) -> anyhow::Result<()> {
    Ok(())
}
