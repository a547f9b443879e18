//! The HistoryStore conformance suite against every backend: the SQLite engine and the
//! in-memory reference store.

use crate::{SqliteHistory, conformance};

fn sqlite() -> (tempfile::TempDir, SqliteHistory) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = SqliteHistory::open(dir.path().join("t.db")).expect("open");
    (dir, s)
}

macro_rules! checks {
    ($($name:ident),* $(,)?) => {
        mod sqlite_engine {
            $(
                #[test]
                fn $name() {
                    let (_dir, s) = super::sqlite();
                    crate::conformance::$name(&s);
                }
            )*
        }
        mod memory_store {
            $(
                #[test]
                fn $name() {
                    crate::conformance::$name(&crate::MemoryHistory::new());
                }
            )*
        }
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
    chart_of_many_runs_keeps_runs_apart,
    chart_exact_when_small,
    chart_nan_inf,
    chart_x_axes,
    sampled_keeps_first_and_last,
    delete_run,
    random_operations,
);
