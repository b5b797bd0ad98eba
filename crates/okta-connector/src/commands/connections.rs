//! `okta-connector connections ...`. Filled in by the connections work.

use crate::cli::connections::ConnectionsArgs;
use crate::commands::Context;

pub async fn run(_ctx: &Context, _args: ConnectionsArgs) -> anyhow::Result<()> {
    todo!("connections")
}
