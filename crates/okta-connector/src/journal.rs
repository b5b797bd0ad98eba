//! The run journal of bulk runs: which inputs of a batch were started, done or failed, so the same
//! command after an interruption (Ctrl-C, kill -9, a crash) resumes where it stopped.
//!
//! It lives in the state database next to the connection store (same file, its own tables `runs` and
//! `run_items`, created with `IF NOT EXISTS`; the store's `user_version` is never touched). A run is
//! identified by (connection, action, SHA-256 of the input file's bytes): running the same command on
//! the same file again finds it. Each item is written `started` *before* its request is sent and
//! `done`/`failed` after, each write its own transaction, so after a crash an item is in one of three
//! honest states: `done` (skipped on resume), `failed` (tried again), or `started` (outcome unknown:
//! tried again, which relies on the action being idempotent-by-state — see `crate::bulk`).
//!
//! Durability: WAL with `synchronous=NORMAL`. A committed transaction survives the death of the
//! process (kill -9, panic): the WAL is written before `commit` returns and SQLite replays it on the
//! next open. Only a power loss or OS crash can drop the last few commits — then a `done` item reads as
//! `started` or absent and is sent again, the case the idempotence contract already covers. `FULL`
//! would add an fsync per item (two per input) for no gain in what the contract guarantees.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use anyhow::Context as _;
use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use crate::connections::{crypto, store};

/// An item's state in the journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemState {
    /// Written before the request: its outcome is unknown until `Done` or `Failed` replaces it.
    Started,
    Done,
    Failed,
}

impl ItemState {
    fn as_str(self) -> &'static str {
        match self {
            ItemState::Started => "started",
            ItemState::Done => "done",
            ItemState::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "started" => ItemState::Started,
            "done" => ItemState::Done,
            "failed" => ItemState::Failed,
            _ => return None,
        })
    }
}

/// What the journal knows of one input line from earlier attempts.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub state: ItemState,
    pub input_hash: String,
    /// The output (done) or the error message (failed), as JSON.
    pub result: Option<Value>,
}

/// The journal of one run, shared by the tasks of a batch (writes are short and serialized).
pub struct RunJournal {
    db: Mutex<rusqlite::Connection>,
    pub run_id: i64,
    /// Whether the run existed before this command (a resume) or was created by it.
    pub resumed: bool,
}

/// What identifies a run.
pub struct RunKey<'a> {
    /// The connection's name and org URL (two connections of the same name are different runs).
    pub connection: &'a str,
    pub action: &'a str,
    /// `content_hash` of the input file.
    pub input_hash: &'a str,
}

/// Hex SHA-256 of some bytes: the identity of an input file or of one input.
pub fn content_hash(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Opens the state database (creating the directory and file as the store would, owner-only: the
/// journal keeps the outputs of actions, which name users).
fn open_db(state_dir: &Path) -> anyhow::Result<rusqlite::Connection> {
    crypto::create_private_dir(state_dir)?;
    let path = state_dir.join(store::DB_FILE);
    let db = rusqlite::Connection::open(&path)
        .with_context(|| format!("cannot open the state database {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict the permissions of {}", path.display()))?;
    }
    // The daemon or another command may hold the database for a moment.
    db.busy_timeout(std::time::Duration::from_secs(5))?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.pragma_update(None, "synchronous", "NORMAL")?;
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS runs (
             id          INTEGER PRIMARY KEY AUTOINCREMENT,
             connection  TEXT NOT NULL,
             action      TEXT NOT NULL,
             input_hash  TEXT NOT NULL,
             total       INTEGER NOT NULL,
             created     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         );
         CREATE INDEX IF NOT EXISTS runs_by_key ON runs (connection, action, input_hash);
         CREATE TABLE IF NOT EXISTS run_items (
             run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
             line        INTEGER NOT NULL,
             input_hash  TEXT NOT NULL,
             state       TEXT NOT NULL CHECK (state IN ('started', 'done', 'failed')),
             result      TEXT,
             updated     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
             PRIMARY KEY (run_id, line)
         );",
    )
    .context("cannot prepare the run journal")?;
    Ok(db)
}

impl RunJournal {
    /// The latest run with this key, or a new one (always new with `fresh`).
    pub fn open(
        state_dir: &Path,
        key: &RunKey<'_>,
        total: u64,
        fresh: bool,
    ) -> anyhow::Result<RunJournal> {
        let db = open_db(state_dir)?;
        let existing: Option<i64> = if fresh {
            None
        } else {
            db.query_row(
                "SELECT id FROM runs WHERE connection = ?1 AND action = ?2 AND input_hash = ?3
                 ORDER BY id DESC LIMIT 1",
                params![key.connection, key.action, key.input_hash],
                |r| r.get(0),
            )
            .optional()?
        };
        let (run_id, resumed) = match existing {
            Some(id) => (id, true),
            None => {
                db.execute(
                    "INSERT INTO runs (connection, action, input_hash, total) VALUES (?1, ?2, ?3, ?4)",
                    params![key.connection, key.action, key.input_hash, total as i64],
                )?;
                (db.last_insert_rowid(), false)
            }
        };
        Ok(RunJournal {
            db: Mutex::new(db),
            run_id,
            resumed,
        })
    }

    /// Every item recorded for this run, by line.
    pub fn recorded(&self) -> anyhow::Result<HashMap<u64, Recorded>> {
        let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt =
            db.prepare("SELECT line, input_hash, state, result FROM run_items WHERE run_id = ?1")?;
        let rows = stmt.query_map([self.run_id], |r| {
            let line: i64 = r.get(0)?;
            let state: String = r.get(2)?;
            let result: Option<String> = r.get(3)?;
            Ok((line, r.get::<_, String>(1)?, state, result))
        })?;
        let mut recorded = HashMap::new();
        for row in rows {
            let (line, input_hash, state, result) = row?;
            let state = ItemState::parse(&state)
                .with_context(|| format!("the run journal has an unknown state '{state}'"))?;
            let result = result.and_then(|t| serde_json::from_str(&t).ok());
            recorded.insert(
                line as u64,
                Recorded {
                    state,
                    input_hash,
                    result,
                },
            );
        }
        Ok(recorded)
    }

    /// Records an item's state (and its result once known), in a transaction of its own.
    pub fn record(
        &self,
        line: u64,
        input_hash: &str,
        state: ItemState,
        result: Option<&Value>,
    ) -> anyhow::Result<()> {
        let result = result.map(|v| without_secrets(v.clone()).to_string());
        let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        db.execute(
            "INSERT INTO run_items (run_id, line, input_hash, state, result) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (run_id, line) DO UPDATE SET input_hash = excluded.input_hash,
                 state = excluded.state, result = excluded.result,
                 updated = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            params![self.run_id, line as i64, input_hash, state.as_str(), result],
        )
        .context("cannot write to the run journal")?;
        Ok(())
    }
}

/// Counts of a run's items by state (for tests and `--fresh` decisions).
pub fn counts(state_dir: &Path, run_id: i64) -> anyhow::Result<HashMap<String, u64>> {
    let db = open_db(state_dir)?;
    let mut stmt =
        db.prepare("SELECT state, COUNT(*) FROM run_items WHERE run_id = ?1 GROUP BY state")?;
    let rows = stmt.query_map([run_id], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
    rows.collect::<Result<_, _>>().map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key<'a>(hash: &'a str) -> RunKey<'a> {
        RunKey {
            connection: "prod https://acme.okta.com",
            action: "deactivate_user",
            input_hash: hash,
        }
    }

    #[test]
    fn the_same_key_resumes_and_fresh_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunJournal::open(dir.path(), &key("h1"), 2, false).unwrap();
        assert!(!first.resumed);
        first.record(1, "a", ItemState::Started, None).unwrap();
        first
            .record(
                1,
                "a",
                ItemState::Done,
                Some(&serde_json::json!({"id": "u1"})),
            )
            .unwrap();
        first.record(2, "b", ItemState::Started, None).unwrap();
        drop(first);

        let again = RunJournal::open(dir.path(), &key("h1"), 2, false).unwrap();
        assert!(again.resumed);
        let recorded = again.recorded().unwrap();
        assert_eq!(recorded[&1].state, ItemState::Done);
        assert_eq!(recorded[&1].result.as_ref().unwrap()["id"], "u1");
        assert_eq!(recorded[&2].state, ItemState::Started);

        let other_file = RunJournal::open(dir.path(), &key("h2"), 2, false).unwrap();
        assert!(!other_file.resumed);
        let fresh = RunJournal::open(dir.path(), &key("h1"), 2, true).unwrap();
        assert!(!fresh.resumed && fresh.run_id != again.run_id);
        assert!(fresh.recorded().unwrap().is_empty());
        assert_eq!(counts(dir.path(), again.run_id).unwrap()["done"], 1);
    }

    #[test]
    fn shares_the_file_with_the_connection_store() {
        let dir = tempfile::tempdir().unwrap();
        RunJournal::open(dir.path(), &key("h"), 1, false).unwrap();
        // The store still migrates and works on a file the journal created first.
        let store = store::Store::open(dir.path(), None).unwrap();
        assert!(store.list().unwrap().is_empty());
        RunJournal::open(dir.path(), &key("h"), 1, false).unwrap();
    }
}

/// Fields of an action's result that are credentials (a one-time link or token, a temporary
/// password): printed once to whoever ran the action, never written to the journal.
const SECRET_FIELDS: &[&str] = &[
    "activationToken",
    "activationUrl",
    "tempPassword",
    "resetPasswordUrl",
];

/// The result with every credential field replaced by a note, however deep.
fn without_secrets(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    if SECRET_FIELDS.contains(&k.as_str()) {
                        (k, Value::String("<not kept in the journal>".into()))
                    } else {
                        (k, without_secrets(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_secrets).collect()),
        other => other,
    }
}

#[cfg(test)]
mod secret_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credentials_in_results_are_not_kept() {
        let kept = without_secrets(json!({
            "changed": true,
            "tempPassword": "Xy7!temp",
            "nested": [{"activationUrl": "https://acme.okta.com/welcome/abc", "id": "00u1"}],
        }));
        let text = kept.to_string();
        assert!(
            !text.contains("Xy7!temp") && !text.contains("welcome/abc"),
            "{text}"
        );
        assert_eq!(kept["nested"][0]["id"], "00u1");
        assert_eq!(kept["changed"], true);
    }
}
