//! A window's events on disk: one LogEvent per line, in Okta's order, exactly the bytes Okta sent
//! (a newline between tokens, the only place JSON allows one, becomes a space).
//!
//! Every batch of a window carries the window's total count, so the whole window is read before its
//! first batch goes out. It is written to `<name>.tmp`, fsynced and renamed, so a spool that exists
//! under its final name is complete: a restart resumes from it instead of asking Okta again (and
//! gets the same events, even if late ones arrived since).
//!
//! Names: `window-<scheduled ms>-<hash of filter and q>.ndjson`, so a changed configuration never
//! reads an old configuration's spool.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::value::RawValue;

const PREFIX: &str = "window-";
const SUFFIX: &str = ".ndjson";

/// The spool's file name for a window.
pub fn name(scheduled_ms: i64, filter: Option<&str>, q: Option<&str>) -> String {
    // FNV-1a: stable across versions and platforms (std's hasher is not promised to be).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [filter.unwrap_or(""), "\0", q.unwrap_or("")] {
        for b in part.bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{PREFIX}{scheduled_ms}-{hash:016x}{SUFFIX}")
}

/// Writes a spool; nothing is visible under the final name until [`SpoolWriter::finish`].
pub struct SpoolWriter {
    tmp: PathBuf,
    path: PathBuf,
    /// `None` once finished; a writer dropped before that (an error mid-read) removes its tmp.
    file: Option<BufWriter<File>>,
    count: u64,
}

impl Drop for SpoolWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

impl SpoolWriter {
    pub fn create(dir: &Path, name: &str) -> io::Result<SpoolWriter> {
        fs::create_dir_all(dir)?;
        let path = dir.join(name);
        let tmp = dir.join(format!("{name}.tmp"));
        let file = Some(BufWriter::new(File::create(&tmp)?));
        Ok(SpoolWriter {
            tmp,
            path,
            file,
            count: 0,
        })
    }

    pub fn push(&mut self, event: &RawValue) -> io::Result<()> {
        let text = event.get();
        let file = self.file.as_mut().expect("a writer is finished only once");
        if text.contains(['\n', '\r']) {
            // Only whitespace between tokens can hold a raw newline (strings escape theirs).
            file.write_all(text.replace(['\n', '\r'], " ").as_bytes())?;
        } else {
            file.write_all(text.as_bytes())?;
        }
        file.write_all(b"\n")?;
        self.count += 1;
        Ok(())
    }

    /// Flushes, fsyncs, renames into place and fsyncs the directory; returns the event count.
    pub fn finish(mut self) -> io::Result<u64> {
        let file = self.file.as_mut().expect("a writer is finished only once");
        file.flush()?;
        file.get_ref().sync_all()?;
        fs::rename(&self.tmp, &self.path)?;
        // Renamed: nothing for Drop to remove.
        self.file = None;
        if let Some(dir) = self.path.parent() {
            // The rename is durable only once the directory is (POSIX); elsewhere this is a no-op.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(self.count)
    }
}

/// Reads a spool line by line from a position.
pub struct SpoolReader {
    pub path: PathBuf,
    reader: BufReader<File>,
    /// The index of the next event `read` returns.
    pub position: u64,
    line: String,
}

impl SpoolReader {
    /// Opens a complete spool; `None` when there is none.
    pub fn open(path: &Path) -> io::Result<Option<SpoolReader>> {
        match File::open(path) {
            Ok(f) => Ok(Some(SpoolReader {
                path: path.to_path_buf(),
                reader: BufReader::new(f),
                position: 0,
                line: String::new(),
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// How many events the spool holds (reads it through once).
    pub fn count(path: &Path) -> io::Result<u64> {
        let mut reader = BufReader::new(File::open(path)?);
        let mut n = 0;
        let mut buf = Vec::new();
        while reader.read_until(b'\n', &mut buf)? > 0 {
            n += 1;
            buf.clear();
        }
        Ok(n)
    }

    /// Skips forward to event `position`; false if the spool ends before it.
    pub fn skip_to(&mut self, position: u64) -> io::Result<bool> {
        let mut buf = Vec::new();
        while self.position < position {
            buf.clear();
            if self.reader.read_until(b'\n', &mut buf)? == 0 {
                return Ok(false);
            }
            self.position += 1;
        }
        Ok(self.position == position)
    }

    /// Up to `n` events from the current position.
    pub fn read(&mut self, n: u64) -> io::Result<Vec<Box<RawValue>>> {
        let mut events = Vec::new();
        while (events.len() as u64) < n {
            self.line.clear();
            if self.reader.read_line(&mut self.line)? == 0 {
                break;
            }
            let text = self.line.trim_end_matches('\n').to_string();
            let event = RawValue::from_string(text)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            events.push(event);
            self.position += 1;
        }
        Ok(events)
    }

    /// The index of the first event whose `uuid` is `id`, reading from the start.
    pub fn find(path: &Path, id: &str) -> io::Result<Option<u64>> {
        let Some(mut reader) = SpoolReader::open(path)? else {
            return Ok(None);
        };
        let mut index = 0;
        loop {
            let batch = reader.read(1000)?;
            if batch.is_empty() {
                return Ok(None);
            }
            for event in &batch {
                if uuid_of(event).as_deref() == Some(id) {
                    return Ok(Some(index));
                }
                index += 1;
            }
        }
    }
}

/// An event's `uuid`, if it has one.
pub fn uuid_of(event: &RawValue) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Id {
        uuid: String,
    }
    serde_json::from_str::<Id>(event.get()).ok().map(|i| i.uuid)
}

/// Deletes the spools no window needs any more: unfinished `.tmp` files, windows at or before
/// `done_ms` (completed), and spools of another filter/q than `current_name`'s.
pub fn sweep(dir: &Path, done_ms: i64, current_name: &str) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let current_hash = hash_part(current_name);
    for entry in entries {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str() else {
            continue;
        };
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let stale = match rest.strip_suffix(SUFFIX) {
            None => true, // a .tmp left by a crash mid-write (one call at a time uses the dir)
            Some(stem) => {
                let ms = stem.split('-').next().and_then(|m| m.parse::<i64>().ok());
                ms.is_none_or(|ms| ms <= done_ms) || hash_part(name) != current_hash
            }
        };
        if stale {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn hash_part(name: &str) -> Option<&str> {
    name.strip_suffix(SUFFIX)?.rsplit('-').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_resume_and_sweep() {
        let dir = tempfile::tempdir().unwrap();
        let name = name(1_000, Some("eventType eq \"a\""), None);
        let mut w = SpoolWriter::create(dir.path(), &name).unwrap();
        assert!(
            SpoolReader::open(&dir.path().join(&name))
                .unwrap()
                .is_none()
        );
        for i in 0..5 {
            let raw =
                RawValue::from_string(format!("{{\"uuid\":\"u{i}\",\n \"n\": {i}}}")).unwrap();
            w.push(&raw).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 5);
        let path = dir.path().join(&name);
        assert_eq!(SpoolReader::count(&path).unwrap(), 5);
        let mut r = SpoolReader::open(&path).unwrap().unwrap();
        assert!(r.skip_to(3).unwrap());
        let rest = r.read(10).unwrap();
        assert_eq!(rest.len(), 2);
        assert_eq!(rest[0].get(), "{\"uuid\":\"u3\",  \"n\": 3}");
        assert_eq!(SpoolReader::find(&path, "u4").unwrap(), Some(4));
        assert_eq!(SpoolReader::find(&path, "zz").unwrap(), None);
        let mut r = SpoolReader::open(&path).unwrap().unwrap();
        assert!(!r.skip_to(6).unwrap());

        // Another filter's spool and a leftover .tmp go; a later window of this filter stays.
        let other = super::name(2_000, None, None);
        let later = super::name(2_000, Some("eventType eq \"a\""), None);
        for n in [&other, &later, &format!("{later}.tmp")] {
            fs::write(dir.path().join(n), "").unwrap();
        }
        sweep(dir.path(), 999, &later).unwrap();
        let mut left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, [name.clone(), later.clone()]);
        // Once window 1000 is done, its spool goes.
        sweep(dir.path(), 1_000, &later).unwrap();
        assert!(!path.exists());
        assert!(dir.path().join(&later).exists());
    }
}
