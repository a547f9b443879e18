//! Incremental reading of a run log from a byte offset.
//!
//! The reader yields complete lines only. A corrupt line is reported with its offset and reason
//! and reading continues. An unterminated last line is left alone: [`LogReader::offset`] then
//! points at its first byte, which is where a later read resumes (the line may still be being
//! written).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use trackway_types::Record;

use crate::{Result, RunlogError};

const CHUNK: usize = 64 * 1024;

/// One complete line of the log.
#[derive(Debug)]
pub struct Entry {
    /// Position of the line's first byte (the record's stable position).
    pub offset: u64,
    /// Position just after the line's `\n`.
    pub end: u64,
    /// The record, or why the line is corrupt.
    pub record: std::result::Result<Record, String>,
}

/// Reads complete lines of a run log, starting at a byte offset.
#[derive(Debug)]
pub struct LogReader {
    file: File,
    path: PathBuf,
    /// Bytes read from the file but not yet consumed; `buf[start..]` begins at `offset`.
    buf: Vec<u8>,
    start: usize,
    /// File position of `buf[start]`: the start of the next unconsumed line.
    offset: u64,
}

impl LogReader {
    /// Opens `path` and positions the reader at `offset` (normally 0 or a saved cursor, which must
    /// be the start of a line).
    pub fn open(path: &Path, offset: u64) -> Result<Self> {
        let mut file = File::open(path).map_err(|e| RunlogError::io(path, e))?;
        file.seek(SeekFrom::Start(offset)).map_err(|e| RunlogError::io(path, e))?;
        Ok(LogReader { file, path: path.to_path_buf(), buf: Vec::new(), start: 0, offset })
    }

    /// Where the next complete line starts: after the last line returned, and before an
    /// unterminated tail. Save this to resume.
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next complete line, or `None` when only an unterminated tail (or nothing) is left for
    /// now. Calling again later picks up lines appended since.
    pub fn next_entry(&mut self) -> Result<Option<Entry>> {
        Ok(self.next_line()?.map(|(offset, end, line)| {
            let record = Record::parse(line).map_err(|e| e.to_string());
            Entry { offset, end, record }
        }))
    }

    /// The next complete line as raw bytes (without `\n`), with its start and end offsets.
    pub fn next_line(&mut self) -> Result<Option<(u64, u64, &[u8])>> {
        loop {
            if let Some(nl) = memchr(&self.buf[self.start..]) {
                let begin = self.start;
                let offset = self.offset;
                self.start += nl + 1;
                self.offset += (nl + 1) as u64;
                return Ok(Some((offset, self.offset, &self.buf[begin..begin + nl])));
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Reads more bytes; false at end of file.
    fn fill(&mut self) -> Result<bool> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let old = self.buf.len();
        self.buf.resize(old + CHUNK, 0);
        let n = loop {
            match self.file.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(RunlogError::io(&self.path, e));
                }
            }
        };
        self.buf.truncate(old + n);
        Ok(n > 0)
    }

    /// Reads every complete line available now.
    pub fn read_all(&mut self) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        while let Some(e) = self.next_entry()? {
            out.push(e);
        }
        Ok(out)
    }
}

fn memchr(hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == b'\n')
}
