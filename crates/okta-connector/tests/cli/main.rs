//! The `okta-connector` binary, run as a user runs it: a clean environment, real processes, loopback only.
//! Every failure prints what the command printed.

mod actions;
mod bulk;
mod connections;
mod daemon_api;
mod demo;
mod lifecycle;
mod oauth;
mod object_triggers;
mod profile_schema;
mod realtime;
mod scheduled;
mod sim;
mod sinks;
mod triggers;
mod watch;

use std::process::{Command, Output};

/// The binary with an empty environment (only PATH), so the user's settings cannot leak into a test.
pub fn cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_okta-connector"));
    c.env_clear();
    if let Ok(path) = std::env::var("PATH") {
        c.env("PATH", path);
    }
    c
}

pub fn describe(out: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
