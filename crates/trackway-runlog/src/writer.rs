//! The append-only run-log writer.
//!
//! Every record goes to the kernel with one `write(2)` of the JSON text plus its `\n` on a file
//! opened with `O_APPEND`, so concurrent appenders never interleave and a crash of the writing
//! process loses nothing that a call returned for. There is no userspace buffering.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use trackway_types::Record;

use crate::{Result, RunlogError};

/// How long to watch an unterminated tail before calling it torn (see `repair_tail`).
const REPAIR_WAIT: std::time::Duration = std::time::Duration::from_millis(2);
const REPAIR_MAX_CHECKS: u32 = 50;

/// Appends records to one `run.jsonl`.
#[derive(Debug)]
pub struct LogWriter {
    file: File,
    path: PathBuf,
    /// Reused encode buffer: one allocation for the life of the writer, not one per record.
    buf: Vec<u8>,
    /// A write failed or was short (e.g. ENOSPC), so the file may end in a torn line: the tail
    /// is repaired before the next record (docs/run-format.md section 2), not only at `open`.
    dirty: bool,
}

impl LogWriter {
    /// Opens (creating if needed) `path` for appending and repairs a torn tail: if the file is
    /// not empty and does not end with `\n`, a single `\n` is appended first, which turns the
    /// torn line into a complete corrupt line that readers skip.
    pub fn open(path: &Path) -> Result<Self> {
        let file =
            OpenOptions::new().create(true).append(true).read(true).open(path).map_err(|e| RunlogError::io(path, e))?;
        let mut w = LogWriter { file, path: path.to_path_buf(), buf: Vec::with_capacity(4096), dirty: false };
        w.repair_tail(&mut pause_between_checks)?;
        Ok(w)
    }

    /// Appends `\n` when the file ends in a torn line. Another process may be in the middle of
    /// a write right now (a reader can see part of a write in progress), so a missing `\n` is
    /// only treated as torn once the file length has stayed the same for a moment; otherwise a
    /// stray empty line would follow the other writer's record.
    /// `wait` pauses between checks (a sleep; tests substitute another writer's progress).
    fn repair_tail(&mut self, wait: &mut dyn FnMut()) -> Result<()> {
        let mut last_len = None;
        let mut stable_checks = 0;
        for _ in 0..REPAIR_MAX_CHECKS {
            let len = self.file.metadata().map_err(|e| RunlogError::io(&self.path, e))?.len();
            if len == 0 || self.last_byte(len)? == b'\n' {
                return Ok(());
            }
            if last_len == Some(len) {
                stable_checks += 1;
                if stable_checks >= 2 {
                    break;
                }
            } else {
                stable_checks = 0;
            }
            last_len = Some(len);
            wait();
        }
        self.write_raw(b"\n")
    }

    fn last_byte(&self, len: u64) -> Result<u8> {
        let mut last = [0u8; 1];
        self.file.read_exact_at(&mut last, len - 1).map_err(|e| RunlogError::io(&self.path, e))?;
        Ok(last[0])
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Encodes `record` and appends it with one write.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        self.append_with(|out| record.encode_into(out))
    }

    /// Appends one record whose JSON text `encode` writes into the (cleared) buffer. The text
    /// must be one JSON object without a newline; the `\n` is added here.
    pub fn append_with(&mut self, encode: impl FnOnce(&mut Vec<u8>)) -> Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        encode(&mut buf);
        buf.push(b'\n');
        let res = self.write_line(&buf);
        self.buf = buf;
        res
    }

    /// Appends an already encoded line (without its `\n`), e.g. from a foreign source.
    pub fn append_raw(&mut self, line: &[u8]) -> Result<()> {
        self.append_with(|out| out.extend_from_slice(line))
    }

    /// One `write(2)` for a whole line. `write_all` only loops on a short write, which regular
    /// files do not produce short of a full disk or a signal. After a failed write the torn tail
    /// is repaired first; if that repair fails too, the writer stays dirty and tries again.
    fn write_line(&mut self, line: &[u8]) -> Result<()> {
        if self.dirty {
            self.repair_tail(&mut pause_between_checks)?;
        }
        self.write_raw(line)
    }

    /// Writes `bytes`, marking the writer dirty unless they all reached the file.
    fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.dirty = true;
        self.file.write_all(bytes).map_err(|e| RunlogError::io(&self.path, e))?;
        self.dirty = false;
        Ok(())
    }

    /// Flushes the file to stable storage (used at finish when asked; never per record).
    pub fn sync(&self) -> Result<()> {
        self.file.sync_data().map_err(|e| RunlogError::io(&self.path, e))
    }
}

/// The real pause of [`LogWriter::repair_tail`] between two looks at the file's length.
fn pause_between_checks() {
    std::thread::sleep(REPAIR_WAIT);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Another writer is mid-write (its line has no `\n` yet) when a writer opens the log: no
    /// `\n` may be added, or the other record would be followed by an empty line. The other
    /// writer completes its line during the first wait (deterministic: it happens inside `wait`).
    /// (The Python layer appends through this writer, so this covers it too.)
    #[test]
    fn a_write_in_progress_is_not_taken_for_a_torn_tail() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| RunlogError::io(Path::new("tmp"), e))?;
        let path = dir.path().join("run.jsonl");
        let head = b"{\"t\":\"run\",\"v\":1}\n";
        std::fs::write(&path, [&head[..], b"{\"t\":\"hist"].concat()).map_err(|e| RunlogError::io(&path, e))?;
        let file = OpenOptions::new().append(true).read(true).open(&path).map_err(|e| RunlogError::io(&path, e))?;
        let mut w = LogWriter { file, path: path.clone(), buf: Vec::new(), dirty: false };
        let mut waits = 0;
        let other = path.clone();
        w.repair_tail(&mut || {
            if waits == 0 {
                let mut f = OpenOptions::new().append(true).open(&other).expect("open for the other writer");
                f.write_all(b"ory\",\"step\":0}\n").expect("the other writer finishes its line");
            }
            waits += 1;
        })?;
        assert!(waits > 0, "the tail was watched before deciding it is torn");
        w.append_raw(b"{\"t\":\"file\"}")?;
        let text = std::fs::read(&path).map_err(|e| RunlogError::io(&path, e))?;
        assert_eq!(text, [&head[..], b"{\"t\":\"history\",\"step\":0}\n{\"t\":\"file\"}\n"].concat());
        Ok(())
    }
}
