//! One module per command.

mod demo;
mod sim;

use crate::cli::{Cli, Command};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Sim(args) => sim::run(args).await,
        Command::Demo(args) => demo::run(args).await,
    }
}
