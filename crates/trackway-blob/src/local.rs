//! Local directory backend: `<root>/<first 2 hex>/<remaining 62 hex>`.
//!
//! Writes stream into `<root>/tmp/` while hashing, are fsynced, then renamed into place, so a
//! blob path either does not exist or holds the complete content (a crash leaves at most a
//! stray temporary file, removed by [`LocalBlobStore::open_dir`]).
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::{BlobError, BlobStore, Digest, PutOutcome};

pub struct LocalBlobStore {
    root: PathBuf,
}

fn io_err(path: &Path, source: io::Error) -> BlobError {
    BlobError::Io { path: path.display().to_string(), source }
}

impl LocalBlobStore {
    /// Opens (creating if needed) a store rooted at `root`, e.g. `<data dir>/blobs`, and clears
    /// temporary files left by an earlier crash.
    pub fn open_dir(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let root = root.into();
        let tmp = root.join("tmp");
        fs::create_dir_all(&tmp).map_err(|e| io_err(&tmp, e))?;
        if let Ok(entries) = fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a blob lives on disk (whether or not it exists).
    pub fn path_of(&self, digest: &Digest) -> PathBuf {
        let s = digest.as_str();
        self.root.join(&s[..2]).join(&s[2..])
    }

    /// Re-hashes a stored blob; `Corrupt` when its bytes no longer match its name.
    pub fn verify(&self, digest: &Digest) -> Result<(), BlobError> {
        let bytes = self.get(digest)?;
        let actual = Digest::of(&bytes);
        if &actual == digest { Ok(()) } else { Err(BlobError::Corrupt { expected: digest.clone(), actual }) }
    }

    fn temp_path(&self) -> Result<PathBuf, BlobError> {
        let mut rnd = [0u8; 8];
        getrandom::fill(&mut rnd).map_err(|e| io_err(&self.root, io::Error::other(e.to_string())))?;
        Ok(self.root.join("tmp").join(format!("put-{}", hex::encode(rnd))))
    }

    /// Copies `reader` into `tmp` while hashing; returns the digest and size.
    fn spool(tmp: &Path, reader: &mut dyn Read) -> Result<(Digest, u64), BlobError> {
        let mut file = File::create(tmp).map_err(|e| io_err(tmp, e))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut size = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(BlobError::Source(e)),
            };
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n]).map_err(|e| io_err(tmp, e))?;
            size += n as u64;
        }
        file.sync_all().map_err(|e| io_err(tmp, e))?;
        Ok((Digest::from_hasher(hasher), size))
    }

    fn install(&self, tmp: &Path, digest: &Digest) -> Result<bool, BlobError> {
        let dest = self.path_of(digest);
        if dest.exists() {
            let _ = fs::remove_file(tmp);
            return Ok(false);
        }
        let dir = dest.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        // rename is atomic; a concurrent put of the same content renames identical bytes.
        fs::rename(tmp, &dest).map_err(|e| io_err(&dest, e))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all(); // make the new directory entry durable
        }
        Ok(true)
    }
}

impl BlobStore for LocalBlobStore {
    fn put_reader(&self, reader: &mut dyn Read) -> Result<PutOutcome, BlobError> {
        let tmp = self.temp_path()?;
        let spooled = Self::spool(&tmp, reader);
        let (digest, size) = match spooled {
            Ok(v) => v,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let created = self.install(&tmp, &digest)?;
        tracing::debug!(%digest, size, created, "blob put");
        Ok(PutOutcome { digest, size, created })
    }

    /// Renames the (already fsynced, already hashed) file into place; copies only when it lies
    /// on another filesystem than the store.
    fn put_file(&self, path: &Path, digest: &Digest) -> Result<PutOutcome, BlobError> {
        let size = fs::metadata(path).map_err(|e| io_err(path, e))?.len();
        match self.install(path, digest) {
            Ok(created) => {
                tracing::debug!(%digest, size, created, "blob put by rename");
                Ok(PutOutcome { digest: digest.clone(), size, created })
            }
            Err(BlobError::Io { source, .. }) if source.kind() == io::ErrorKind::CrossesDevices => {
                crate::put_file_by_copy(self, path, digest)
            }
            Err(e) => Err(e),
        }
    }

    fn get(&self, digest: &Digest) -> Result<Vec<u8>, BlobError> {
        let path = self.path_of(digest);
        match fs::read(&path) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(BlobError::NotFound(digest.clone())),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + Send>, BlobError> {
        let path = self.path_of(digest);
        match File::open(&path) {
            Ok(f) => Ok(Box::new(f)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(BlobError::NotFound(digest.clone())),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    fn size(&self, digest: &Digest) -> Result<Option<u64>, BlobError> {
        let path = self.path_of(digest);
        match fs::metadata(&path) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    fn delete(&self, digest: &Digest) -> Result<bool, BlobError> {
        let path = self.path_of(digest);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err(&path, e)),
        }
    }
}
