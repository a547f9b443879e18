//! The HistoryStore conformance suite (the same checks the SQLite engine and the in-memory store
//! pass) against PostgreSQL, plus concurrent migration: a real server started from the installed
//! binaries (`trackway_postgres::testpg`), one fresh database per test.

use trackway_history::conformance;
use trackway_postgres::{PgHistory, PoolOptions, connect, testpg};

fn store() -> PgHistory {
    let url = testpg::fresh_database();
    PgHistory::new(connect(&url, &PoolOptions { max_size: 4, ..PoolOptions::default() }).expect("connect"))
}

macro_rules! checks {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                conformance::$name(&store());
            }
        )*
        #[test]
        fn every_check_is_listed() {
            let listed: Vec<&str> = vec![$(stringify!($name)),*];
            for (name, _) in conformance::CHECKS {
                assert!(listed.contains(name), "{name} is not run");
            }
        }
    };
}

checks!(
    round_trip_every_point,
    long_series_round_trip,
    last_write_wins,
    out_of_order_after_compaction,
    rewind_into_the_middle,
    non_numeric_values,
    last_objects,
    sparse_rows_and_key_filter,
    chart_matches_model,
    chart_same_for_any_batching,
    chart_exact_when_small,
    chart_nan_inf,
    chart_x_axes,
    sampled_keeps_first_and_last,
    delete_run,
    random_operations,
);

/// Replicas starting at once: every one migrates, each step is applied exactly once.
#[test]
fn concurrent_migrations_apply_each_step_once() {
    let url = testpg::fresh_database();
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                connect(&url, &PoolOptions { max_size: 1, ..PoolOptions::default() }).map(|_| ())
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread").expect("migrate");
    }
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let rows = c.query("SELECT version FROM schema_migrations ORDER BY version", &[]).expect("versions");
    let versions: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let want: Vec<i64> = (1..=i64::try_from(trackway_postgres::MIGRATIONS.len()).expect("len")).collect();
    assert_eq!(versions, want);
}
