//! The exec sink: each batch piped as NDJSON to a command.

#[derive(Clone, Debug, PartialEq)]
pub struct ExecSpec {
    pub command: Vec<String>,
}
