//! The file sink: an append-only JSONL file, fsynced before acknowledging.

use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq)]
pub struct FileSpec {
    pub path: PathBuf,
}
