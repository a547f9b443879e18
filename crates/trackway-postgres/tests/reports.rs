//! The ReportStore conformance suite (the one the SQLite store passes) against PostgreSQL: a
//! real server started from the installed binaries, one fresh database per test.

use trackway_postgres::{PoolOptions, open_storage, testpg};

fn storage() -> Box<trackway_store::Storage> {
    let url = testpg::fresh_database();
    let dir = tempfile::tempdir().expect("tempdir").keep();
    // The stores that have no PostgreSQL implementation yet come from a local SQLite file.
    let local = trackway_store::Storage::open_sqlite(&dir.join("local.db"), trackway_store::OpenOptions::default())
        .expect("sqlite");
    Box::new(open_storage(&url, &PoolOptions { max_size: 4, ..PoolOptions::default() }, local).expect("open"))
}

trackway_store::report_store_conformance!(storage());
