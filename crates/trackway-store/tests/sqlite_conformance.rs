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

/// SQLite-specific: keys used in filters/sorts get an expression index (only catalogued keys),
/// and the query plan uses it instead of scanning every run's JSON.
#[test]
fn filtered_keys_get_expression_indexes() -> anyhow::Result<()> {
    use serde_json::json;
    use trackway_store::{CreateRun, Direction, MetadataStore, RunKey, RunQuery, parse_filter};
    let store = fresh();
    store.create_user("alice", true)?;
    for i in 0..20 {
        let mut config = serde_json::Map::new();
        config.insert("lr".into(), json!(i as f64 / 10.0));
        let key = RunKey { entity: "alice".into(), project: "p".into(), run_id: format!("r{i}") };
        store.create_or_resume(&CreateRun { key: Some(key), config: Some(config), ..CreateRun::default() })?;
    }
    let query = |filter: serde_json::Value| RunQuery {
        entity: "alice".into(),
        project: "p".into(),
        filter: Some(parse_filter(&filter).expect("filter")),
        order_by: "created_at".into(),
        direction: Direction::Desc,
        limit: 5,
        cursor: None,
        with_total: true,
    };
    assert_eq!(store.query_runs(&query(json!({"config.lr": {"$gte": 1.0}})))?.total, Some(10));
    assert_eq!(store.query_runs(&query(json!({"config.typo": 1})))?.total, Some(0));
    let conn = rusqlite::Connection::open(store.path())?;
    let exprs: Vec<String> =
        conn.prepare("SELECT expr FROM key_indexes")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    assert_eq!(exprs, vec![r#"json_extract(config, '$."lr"')"#.to_string()]);
    let plan: Vec<String> = conn
        .prepare(r#"EXPLAIN QUERY PLAN SELECT r.pk FROM runs r WHERE r.project_id = 1 AND json_extract(r.config, '$."lr"') >= 1.0"#)?
        .query_map([], |r| r.get::<_, String>(3))?
        .collect::<Result<_, _>>()?;
    assert!(plan.iter().any(|step| step.contains("USING") && step.contains("INDEX kx_")), "plan: {plan:?}");
    Ok(())
}
