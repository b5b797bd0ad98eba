//! One module per command. `Context` is the validated global configuration every command gets.

pub mod connections;
mod demo;
mod sim;

use std::path::PathBuf;

use okta_connector::connections::Environment;

use crate::cli::{Cli, Command, GlobalArgs};

/// Global settings, validated once from flags and the environment.
pub struct Context {
    /// `--state` as given (resolved lazily: `sim` and `demo` need no state directory).
    pub state_flag: Option<PathBuf>,
    pub connection: Option<String>,
}

impl Context {
    fn from_args(global: GlobalArgs) -> Self {
        Context {
            state_flag: global.state,
            connection: global.connection,
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
        okta_connector::connections::state_dir(self.state_flag.as_deref(), &self.environment())
    }
}

/// An error that chooses the process's exit status (any other error exits with 1). Its message is
/// printed like any error's.
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Context::from_args(cli.global);
    match cli.command {
        Command::Sim(args) => sim::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Connections(args) => connections::run(&ctx, args).await,
    }
}
