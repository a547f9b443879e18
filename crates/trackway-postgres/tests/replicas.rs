//! Replicas share nothing but the database: the same ingest batch sent to two stores (two
//! pools, as two server processes have) at the same time is applied exactly once.

use std::sync::Arc;

use trackway_history::ScanQuery;
use trackway_postgres::{PoolOptions, open_storage, testpg};
use trackway_store::{CreateRun, IngestBatch, RunKey, Storage};
use trackway_types::Record;

fn replica(url: &str) -> Storage {
    open_storage(url, &PoolOptions { max_size: 4, ..PoolOptions::default() }).expect("open")
}

#[test]
fn the_same_batch_on_two_replicas_at_once_is_applied_once() {
    let url = testpg::fresh_database();
    let replicas = [Arc::new(replica(&url)), Arc::new(replica(&url))];
    replicas[0].metadata.create_user("alice", true).expect("user");
    let key = RunKey { entity: "alice".into(), project: "p".into(), run_id: "r1".into() };
    let create = CreateRun { key: Some(key.clone()), ..CreateRun::default() };
    replicas[1].metadata.create_or_resume(&create).expect("create");
    let n = 2000u64;
    let records: Vec<(u64, Record)> = (0..n)
        .map(|i| {
            let line = format!(
                r#"{{"t":"history","step":{i},"ts":1.0,"rt":0.5,"data":{{"loss":{}}}}}"#,
                1.0 / (i as f64 + 1.0)
            );
            (i, Record::parse(line.as_bytes()).expect("record"))
        })
        .collect();
    let batch = Arc::new(IngestBatch { key: key.clone(), log_id: "log-1".into(), from: 0, to: n, records });
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&replicas[i % 2]);
            let batch = Arc::clone(&batch);
            std::thread::spawn(move || store.metadata.apply_ingest(&batch).expect("ingest"))
        })
        .collect();
    let outcomes: Vec<_> = threads.into_iter().map(|t| t.join().expect("thread")).collect();
    assert!(outcomes.iter().all(|o| o.acked == n), "every attempt is acknowledged");
    let applied: Vec<usize> = outcomes.iter().map(|o| o.applied).filter(|&a| a > 0).collect();
    assert_eq!(applied, vec![n as usize], "exactly one attempt applies the batch: {outcomes:?}");
    for r in &replicas {
        let run = r.metadata.get_run(&key).expect("run");
        assert_eq!((run.row_count, run.last_step), (n as i64, Some(n as i64 - 1)));
        let page = r.history.scan(run.pk, &ScanQuery { limit: 10_000, ..ScanQuery::default() }).expect("scan");
        assert_eq!(page.rows.len(), n as usize);
        assert_eq!(r.metadata.ingest_mark(&key, "log-1").expect("mark"), n);
    }
}
