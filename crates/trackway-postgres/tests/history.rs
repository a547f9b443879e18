//! The HistoryStore conformance suite (the same checks the SQLite engine and the in-memory store
//! pass) against PostgreSQL, plus what is PostgreSQL's own: history is stored as chunks and
//! pyramid pages (not a row per point), replicas appending to one run at once, history of the
//! row-per-point schema moved on start, concurrent migration. A real server started from the
//! installed binaries (`trackway_postgres::testpg`), one fresh database per test.

use trackway_history::{ChartQuery, HistoryRow, HistoryStore, Map, ScanQuery, Value, XAxis, conformance};
use trackway_postgres::{PgHistory, PoolOptions, connect, convert_legacy_history, testpg};

fn store() -> PgHistory {
    let url = testpg::fresh_database();
    store_at(&url)
}

fn store_at(url: &str) -> PgHistory {
    PgHistory::new(connect(url, &PoolOptions { max_size: 4, ..PoolOptions::default() }).expect("connect"))
}

fn count(c: &mut postgres::Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).expect(sql).get(0)
}

fn loss_rows(steps: impl Iterator<Item = u64>) -> Vec<HistoryRow> {
    steps
        .map(|s| {
            let mut data = Map::new();
            data.insert("loss".into(), Value::Float(1.0 / (1.0 + s as f64)));
            HistoryRow { step: s, ts: 1e9 + s as f64, rt: s as f64, data }
        })
        .collect()
}

fn all_rows(h: &PgHistory, run: i64) -> Vec<HistoryRow> {
    h.scan(run, &ScanQuery { limit: 1_000_000, ..ScanQuery::default() }).expect("scan").rows
}

fn total_count(h: &PgHistory, run: i64) -> u64 {
    let q =
        ChartQuery { runs: vec![run], metric: "loss".into(), x: XAxis::Step, x_min: None, x_max: None, buckets: 100 };
    h.chart(&q).expect("chart")[0].count.iter().sum()
}

/// 20,000 points of a key become a handful of compressed chunks and pyramid pages once
/// compacted, and a wide chart is answered from the pyramid with every point counted.
#[test]
fn history_is_stored_as_chunks_and_pyramid_not_rows() {
    let url = testpg::fresh_database();
    let h = store_at(&url);
    for part in 0..20u64 {
        h.append(7, &loss_rows(part * 1000..(part + 1) * 1000)).expect("append");
    }
    h.compact(7).expect("compact");
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let chunks = count(
        &mut c,
        "SELECT count(*) FROM hist_chunk WHERE run = 7 AND key = (SELECT id FROM hist_key WHERE name = 'loss')",
    );
    assert!((5..=6).contains(&chunks), "{chunks} chunks for 20,000 points of 4,096-point chunks");
    assert_eq!(count(&mut c, "SELECT count(*) FROM hist_tail WHERE run = 7"), 0, "compaction empties the tail");
    assert!(count(&mut c, "SELECT count(*) FROM hist_pyr WHERE run = 7") > 0, "pyramid pages");
    assert_eq!(count(&mut c, "SELECT count(*) FROM hist_points"), 0, "no row per point");
    assert_eq!(total_count(&h, 7), 20_000);
    assert_eq!(all_rows(&h, 7), loss_rows(0..20_000));
}

/// Two replicas (two pools) and several writers each append to the same run at once, steps
/// interleaved so that later appends rewrite compacted ranges: nothing is lost or doubled.
#[test]
fn replicas_appending_one_run_at_once_lose_nothing() {
    let url = testpg::fresh_database();
    let replicas = [store_at(&url), store_at(&url)];
    let writers = 6u64;
    std::thread::scope(|s| {
        for w in 0..writers {
            let h = &replicas[(w % 2) as usize];
            s.spawn(move || {
                for batch in 0..15u64 {
                    let steps = (0..300u64).map(|i| (batch * 300 + i) * writers + w);
                    h.append(1, &loss_rows(steps)).expect("append");
                }
            });
        }
    });
    let n = 15 * 300 * writers;
    assert_eq!(all_rows(&replicas[0], 1), loss_rows(0..n));
    assert_eq!(total_count(&replicas[1], 1), n);
    replicas[1].compact(1).expect("compact");
    assert_eq!(all_rows(&replicas[1], 1), loss_rows(0..n));
}

/// A database written by the row-per-point schema (migration 0001) is moved into chunks on
/// start, once: the rows read back the same, the old tables are emptied, a second start moves nothing.
#[test]
fn row_per_point_history_is_moved_into_chunks_on_start() {
    let url = testpg::fresh_database();
    let pool = connect(&url, &PoolOptions { max_size: 2, ..PoolOptions::default() }).expect("connect");
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    c.batch_execute(
        "INSERT INTO hist_steps (run, step, ts, rt) SELECT 3, s, 1e9::float8 + s, s FROM generate_series(0, 24999) s;
         INSERT INTO hist_keys (run, key) VALUES (3, 'loss'), (3, 'note');
         INSERT INTO hist_points (run, key, step, num, kind) SELECT 3, 'loss', s, 1.0::float8 / (1 + s), 0 FROM generate_series(0, 24999) s;
         INSERT INTO hist_points (run, key, step, val) VALUES (3, 'note', 5, '\"five\"');",
    )
    .expect("legacy rows");
    assert_eq!(convert_legacy_history(&pool).expect("convert"), 1);
    let h = PgHistory::new(pool.clone());
    let mut want = loss_rows(0..25_000);
    want[5].data.insert("note".into(), Value::Str("five".into()));
    assert_eq!(all_rows(&h, 3), want);
    assert_eq!(h.keys(3).expect("keys"), vec!["loss".to_string(), "note".to_string()]);
    for t in ["hist_steps", "hist_keys", "hist_points"] {
        assert_eq!(count(&mut c, &format!("SELECT count(*) FROM {t}")), 0, "{t} emptied");
    }
    assert_eq!(convert_legacy_history(&pool).expect("again"), 0);
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
    chart_of_many_runs_keeps_runs_apart,
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
