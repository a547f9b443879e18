//! The MetadataStore conformance suite (the one the SQLite store passes) against PostgreSQL: a
//! real server started from the installed binaries, one fresh database per test.

use trackway_postgres::{PoolOptions, open_storage, testpg};

fn storage() -> Box<trackway_store::Storage> {
    let url = testpg::fresh_database();
    Box::new(open_storage(&url, &PoolOptions { max_size: 4, ..PoolOptions::default() }, local_stores()).expect("open"))
}

trackway_store::metadata_store_conformance!(storage());

/// Artifacts have no PostgreSQL store yet; a SQLite one in a temp dir stands in.
fn local_stores() -> trackway_store::Storage {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    trackway_store::Storage::open_sqlite(&dir.join("local.db"), trackway_store::OpenOptions::default()).expect("sqlite")
}
