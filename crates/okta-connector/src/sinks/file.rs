//! The file sink: an append-only JSONL file, fsynced before acknowledging.
//!
//! * Each batch is one `write` of its lines followed by `sync_data`; the position acknowledged is the
//!   file's length after it (a decimal string). A write that fails half way is cut back off, so the
//!   file stays whole JSONL and the batch can be written again.
//! * The file is created `0600` if absent (and its directory fsynced, so the new name survives a
//!   crash). While open it is locked (`flock`): a second sink on the same file (another trigger or
//!   process) is refused, since its lines would move this one's positions.
//! * Moved or deleted under the sink (log rotation): the next batch goes to a new file at the path.
//! * [`recover`](Sink::recover) reads only what lies beyond the committed length (it seeks there):
//!   the ids of the complete lines, which a process that died before committing had written; a torn
//!   last line (no newline) is cut off. A file shorter than the committed length was rotated or
//!   truncated: a warning, nothing to recover. With no committed position yet (the first start),
//!   the last [`FIRST_START_TAIL`] bytes are searched, since a process may have died before its
//!   first commit.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use super::{Line, Sink, SinkError, SinkFuture, ndjson};

/// `file:PATH`, or `{file: PATH}` in YAML.
#[derive(Clone, Debug, PartialEq)]
pub struct FileSpec {
    pub path: PathBuf,
}

impl FileSpec {
    pub fn parse(text: &str) -> Result<FileSpec, String> {
        if text.trim().is_empty() {
            return Err(
                "a file sink needs a path, e.g. file:/var/lib/okta-connector/events.jsonl".into(),
            );
        }
        Ok(FileSpec {
            path: PathBuf::from(text),
        })
    }
}

impl<'de> Deserialize<'de> for FileSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FileSpec, D::Error> {
        let text = String::deserialize(d)?;
        FileSpec::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// How much of the file's end [`recover`](Sink::recover) searches at the first start: a batch is
/// at most 1000 envelopes of a few KB.
pub const FIRST_START_TAIL: u64 = 16 << 20;

pub struct FileSink {
    path: PathBuf,
    /// Moved into the blocking thread for each operation and back; `None` only if one panicked.
    handle: Option<Handle>,
}

impl FileSink {
    /// Opens (or creates) the file and locks it.
    pub fn open(spec: &FileSpec) -> anyhow::Result<FileSink> {
        let file = open_file(&spec.path)?;
        Ok(FileSink {
            path: spec.path.clone(),
            handle: Some(Handle {
                path: spec.path.clone(),
                file,
                cut_to: None,
            }),
        })
    }

    /// Runs `op` on the file in a blocking thread: fsync can take a while and must not stall the
    /// runtime's workers.
    async fn blocking<T: Send + 'static>(
        &mut self,
        op: impl FnOnce(&mut Handle) -> Result<T, SinkError> + Send + 'static,
    ) -> Result<T, SinkError> {
        let mut handle = self.handle.take().ok_or_else(|| SinkError {
            message: format!(
                "the file sink for {} failed earlier and is closed",
                self.path.display()
            ),
            retryable: false,
        })?;
        let (handle, result) = tokio::task::spawn_blocking(move || {
            let result = op(&mut handle);
            (handle, result)
        })
        .await
        .map_err(|e| SinkError {
            message: format!("writing {} failed: {e}", self.path.display()),
            retryable: false,
        })?;
        self.handle = Some(handle);
        result
    }
}

impl Sink for FileSink {
    fn recover<'a>(&'a mut self, committed: Option<&'a str>) -> SinkFuture<'a, Vec<String>> {
        let committed = committed.map(str::to_owned);
        Box::pin(self.blocking(move |h| h.recover(committed.as_deref())))
    }

    fn deliver<'a>(&'a mut self, batch: &'a [Line]) -> SinkFuture<'a, Option<String>> {
        Box::pin(async move {
            let bytes = ndjson(batch)?;
            let len = self.blocking(move |h| h.append(&bytes)).await?;
            Ok(Some(len.to_string()))
        })
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}

/// The open file and what the blocking operations need.
struct Handle {
    path: PathBuf,
    file: File,
    /// A failed write could not be cut back: cut the file to this length before the next one.
    cut_to: Option<u64>,
}

impl Handle {
    fn append(&mut self, bytes: &[u8]) -> Result<u64, SinkError> {
        self.reopen_if_moved()?;
        if let Some(len) = self.cut_to {
            self.file
                .set_len(len)
                .map_err(|e| self.error("repair", &e))?;
            self.cut_to = None;
        }
        let before = self.len()?;
        if let Err(e) = self
            .file
            .write_all(bytes)
            .and_then(|()| self.file.sync_data())
        {
            // Part of the batch may be on disk: cut it off, so the file stays whole JSONL and
            // the batch can be written again. If even that fails, try before the next write.
            if self
                .file
                .set_len(before)
                .and_then(|()| self.file.sync_data())
                .is_err()
            {
                self.cut_to = Some(before);
            }
            return Err(self.error("write to", &e));
        }
        self.len()
    }

    fn recover(&mut self, committed: Option<&str>) -> Result<Vec<String>, SinkError> {
        self.reopen_if_moved()?;
        let len = self.len()?;
        let path = self.path.display().to_string();
        let start = match committed {
            Some(text) => {
                let Ok(committed) = text.parse::<u64>() else {
                    tracing::warn!(
                        path,
                        position = text,
                        "the committed position is not a file length (was the sink changed?): \
                         nothing to recover"
                    );
                    self.cut_torn_tail(len)?;
                    return Ok(Vec::new());
                };
                if committed > len {
                    tracing::warn!(
                        path,
                        committed,
                        len,
                        "the sink file is shorter than at the last commit (rotated or truncated): \
                         nothing to recover"
                    );
                    self.cut_torn_tail(len)?;
                    return Ok(Vec::new());
                }
                if committed > 0 && self.byte_at(committed - 1)? != b'\n' {
                    tracing::warn!(
                        path,
                        committed,
                        "the sink file was replaced (the last commit is not at a line's end): \
                         nothing to recover"
                    );
                    self.cut_torn_tail(len)?;
                    return Ok(Vec::new());
                }
                committed
            }
            None => match self.line_start_from(len.saturating_sub(FIRST_START_TAIL), len)? {
                Some(start) => start,
                // One torn line longer than the whole tail.
                None => {
                    self.cut_torn_tail(len)?;
                    return Ok(Vec::new());
                }
            },
        };
        let (ids, end) = self.read_ids(start, len)?;
        if end < len {
            // `start` is a line's start, so everything after the last complete line is torn.
            self.cut(end, len)?;
        }
        if !ids.is_empty() {
            tracing::info!(
                path,
                count = ids.len(),
                "the sink file holds records written after the last commit"
            );
        }
        Ok(ids)
    }

    /// The ids of the complete lines between `start` (a line's start) and `len`, and where the last
    /// of them ends.
    fn read_ids(&self, start: u64, len: u64) -> Result<(Vec<String>, u64), SinkError> {
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        let mut reader = BufReader::with_capacity(1 << 16, &self.file);
        reader
            .seek(SeekFrom::Start(start))
            .map_err(|e| self.error("read", &e))?;
        let mut reader = reader.take(len - start);
        let (mut ids, mut end, mut unreadable) = (Vec::new(), start, 0u64);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| self.error("read", &e))?;
            if n == 0 || line.last() != Some(&b'\n') {
                break;
            }
            end += n as u64;
            match serde_json::from_slice::<Id>(&line[..n - 1]) {
                Ok(record) => ids.push(record.id),
                Err(_) => unreadable += 1,
            }
        }
        if unreadable > 0 {
            tracing::warn!(
                path = %self.path.display(),
                unreadable,
                "lines after the last commit that are not envelopes were left as they are"
            );
        }
        Ok((ids, end))
    }

    /// The first line start at or after `from` (0, or just after a newline), if one is before `len`.
    fn line_start_from(&self, from: u64, len: u64) -> Result<Option<u64>, SinkError> {
        if from == 0 {
            return Ok(Some(0));
        }
        let mut at = from - 1;
        let mut chunk = vec![0; 1 << 16];
        while at < len {
            let n = self.read_at(&mut chunk, at, len)?;
            if let Some(i) = chunk[..n].iter().position(|&b| b == b'\n') {
                return Ok(Some(at + i as u64 + 1));
            }
            at += n as u64;
        }
        Ok(None)
    }

    /// Cuts whatever follows the file's last newline (a line torn by a crash mid-write), scanning
    /// back from the end in chunks.
    fn cut_torn_tail(&mut self, len: u64) -> Result<(), SinkError> {
        let mut end = len;
        let mut chunk = vec![0; 1 << 16];
        while end > 0 {
            let from = end.saturating_sub(chunk.len() as u64);
            let n = self.read_at(&mut chunk[..(end - from) as usize], from, end)?;
            if let Some(i) = chunk[..n].iter().rposition(|&b| b == b'\n') {
                return self.cut(from + i as u64 + 1, len);
            }
            end = from;
        }
        self.cut(0, len)
    }

    /// Truncates to `to` (durably), saying so.
    fn cut(&mut self, to: u64, len: u64) -> Result<(), SinkError> {
        if to >= len {
            return Ok(());
        }
        tracing::warn!(
            path = %self.path.display(),
            bytes = len - to,
            "cut a torn last line (a write interrupted by a crash)"
        );
        self.file
            .set_len(to)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| self.error("repair", &e))
    }

    fn byte_at(&self, at: u64) -> Result<u8, SinkError> {
        let mut byte = [0];
        self.file
            .read_exact_at(&mut byte, at)
            .map_err(|e| self.error("read", &e))?;
        Ok(byte[0])
    }

    /// Reads up to `buf.len()` bytes at `at`, never past `len`; at least one unless `at >= len`.
    fn read_at(&self, buf: &mut [u8], at: u64, len: u64) -> Result<usize, SinkError> {
        let want = buf.len().min((len - at) as usize);
        self.file
            .read_exact_at(&mut buf[..want], at)
            .map_err(|e| self.error("read", &e))?;
        Ok(want)
    }

    fn len(&self) -> Result<u64, SinkError> {
        self.file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| self.error("read", &e))
    }

    /// A new file at the path when the old one was moved away or deleted (rotation): the records
    /// go where the user looks for them.
    fn reopen_if_moved(&mut self) -> Result<(), SinkError> {
        let ours = self.file.metadata().map_err(|e| self.error("read", &e))?;
        let moved = match std::fs::metadata(&self.path) {
            Ok(now) => now.dev() != ours.dev() || now.ino() != ours.ino(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(self.error("read", &e)),
        };
        if moved {
            tracing::info!(
                path = %self.path.display(),
                "the sink file was moved or deleted (rotated?): continuing in a new file at its path"
            );
            self.file = open_file(&self.path).map_err(|e| SinkError {
                message: format!("{e:#}"),
                retryable: true,
            })?;
            self.cut_to = None;
        }
        Ok(())
    }

    fn error(&self, what: &str, e: &std::io::Error) -> SinkError {
        let hint = match e.raw_os_error() {
            Some(libc::ENOSPC) | Some(libc::EDQUOT) => " (the disk is full)",
            _ => "",
        };
        SinkError {
            message: format!("could not {what} {}: {e}{hint}", self.path.display()),
            // A full disk is freed, a permission fixed: the batch can be written again later.
            retryable: true,
        }
    }
}

/// Opens the file for appending (created 0600 if absent) and locks it.
fn open_file(path: &Path) -> anyhow::Result<File> {
    let shown = path.display();
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        if dir.exists() {
            anyhow::bail!(
                "cannot open the sink file {shown}: {} is not a directory",
                dir.display()
            );
        }
        anyhow::bail!(
            "cannot open the sink file {shown}: the directory {} does not exist; create it first \
             (mkdir -p {}) or choose another path",
            dir.display(),
            dir.display()
        );
    }
    if path.is_dir() {
        anyhow::bail!(
            "the sink file {shown} is a directory: name a file inside it, e.g. {}",
            path.join("events.jsonl").display()
        );
    }
    let mut options = OpenOptions::new();
    options.read(true).append(true).mode(0o600);
    let (file, created) = match options.clone().create_new(true).open(path) {
        Ok(file) => (file, true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => (
            options.create(true).open(path).map_err(|e| {
                anyhow::anyhow!("cannot open the sink file {shown} for appending: {e}")
            })?,
            false,
        ),
        Err(e) => anyhow::bail!("cannot create the sink file {shown}: {e}"),
    };
    lock(&file, path)?;
    if created {
        // The file's name is in the directory: fsync it too, or a crash may lose the whole file.
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| anyhow::anyhow!("cannot sync the directory of {shown}: {e}"))?;
    }
    Ok(file)
}

/// An exclusive lock (`flock` on Unix), released when the file is closed (or the process dies).
fn lock(file: &File, path: &Path) -> anyhow::Result<()> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "the sink file {} is already being written by another file sink (another trigger, or \
             another okta-connector process): give each trigger its own file",
            path.display()
        ),
        // Some network file systems have no locks: write without one rather than not at all.
        Err(std::fs::TryLockError::Error(e))
            if matches!(
                e.raw_os_error(),
                Some(libc::ENOLCK) | Some(libc::EOPNOTSUPP)
            ) =>
        {
            tracing::warn!(path = %path.display(), "the file system cannot lock the sink file");
            Ok(())
        }
        Err(std::fs::TryLockError::Error(e)) => {
            anyhow::bail!("cannot lock the sink file {}: {e}", path.display())
        }
    }
}
