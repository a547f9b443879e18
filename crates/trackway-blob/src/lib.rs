//! Content-addressed blob storage.
//!
//! A blob is an immutable byte string named by the lowercase hex SHA-256 of its content
//! ([`Digest`]). Storing the same content twice stores it once. Backends implement [`BlobStore`];
//! every backend must pass `conformance::run_all`, which this crate's unit tests run against
//! [`LocalBlobStore`] and [`MemBlobStore`]. The suite is compiled for tests and behind the
//! `testsuite` feature (for other backends' crates), never into release binaries.
//!
//! Run files (`files/...` of a run) map a run-relative path to a digest in the metadata store;
//! the bytes live here. Digests are the only keys, so a path in a request can never reach the
//! filesystem through this crate.
use std::io::Read;
use std::path::Path;

#[cfg(any(test, feature = "testsuite"))]
pub mod conformance;
mod digest;
mod local;
mod mem;
#[cfg(feature = "s3")]
mod s3;
#[cfg(all(feature = "s3", any(test, feature = "testsuite")))]
pub mod testweed;

pub use digest::{Digest, DigestError};
pub use local::LocalBlobStore;
pub use mem::MemBlobStore;
#[cfg(feature = "s3")]
pub use s3::{S3BlobStore, S3ObjectReader, S3Options};

/// Errors of every blob backend.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {0} not found")]
    NotFound(Digest),
    #[error("blob store I/O error at {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("reading the blob's source failed: {0}")]
    Source(#[source] std::io::Error),
    #[error("blob {expected} is corrupt: its content hashes to {actual}")]
    Corrupt { expected: Digest, actual: Digest },
    /// A remote store (S3) refused or failed an operation.
    #[error("blob store {op} failed: {source}")]
    Remote {
        op: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("blob store configuration: {0}")]
    Config(String),
}

/// What `put` reports: the digest and whether the content was new to the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutOutcome {
    pub digest: Digest,
    pub size: u64,
    /// False when identical content was already stored (nothing was written).
    pub created: bool,
}

/// A content-addressed store of immutable blobs. Implementations are safe to share between
/// threads; concurrent `put`s of the same content are allowed and store it once.
pub trait BlobStore: Send + Sync {
    /// Stores everything `reader` yields and returns its digest.
    fn put_reader(&self, reader: &mut dyn Read) -> Result<PutOutcome, BlobError>;

    /// Stores `bytes` and returns their digest.
    fn put(&self, bytes: &[u8]) -> Result<PutOutcome, BlobError> {
        let mut cursor = bytes;
        self.put_reader(&mut cursor)
    }

    /// Stores the file at `path`, which the caller has already hashed to `digest` (the server
    /// hashes a staged upload while its parts arrive), and consumes the file. The local backend
    /// renames it into place, so a large upload is not read and hashed a second time; the
    /// default streams it through [`BlobStore::put_reader`] and checks the digest.
    ///
    /// # Errors
    /// `Corrupt` when the default path finds other content than `digest`; I/O errors.
    fn put_file(&self, path: &Path, digest: &Digest) -> Result<PutOutcome, BlobError> {
        put_file_by_copy(self, path, digest)
    }

    /// The whole content of a blob.
    fn get(&self, digest: &Digest) -> Result<Vec<u8>, BlobError>;

    /// A reader over a blob (streams from disk in the local backend).
    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + Send>, BlobError> {
        Ok(Box::new(std::io::Cursor::new(self.get(digest)?)))
    }

    /// Size in bytes, or `None` when the blob is absent.
    fn size(&self, digest: &Digest) -> Result<Option<u64>, BlobError>;

    fn exists(&self, digest: &Digest) -> Result<bool, BlobError> {
        Ok(self.size(digest)?.is_some())
    }

    /// Removes a blob; returns whether it existed. Callers (the metadata store) decide when no
    /// file references a digest any more.
    fn delete(&self, digest: &Digest) -> Result<bool, BlobError>;

    /// A URL a client can GET the blob from directly for `ttl` (an S3 presigned URL), or
    /// `None` when the backend has none (the server then streams the bytes itself).
    fn presigned_get(&self, _digest: &Digest, _ttl: std::time::Duration) -> Result<Option<String>, BlobError> {
        Ok(None)
    }
}

/// [`BlobStore::put_file`] for backends that cannot adopt a local file: copy, verify, remove.
///
/// # Errors
/// As [`BlobStore::put_file`].
pub fn put_file_by_copy<S: BlobStore + ?Sized>(
    store: &S,
    path: &Path,
    digest: &Digest,
) -> Result<PutOutcome, BlobError> {
    let io = |source| BlobError::Io { path: path.display().to_string(), source };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let put = store.put_reader(&mut file);
    drop(file);
    std::fs::remove_file(path).map_err(io)?;
    let put = put?;
    if &put.digest != digest {
        // Content nobody had before: drop it rather than keep an orphan under another name.
        if put.created {
            store.delete(&put.digest)?;
        }
        return Err(BlobError::Corrupt { expected: digest.clone(), actual: put.digest });
    }
    Ok(put)
}

#[cfg(test)]
mod conformance_tests {
    use std::sync::Arc;

    use crate::{LocalBlobStore, MemBlobStore, conformance};

    #[test]
    fn mem_store_conforms() {
        conformance::run_all(Arc::new(MemBlobStore::new()));
    }

    #[test]
    fn local_store_conforms() {
        let dir = tempfile::tempdir().expect("tempdir");
        conformance::run_all(Arc::new(LocalBlobStore::open_dir(dir.path().join("blobs")).expect("open")));
    }
}
