//! okta-connector as a library: connections (with their encrypted store), the action and trigger
//! registries, the trigger runner and its sinks, the daemon (`serve` and its HTTP side) and output
//! formatting. The `okta-connector` binary is a thin CLI over this.

pub mod actions;
pub mod bulk;
pub mod connections;
pub mod daemon;
pub mod journal;
pub mod logging;
pub mod output;
pub mod profile_schema;
pub mod serve;
pub mod sinks;
pub mod triggers;
