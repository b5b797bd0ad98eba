//! One module per command. `Context` is the validated global configuration every command gets.

pub mod actions;
pub mod connections;
mod demo;
mod sim;
pub mod triggers;

use std::path::PathBuf;

use okta_connector::connections::{self as conn, Environment};
use okta_connector::output::Format;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::exit::{self, Exit};

/// Global settings, validated once from flags and the environment.
pub struct Context {
    /// `--state` as given (resolved lazily: `sim` and `demo` need no state directory).
    pub state_flag: Option<PathBuf>,
    pub connection: Option<String>,
    /// `--output`, when given; each command has its own default.
    pub output: Option<Format>,
}

impl Context {
    pub fn from_args(global: GlobalArgs) -> Self {
        Context {
            state_flag: global.state,
            connection: global.connection,
            output: global.output,
        }
    }

    /// The process environment, as connection resolution reads it.
    pub fn environment(&self) -> Environment<'static> {
        Environment {
            var: &|name| std::env::var(name).ok(),
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }

    pub fn state_dir(&self) -> anyhow::Result<PathBuf> {
        conn::state_dir(self.state_flag.as_deref(), &self.environment())
            .map_err(|e| Exit::error(exit::CONNECTION, e))
    }

    /// The connection this command uses (see `connections::resolve`).
    pub fn connection(&self) -> anyhow::Result<conn::Connection> {
        let state = self.state_dir()?;
        let resolved = conn::resolve(&state, self.connection.as_deref(), &self.environment())
            .map_err(|e| Exit::error(exit::CONNECTION, e))?;
        for warning in &resolved.warnings {
            eprintln!("warning: {warning}");
        }
        Ok(resolved.connection)
    }

    /// A client for the connection this command uses.
    pub fn client(&self) -> anyhow::Result<okta_client::Client> {
        self.connection()?
            .client()
            .map_err(|e| Exit::error(exit::CONNECTION, e))
    }
}

/// Runs a friendly subcommand (`users search ...`): an action from the registry.
pub async fn run_friendly(
    ctx: &Context,
    group: &str,
    matches: &clap::ArgMatches,
) -> anyhow::Result<()> {
    match crate::cli::friendly::action_input(group, matches) {
        Some(Ok((action, input))) => actions::run_action(ctx, action, input).await,
        Some(Err(e)) => Err(Exit::error(exit::USAGE, anyhow::anyhow!(e))),
        None => Err(Exit::error(
            exit::USAGE,
            anyhow::anyhow!("unknown subcommand of {group}"),
        )),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Context::from_args(cli.global);
    match cli.command {
        Command::Sim(args) => sim::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Connections(args) => connections::run(&ctx, args).await,
        Command::Actions(args) => actions::run(&ctx, args).await,
        Command::Triggers(args) => triggers::run(&ctx, args).await,
        Command::Watch(args) => triggers::watch(&ctx, args).await,
        Command::Serve(args) => triggers::serve(&ctx, args).await,
        Command::Jobs(args) => triggers::jobs(&ctx, args).await,
        Command::Hooks(args) => triggers::hooks(&ctx, args).await,
    }
}
