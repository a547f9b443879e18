//! The metadata store conformance suite against the SQLite backend.

use std::ops::Deref;

use trackway_store::{SqliteStore, metadata_store_conformance};

/// A store in its own temporary directory, removed when the test ends.
struct Fresh {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

impl Deref for Fresh {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

fn fresh() -> Fresh {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("trackway.db")).expect("open store");
    Fresh { store, _dir: dir }
}

metadata_store_conformance!(fresh());
