//! Run-table expression indexes on PostgreSQL: a config/summary key used in a sort or filter
//! gets an index on `(project_id, <the query's expression>)` on first use (the SQLite store's
//! rule, `trackway_store::backend::key_indexes`), only for keys the catalogue knows: on the key
//! itself where the query sorts by it, on its number form where a condition compares numbers;
//! the planner uses them for the sorted first page and for the count.

use postgres::NoTls;
use serde_json::json;
use trackway_postgres::{PoolOptions, open_storage, testpg};
use trackway_store::{CreateRun, Direction, MetadataStore, RunKey, RunQuery, parse_filter};

fn query(order_by: &str, filter: serde_json::Value) -> RunQuery {
    RunQuery {
        entity: "alice".into(),
        project: "p".into(),
        filter: Some(parse_filter(&filter).expect("filter")),
        order_by: order_by.into(),
        direction: Direction::Asc,
        limit: 5,
        cursor: None,
        with_total: true,
    }
}

#[test]
fn sorted_and_filtered_keys_get_expression_indexes_the_planner_uses() -> anyhow::Result<()> {
    let url = testpg::fresh_database();
    let st = open_storage(&url, &PoolOptions { max_size: 2, ..PoolOptions::default() })?;
    let store: &dyn MetadataStore = &*st.metadata;
    store.create_user("alice", true)?;
    for i in 0..40 {
        let mut config = serde_json::Map::new();
        config.insert("lr".into(), json!(f64::from(i) / 10.0));
        let key = RunKey { entity: "alice".into(), project: "p".into(), run_id: format!("r{i:02}") };
        store.create_or_resume(&CreateRun { key: Some(key), config: Some(config), ..CreateRun::default() })?;
    }
    let page = store.query_runs(&query("config.lr", json!({"config.lr": {"$gte": 1.0}})))?;
    assert_eq!(page.total, Some(30));
    let ids: Vec<&str> = page.runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, ["r10", "r11", "r12", "r13", "r14"]);
    // A key no run has gets no index (it would only use up one of the bounded slots).
    assert_eq!(store.query_runs(&query("config.typo", json!({})))?.total, Some(40));

    let mut c = postgres::Client::connect(&url, NoTls)?;
    let defs: Vec<String> = c
        .query("SELECT indexdef FROM pg_indexes WHERE tablename = 'runs' AND indexname LIKE 'kx\\_%'", &[])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(defs.len(), 2, "the sort's and the condition's: {defs:?}");
    assert!(defs.iter().all(|d| d.contains("'{lr}'")), "{defs:?}");
    assert!(defs.iter().any(|d| d.contains("trackway_num(")), "the number form: {defs:?}");
    // The sorted first page reads the index (seq scans priced out: 40 rows would scan anyway).
    let expr = r#"nullif(trackway_json(r.config) #> '{"lr"}', 'null'::jsonb)"#;
    let plan: Vec<String> = c
        .simple_query(&format!(
            "SET enable_seqscan = off; EXPLAIN SELECT r.pk FROM runs r WHERE r.project_id = 1 \
             AND {expr} IS NOT NULL ORDER BY {expr} LIMIT 5"
        ))?
        .into_iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        })
        .collect();
    assert!(plan.iter().any(|l| l.contains("Index") && l.contains("kx_")), "plan: {plan:?}");
    Ok(())
}
