//! Writing downloaded run files without ever leaving the destination: every directory between
//! the destination and a file is checked with `lstat` and created one level at a time, so a
//! symlink planted anywhere below it (by a hostile `diff.patch`, or a listing that names
//! `link/x`) is refused instead of followed; a file is streamed into a temporary file next to
//! its target, checked against the listed size and sha256, and only then renamed into place
//! (a rename replaces a symlink at the target itself rather than writing through it).
use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{RestoreError, RunFile, RunSource};
use crate::CaptureError;

/// Creates (or checks) `base/rel` one component at a time; refuses a symlink or a non-directory
/// on the way. `base` itself is trusted (the user named it). Returns `base/rel`.
pub(crate) fn ensure_dir_under(base: &Path, rel: &Path) -> Result<PathBuf, CaptureError> {
    let mut cur = base.to_path_buf();
    for comp in rel.components() {
        let Component::Normal(name) = comp else {
            return Err(unsafe_path(&cur.join(comp), "not a plain relative path"));
        };
        cur.push(name);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(unsafe_path(&cur, "is a symlink; refusing to write through it"));
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(unsafe_path(&cur, "is not a directory")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&cur) {
                Ok(()) => {}
                Err(e)
                    if e.kind() == io::ErrorKind::AlreadyExists
                        && fs::symlink_metadata(&cur).is_ok_and(|m| m.is_dir()) => {}
                Err(e) => return Err(CaptureError::io(&cur, e)),
            },
            Err(e) => return Err(CaptureError::io(&cur, e)),
        }
    }
    Ok(cur)
}

fn unsafe_path(path: &Path, why: &str) -> CaptureError {
    RestoreError::UnsafePath { path: path.to_path_buf(), reason: why.into() }.into()
}

/// Whether `target` is a regular file (not followed if a symlink) with the listed content.
pub(crate) fn is_current(target: &Path, f: &RunFile) -> bool {
    fs::symlink_metadata(target).is_ok_and(|m| m.is_file() && m.len() == f.size)
        && crate::files::hash_file(target).is_ok_and(|(sha, _)| sha == f.sha256)
}

/// A writer that hashes and counts what passes through.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Streams `f` from `src` into `dir/name` through a temporary file, verified before the rename.
pub(crate) fn download_verified(
    src: &dyn RunSource,
    f: &RunFile,
    rel: &str,
    dir: &Path,
    name: &str,
) -> Result<(), CaptureError> {
    let tmp =
        tempfile::Builder::new().prefix(".trackway-pull-").tempfile_in(dir).map_err(|e| CaptureError::io(dir, e))?;
    let (sha, size) = {
        let mut out = Hashing { inner: io::BufWriter::new(tmp.as_file()), hash: Sha256::new(), size: 0 };
        src.download(rel, &mut out)?;
        out.flush().map_err(|e| CaptureError::io(tmp.path(), e))?;
        (hex::encode(std::mem::take(&mut out.hash).finalize()), out.size)
    };
    if size != f.size || !sha.eq_ignore_ascii_case(&f.sha256) {
        return Err(RestoreError::Checksum {
            path: rel.into(),
            expected: format!("{} bytes, sha256 {}", f.size, f.sha256),
            got: format!("{size} bytes, sha256 {sha}"),
        }
        .into());
    }
    let target = dir.join(name);
    tmp.persist(&target).map_err(|e| CaptureError::io(&target, e.error))?;
    Ok(())
}
