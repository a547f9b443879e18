//! The MetadataStore conformance suite (the one the SQLite store passes) against PostgreSQL: a
//! real server started from the installed binaries, one fresh database per test.

use trackway_postgres::{PoolOptions, open_storage, testpg};

fn storage() -> Box<trackway_store::Storage> {
    let url = testpg::fresh_database();
    Box::new(open_storage(&url, &PoolOptions { max_size: 4, ..PoolOptions::default() }).expect("open"))
}

trackway_store::metadata_store_conformance!(storage());
