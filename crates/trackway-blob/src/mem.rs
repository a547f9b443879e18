//! In-memory backend for tests of code that uploads or serves files.
use std::collections::HashMap;
use std::io::Read;
use std::sync::{Mutex, MutexGuard};

use sha2::{Digest as _, Sha256};

use crate::{BlobError, BlobStore, Digest, PutOutcome};

#[derive(Default)]
pub struct MemBlobStore {
    blobs: Mutex<HashMap<Digest, Vec<u8>>>,
}

impl MemBlobStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct blobs held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Digest, Vec<u8>>> {
        // A panic while holding the lock cannot leave the map half-updated (single insert or
        // remove), so a poisoned lock is still consistent.
        self.blobs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl BlobStore for MemBlobStore {
    fn put_reader(&self, reader: &mut dyn Read) -> Result<PutOutcome, BlobError> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map_err(BlobError::Source)?;
        let mut h = Sha256::new();
        h.update(&bytes);
        let digest = Digest::from_hasher(h);
        let size = bytes.len() as u64;
        let mut map = self.lock();
        let created = !map.contains_key(&digest);
        if created {
            map.insert(digest.clone(), bytes);
        }
        Ok(PutOutcome { digest, size, created })
    }

    fn get(&self, digest: &Digest) -> Result<Vec<u8>, BlobError> {
        self.lock().get(digest).cloned().ok_or_else(|| BlobError::NotFound(digest.clone()))
    }

    fn size(&self, digest: &Digest) -> Result<Option<u64>, BlobError> {
        Ok(self.lock().get(digest).map(|b| b.len() as u64))
    }

    fn delete(&self, digest: &Digest) -> Result<bool, BlobError> {
        Ok(self.lock().remove(digest).is_some())
    }
}
