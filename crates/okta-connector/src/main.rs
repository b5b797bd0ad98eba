//! `okta-connector`: the command-line tool.

use clap::FromArgMatches;

mod cli;
mod commands;
mod exit;

fn main() -> std::process::ExitCode {
    let matches = cli::command().get_matches();
    // The daemon's log is its main output; elsewhere only warnings interrupt the command's own.
    let default_level = match matches.subcommand_name() {
        Some("serve" | "watch") => "info",
        _ => "warn",
    };
    let format = matches
        .subcommand_matches("serve")
        .and_then(|serve| serve.get_one::<okta_connector::logging::LogFormat>("log_format"))
        .copied()
        .unwrap_or_default();
    okta_connector::logging::init_logging(format, default_level);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        // The friendly subcommands are generated from the action registry, so clap's derive does
        // not know them: dispatch them first.
        if let Some((group, sub)) = matches.subcommand()
            && cli::friendly::is_friendly(group)
        {
            let global = cli::GlobalArgs::from_arg_matches(&matches)?;
            let ctx = commands::Context::from_args(global);
            return commands::run_friendly(&ctx, group, sub).await;
        }
        let cli = cli::Cli::from_arg_matches(&matches).map_err(|e| e.exit())?;
        commands::run(cli).await
    });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader went away (`| head`): nothing more to say, as with any Unix filter.
        Err(e) if exit::is_broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(exit::code(&e))
        }
    }
}
