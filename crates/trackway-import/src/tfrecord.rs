//! TFRecord framing, the container of TensorBoard event files:
//! `u64 length (LE) | u32 masked crc32c(length) | data | u32 masked crc32c(data)`.
//!
//! The reader keeps the byte offset after the last complete record, so an import can stop at a
//! record still being written and resume from there later (live sync, re-import).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::{ImportError, Result};

/// Records larger than this are refused: real event records are kilobytes (images: megabytes),
/// and a corrupt length must not make the importer allocate gigabytes.
pub const MAX_RECORD: u64 = 256 << 20;

fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    (crc.rotate_right(15)).wrapping_add(0xa282_ead8)
}

/// Sequential reader of one TFRecord file from a byte offset.
pub struct RecordReader {
    reader: BufReader<File>,
    path: PathBuf,
    offset: u64,
    buf: Vec<u8>,
}

impl RecordReader {
    pub fn open(path: &Path, offset: u64) -> Result<Self> {
        let mut file = File::open(path).map_err(|e| ImportError::io(path, e))?;
        file.seek(SeekFrom::Start(offset)).map_err(|e| ImportError::io(path, e))?;
        Ok(RecordReader {
            reader: BufReader::with_capacity(1 << 20, file),
            path: path.to_path_buf(),
            offset,
            buf: Vec::new(),
        })
    }

    /// Offset just after the last complete record returned.
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next record's data, or `None` at the end of the file or before an incomplete record
    /// (a writer may still be appending it). A checksum mismatch is an error.
    pub fn next_record(&mut self) -> Result<Option<&[u8]>> {
        let mut header = [0u8; 12];
        if !self.read_full(&mut header)? {
            return Ok(None);
        }
        let len_bytes: [u8; 8] = header[..8].try_into().unwrap_or_default();
        let len = u64::from_le_bytes(len_bytes);
        let len_crc = u32::from_le_bytes(header[8..12].try_into().unwrap_or_default());
        if masked_crc(&len_bytes) != len_crc || len > MAX_RECORD {
            return Err(self.corrupt("bad record length"));
        }
        let total = usize::try_from(len).map_err(|_| self.corrupt("record too large"))? + 4;
        self.buf.resize(total, 0);
        let mut buf = std::mem::take(&mut self.buf);
        let complete = self.read_full(&mut buf)?;
        self.buf = buf;
        if !complete {
            return Ok(None);
        }
        let (data, crc) = self.buf.split_at(total - 4);
        let crc = u32::from_le_bytes(crc.try_into().unwrap_or_default());
        if masked_crc(data) != crc {
            return Err(self.corrupt("data checksum mismatch"));
        }
        self.offset += 12 + total as u64;
        Ok(Some(&self.buf[..total - 4]))
    }

    /// Fills `out` completely, or returns false at EOF (rewinding to the record start so a
    /// later call re-reads the partial record once it is complete).
    fn read_full(&mut self, out: &mut [u8]) -> Result<bool> {
        let mut got = 0;
        while got < out.len() {
            match self.reader.read(&mut out[got..]) {
                Ok(0) => {
                    self.reader.seek(SeekFrom::Start(self.offset)).map_err(|e| ImportError::io(&self.path, e))?;
                    return Ok(false);
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ImportError::io(&self.path, e)),
            }
        }
        Ok(true)
    }

    fn corrupt(&self, reason: &str) -> ImportError {
        ImportError::Corrupt { path: self.path.clone(), offset: self.offset, reason: reason.to_owned() }
    }
}

/// Encodes one record (for tests and tools that write event files).
#[must_use]
pub fn encode_record(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out
}
