//! What a trigger keeps between runs, in the state database next to the connection store (its own
//! tables, created with `IF NOT EXISTS`):
//!
//! * `trigger_state`: per trigger instance (its name), the configuration it was started with, the
//!   committed cursor and the sink's position at that cursor.
//! * `trigger_seen`: the record ids delivered within the de-duplication window, with when.
//! * `trigger_jobs`: the job history, one row per delivered batch or failed attempt.
//!
//! A delivery is committed by [`TriggerState::commit`] in one transaction (cursor, sink position, seen
//! ids, job row): after a crash either all of it is there or none of it, so the cursor never runs
//! ahead of what the sink acknowledged. Durability is WAL with `synchronous=NORMAL`, as for the run
//! journal (`crate::journal`): a commit survives kill -9; only a power loss can drop the last few, which
//! re-reads records the sink already has — the file sink finds those by itself (`Sink::recover`).

use std::path::Path;

use anyhow::Context as _;
use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use crate::connections::{crypto, store};

/// One trigger instance's stored state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stored {
    pub cursor: Option<Value>,
    pub sink_position: Option<String>,
}

/// Who a trigger instance is: its name (the key) and what it was started with.
#[derive(Clone, Debug)]
pub struct Identity<'a> {
    pub name: &'a str,
    pub connection: &'a str,
    pub trigger: &'a str,
    /// The trigger's configuration, as JSON (compared on every start: see [`TriggerState::open`]).
    pub config: &'a Value,
    /// The sink's description (a changed sink keeps the cursor but forgets the old sink's position).
    pub sink: &'a str,
}

/// One row of the job history.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Job {
    pub id: i64,
    pub name: String,
    pub connection: String,
    pub trigger: String,
    pub started: String,
    pub finished: String,
    /// `delivered` or `failed`.
    pub status: String,
    /// Records handed to the sink.
    pub records: u64,
    /// Records dropped as already delivered.
    pub duplicates: u64,
    pub error: Option<String>,
    pub sink: String,
}

/// What a job row records.
#[derive(Clone, Copy)]
pub struct JobRecord<'a> {
    pub started: &'a str,
    pub finished: &'a str,
    pub records: u64,
    pub duplicates: u64,
    pub error: Option<&'a str>,
}

/// A `trigger_state` row as read.
struct StoredRow {
    connection: String,
    trigger: String,
    config: String,
    sink: String,
    cursor: Option<String>,
    position: Option<String>,
}

/// A trigger instance the state database knows.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InstanceRow {
    pub name: String,
    pub connection: String,
    pub trigger: String,
    pub cursor: Option<Value>,
    pub updated: String,
}

/// A trigger instance's state, held by its runner.
pub struct TriggerState {
    db: rusqlite::Connection,
    who: Who,
}

/// The instance a job row names.
struct Who {
    name: String,
    connection: String,
    trigger: String,
    sink: String,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS trigger_state (
    name          TEXT PRIMARY KEY,
    connection    TEXT NOT NULL,
    trigger       TEXT NOT NULL,
    config        TEXT NOT NULL,
    sink          TEXT NOT NULL,
    cursor        TEXT,
    sink_position TEXT,
    updated       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS trigger_seen (
    name     TEXT NOT NULL,
    id       TEXT NOT NULL,
    seen_ms  INTEGER NOT NULL,
    PRIMARY KEY (name, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trigger_seen_by_age ON trigger_seen (name, seen_ms);
CREATE TABLE IF NOT EXISTS trigger_jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    connection  TEXT NOT NULL,
    trigger     TEXT NOT NULL,
    started     TEXT NOT NULL,
    finished    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('delivered', 'failed')),
    records     INTEGER NOT NULL,
    duplicates  INTEGER NOT NULL,
    error       TEXT,
    sink        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trigger_jobs_by_name ON trigger_jobs (name, id);
";

/// Opens the state database with the trigger tables (owner-only, like the store).
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
    // Several runners of one daemon, and other commands, share the file.
    db.busy_timeout(std::time::Duration::from_secs(10))?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.pragma_update(None, "synchronous", "NORMAL")?;
    db.execute_batch(SCHEMA)
        .context("cannot prepare the trigger state tables")?;
    Ok(db)
}

impl TriggerState {
    /// Opens (or creates) the state of the instance `identity.name`.
    ///
    /// An instance started before with another trigger, connection or configuration is refused:
    /// its cursor means something else (a System Log cursor carries its filter). The error says how
    /// to start over. A changed sink is accepted: the cursor is kept, the old sink's position dropped.
    pub fn open(
        state_dir: &Path,
        identity: &Identity<'_>,
    ) -> anyhow::Result<(TriggerState, Stored)> {
        let db = open_db(state_dir)?;
        let config = serde_json::to_string(identity.config)?;
        let row: Option<StoredRow> = db
            .query_row(
                "SELECT connection, trigger, config, sink, cursor, sink_position
                 FROM trigger_state WHERE name = ?1",
                [identity.name],
                |r| {
                    Ok(StoredRow {
                        connection: r.get(0)?,
                        trigger: r.get(1)?,
                        config: r.get(2)?,
                        sink: r.get(3)?,
                        cursor: r.get(4)?,
                        position: r.get(5)?,
                    })
                },
            )
            .optional()?;
        let stored = match row {
            None => {
                db.execute(
                    "INSERT INTO trigger_state (name, connection, trigger, config, sink)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        identity.name,
                        identity.connection,
                        identity.trigger,
                        config,
                        identity.sink
                    ],
                )?;
                Stored::default()
            }
            Some(StoredRow {
                connection,
                trigger,
                config: old_config,
                sink,
                cursor,
                position,
            }) => {
                let same_config = serde_json::from_str::<Value>(&old_config).ok().as_ref()
                    == Some(identity.config);
                if connection != identity.connection || trigger != identity.trigger || !same_config
                {
                    anyhow::bail!(
                        "the trigger instance '{name}' was started as {trigger} on connection '{connection}' \
                         with the configuration {old_config}; it cannot resume as {new_trigger} on '{new_connection}' \
                         with {config}. Give this one another name (--name), or forget the old one with \
                         `okta-connector triggers reset {name}` to start over from its `start`",
                        name = identity.name,
                        new_trigger = identity.trigger,
                        new_connection = identity.connection,
                    );
                }
                let cursor = cursor
                    .map(|c| serde_json::from_str(&c))
                    .transpose()
                    .context("the stored cursor is not JSON")?;
                let sink_position = if sink == identity.sink {
                    position
                } else {
                    tracing::warn!(
                        name = identity.name,
                        old = sink,
                        new = identity.sink,
                        "the sink changed: keeping the cursor, records before it stay in the old sink"
                    );
                    db.execute(
                        "UPDATE trigger_state SET sink = ?2, sink_position = NULL WHERE name = ?1",
                        params![identity.name, identity.sink],
                    )?;
                    None
                };
                Stored {
                    cursor,
                    sink_position,
                }
            }
        };
        Ok((
            TriggerState {
                db,
                who: Who {
                    name: identity.name.to_string(),
                    connection: identity.connection.to_string(),
                    trigger: identity.trigger.to_string(),
                    sink: identity.sink.to_string(),
                },
            },
            stored,
        ))
    }

    /// The ids among `ids` delivered within the window (seen at or after `since_ms`).
    pub fn seen(
        &self,
        ids: &[&str],
        since_ms: i64,
    ) -> anyhow::Result<std::collections::HashSet<String>> {
        let mut stmt = self.db.prepare_cached(
            "SELECT 1 FROM trigger_seen WHERE name = ?1 AND id = ?2 AND seen_ms >= ?3",
        )?;
        let mut seen = std::collections::HashSet::new();
        for id in ids {
            if stmt.exists(params![self.who.name, id, since_ms])? {
                seen.insert(id.to_string());
            }
        }
        Ok(seen)
    }

    /// Commits a delivery: the new cursor and sink position, the delivered ids (seen at `now_ms`),
    /// ids older than `forget_before_ms` dropped, and a job row when `job` is given — all or nothing.
    pub fn commit(
        &mut self,
        cursor: &Value,
        sink_position: Option<&str>,
        delivered: &[&str],
        now_ms: i64,
        forget_before_ms: i64,
        job: Option<&JobRecord<'_>>,
    ) -> anyhow::Result<()> {
        let tx = self.db.transaction()?;
        tx.execute(
            "UPDATE trigger_state
             SET cursor = ?2, sink_position = COALESCE(?3, sink_position),
                 updated = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE name = ?1",
            params![self.who.name, serde_json::to_string(cursor)?, sink_position],
        )?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO trigger_seen (name, id, seen_ms) VALUES (?1, ?2, ?3)",
            )?;
            for id in delivered {
                insert.execute(params![self.who.name, id, now_ms])?;
            }
        }
        tx.execute(
            "DELETE FROM trigger_seen WHERE name = ?1 AND seen_ms < ?2",
            params![self.who.name, forget_before_ms],
        )?;
        if let Some(job) = job {
            insert_job(&tx, &self.who, job)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Marks ids as delivered without moving the cursor: records a sink already held after a crash
    /// (delivered by a process that died before its commit). Their job row, lost with that process,
    /// is written now for the ids not remembered already (a second crash before the next commit
    /// finds the same records again), so the history counts every record once. Returns how many
    /// were new.
    pub fn remember(
        &mut self,
        ids: &[String],
        now_ms: i64,
        job: &JobRecord<'_>,
    ) -> anyhow::Result<u64> {
        let tx = self.db.transaction()?;
        let mut new = 0;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO trigger_seen (name, id, seen_ms) VALUES (?1, ?2, ?3)",
            )?;
            for id in ids {
                new += insert.execute(params![self.who.name, id, now_ms])? as u64;
            }
        }
        if new > 0 {
            insert_job(
                &tx,
                &self.who,
                &JobRecord {
                    records: new,
                    ..*job
                },
            )?;
        }
        tx.commit()?;
        Ok(new)
    }

    /// Records a failed attempt in the job history (the cursor does not move).
    pub fn record_failure(&mut self, job: &JobRecord<'_>) -> anyhow::Result<()> {
        let tx = self.db.transaction()?;
        insert_job(&tx, &self.who, job)?;
        tx.commit()?;
        Ok(())
    }
}

fn insert_job(
    tx: &rusqlite::Transaction<'_>,
    state: &Who,
    job: &JobRecord<'_>,
) -> anyhow::Result<()> {
    tx.execute(
        "INSERT INTO trigger_jobs
             (name, connection, trigger, started, finished, status, records, duplicates, error, sink)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            state.name,
            state.connection,
            state.trigger,
            job.started,
            job.finished,
            if job.error.is_some() { "failed" } else { "delivered" },
            job.records as i64,
            job.duplicates as i64,
            job.error,
            state.sink,
        ],
    )?;
    Ok(())
}

/// The job history, newest first (optionally of one instance), at most `limit` rows.
pub fn jobs(state_dir: &Path, name: Option<&str>, limit: u32) -> anyhow::Result<Vec<Job>> {
    let db = open_db(state_dir)?;
    let mut stmt = db.prepare(
        "SELECT id, name, connection, trigger, started, finished, status, records, duplicates, error, sink
         FROM trigger_jobs WHERE ?1 IS NULL OR name = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![name, limit], |r| {
        Ok(Job {
            id: r.get(0)?,
            name: r.get(1)?,
            connection: r.get(2)?,
            trigger: r.get(3)?,
            started: r.get(4)?,
            finished: r.get(5)?,
            status: r.get(6)?,
            records: r.get::<_, i64>(7)? as u64,
            duplicates: r.get::<_, i64>(8)? as u64,
            error: r.get(9)?,
            sink: r.get(10)?,
        })
    })?;
    rows.collect::<Result<_, _>>().map_err(Into::into)
}

/// The instances the state database knows, by name.
pub fn instances(state_dir: &Path) -> anyhow::Result<Vec<InstanceRow>> {
    let db = open_db(state_dir)?;
    let mut stmt = db.prepare(
        "SELECT name, connection, trigger, cursor, updated FROM trigger_state ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| {
        let cursor: Option<String> = r.get(3)?;
        Ok(InstanceRow {
            name: r.get(0)?,
            connection: r.get(1)?,
            trigger: r.get(2)?,
            cursor: cursor.and_then(|c| serde_json::from_str(&c).ok()),
            updated: r.get(4)?,
        })
    })?;
    rows.collect::<Result<_, _>>().map_err(Into::into)
}

/// Forgets an instance's cursor, sink position and seen ids (its job history stays). Returns whether
/// it existed.
pub fn reset(state_dir: &Path, name: &str) -> anyhow::Result<bool> {
    let mut db = open_db(state_dir)?;
    let tx = db.transaction()?;
    let n = tx.execute("DELETE FROM trigger_state WHERE name = ?1", [name])?;
    tx.execute("DELETE FROM trigger_seen WHERE name = ?1", [name])?;
    tx.commit()?;
    Ok(n > 0)
}
