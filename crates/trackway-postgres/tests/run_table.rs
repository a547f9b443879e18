//! The run table answers alike on SQLite and PostgreSQL: the benchmark's runs
//! (`trackway_store::runs_bench`, bulk-inserted into both) queried with its shapes and with
//! negations over missing keys (where PostgreSQL's in-place conditions must keep SQL's NULL
//! from dropping runs), every page of each followed through its cursors: the same runs in the
//! same order, and the same totals. SQLite is the reference.

use serde_json::json;
use trackway_postgres::{PgStore, PoolOptions, testpg};
use trackway_store::runs_bench::{self, Shape};
use trackway_store::{MetadataStore, SqliteStore};

/// Every page of a shape, 37 runs at a time: the run ids in order, and the first page's total.
fn all_pages(store: &dyn MetadataStore, shape: &Shape) -> anyhow::Result<(Vec<String>, Option<u64>)> {
    let mut q = runs_bench::query(shape, "bench", "proj", 37, true)?;
    let (mut ids, mut total) = (Vec::new(), None);
    loop {
        let page = store.query_runs(&q)?;
        total = total.or(page.total);
        ids.extend(page.runs.into_iter().map(|r| r.run_id));
        match page.next_cursor {
            Some(c) if ids.len() <= 2000 => q = trackway_store::RunQuery { cursor: Some(c), with_total: false, ..q },
            _ => return Ok((ids, total)),
        }
    }
}

fn more_shapes() -> Vec<Shape> {
    let s = |label, filter, order| Shape { label, filter, order };
    vec![
        s("$nor keeps runs without the key", json!({"$nor": [{"config.f01": {"$gt": 0.5}}]}), "config.f01"),
        s("$not keeps runs without the key", json!({"config.f01": {"$not": {"$gt": 0.5}}}), "-config.f01"),
        s("$ne keeps runs without the key", json!({"summary_metrics.s00": {"$ne": 0.25}}), "created_at"),
        s("$nin", json!({"config.c03": {"$nin": ["cat1", "cat2"]}}), "-summary_metrics.s01"),
        s("$exists true", json!({"config.f01": {"$exists": true}}), "-config.f01"),
        s(
            "$or of a string and a number",
            json!({"$or": [{"config.c03": "cat1"}, {"summary_metrics.s00": {"$lt": 0.1}}]}),
            "summary_metrics.s00",
        ),
        s("$nor of $and", json!({"$nor": [{"config.c01": "cat3", "config.i02": {"$lt": 50}}]}), "-config.model.depth"),
        s("string range", json!({"config.c05": {"$gte": "cat5"}}), "config.c05"),
        s("bool", json!({"config.flag": true, "state": {"$ne": "failed"}}), "name"),
    ]
}

#[test]
fn sqlite_and_postgres_answer_every_shape_alike() -> anyhow::Result<()> {
    const RUNS: usize = 700;
    let dir = tempfile::tempdir()?;
    let lite = SqliteStore::open(&dir.path().join("t.db"))?;
    lite.create_user("bench", true)?;
    runs_bench::fill(RUNS, |batch| lite.bulk_insert("bench", "proj", batch))?;
    let pg = PgStore::new(trackway_postgres::connect(&testpg::fresh_database(), &PoolOptions::default())?);
    pg.create_user("bench", true)?;
    runs_bench::fill(RUNS, |batch| pg.bulk_insert("bench", "proj", batch))?;
    assert_eq!(pg.project_keys("bench", "proj")?.config, lite.project_keys("bench", "proj")?.config);

    let shapes: Vec<Shape> = runs_bench::shapes().into_iter().chain(more_shapes()).collect();
    for shape in &shapes {
        let (want, want_total) = all_pages(&lite, shape)?;
        let (got, got_total) = all_pages(&pg, shape)?;
        assert_eq!(want_total, Some(want.len() as u64), "{}: SQLite's total", shape.label);
        assert_eq!(got_total, want_total, "{}: total", shape.label);
        assert_eq!(got, want, "{}: runs in order", shape.label);
    }
    // The fixture exercises what it claims to: runs lacking a key, and matches in every phase.
    let (without_f01, _) = all_pages(&lite, &more_shapes()[0])?;
    assert!(without_f01.len() > 300 && without_f01.len() < RUNS, "{}", without_f01.len());
    Ok(())
}
