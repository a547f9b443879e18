//! The conformance suite every [`MetadataStore`] backend must pass.
//!
//! A backend's tests expand [`metadata_store_conformance!`] with an expression that makes a
//! fresh, empty [`Storage`] (or something that derefs to one); each case becomes its own
//! `#[test]`. Cases read history back through the storage's history store, which is how they
//! check that ingest writes history in the batch's transaction. Cases panic on failure (they are
//! test code). Compiled only for tests and behind the `testsuite` feature.

use serde_json::json;
use trackway_types::Record;

use trackway_history::{HistoryRow, ScanQuery};

use crate::{
    CreateRun, Direction, IngestBatch, MetadataStore, Result, ResumeMode, RunKey, RunQuery, Storage, StoreError,
    parse_filter,
};

/// Expands the whole suite as `#[test]` functions; `$make` builds a fresh storage.
#[macro_export]
macro_rules! metadata_store_conformance {
    ($make:expr) => {
        $crate::metadata_store_conformance!(@cases $make;
            auth_and_keys, create_resume_semantics, ingest_is_idempotent, ingest_gap_and_bad_positions,
            history_commits_with_the_batch, summary_rules, filters, sort_and_keyset_pagination,
            groups_and_keys, access_rules, run_file_versions, metadata_merge, console_output,
            system_stats_go_to_their_own_series, auto_summary_takes_each_keys_last_value,
            filters_compare_within_type_brackets, delete_run_removes_everything_of_it,
            move_run_keeps_its_data, stop_requests, run_pks_in_request_order);
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                let store = $make;
                $crate::conformance::$case(&*store).expect(stringify!($case));
            }
        )*
    };
}

fn rec(line: &str) -> Record {
    Record::parse(line.as_bytes()).expect("test record parses")
}

fn key(run: &str) -> RunKey {
    RunKey { entity: "alice".into(), project: "proj".into(), run_id: run.into() }
}

fn setup(s: &dyn MetadataStore) -> Result<()> {
    s.create_user("alice", true)?;
    Ok(())
}

fn create(s: &dyn MetadataStore, run: &str, resume: Option<ResumeMode>) -> Result<crate::CreateOutcome> {
    s.create_or_resume(&CreateRun { key: Some(key(run)), resume, ..CreateRun::default() })
}

fn ingest(s: &dyn MetadataStore, run: &str, from: u64, lines: &[&str]) -> Result<crate::IngestOutcome> {
    let mut pos = from;
    let mut records = Vec::new();
    for l in lines {
        records.push((pos, rec(l)));
        pos += l.len() as u64 + 1;
    }
    let batch = IngestBatch { key: key(run), log_id: "log1".into(), from, to: pos, records };
    s.apply_ingest(&batch)
}

fn page(s: &dyn MetadataStore, filter: serde_json::Value, order: &str) -> Result<Vec<String>> {
    let (order_by, direction) = RunQuery::parse_order(order);
    let q = RunQuery {
        entity: "alice".into(),
        project: "proj".into(),
        filter: Some(parse_filter(&filter)?),
        order_by,
        direction,
        limit: 1000,
        cursor: None,
        with_total: true,
    };
    let p = s.query_runs(&q)?;
    assert_eq!(p.total, Some(p.runs.len() as u64), "total matches for {filter}");
    Ok(p.runs.into_iter().map(|r| r.run_id).collect())
}

pub fn auth_and_keys(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    assert_eq!(s.user_count()?, 0);
    setup(s)?;
    let k = s.create_api_key("alice", Some("test"))?;
    assert!(k.key.starts_with(&k.prefix));
    let who = s.authenticate(&k.key)?.expect("key authenticates");
    assert_eq!((who.username.as_str(), who.entity.as_str(), who.admin), ("alice", "alice", true));
    assert!(s.authenticate("tw_wrong")?.is_none());
    assert!(s.authenticate("")?.is_none());
    assert!(matches!(s.create_user("alice", false), Err(StoreError::AlreadyExists(_))));
    assert!(s.entity_exists("alice")? && !s.entity_exists("nobody")?);
    Ok(())
}

pub fn access_rules(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    let bob = s.create_user("bob", false)?;
    assert!(bob.can_access("bob", true) && !bob.can_access("alice", false));
    s.create_team("lab", "alice")?;
    s.add_member("lab", "bob", crate::Role::Viewer)?;
    let k = s.create_api_key("bob", None)?;
    let bob = s.authenticate(&k.key)?.expect("bob");
    assert!(bob.can_access("lab", false) && !bob.can_access("lab", true));
    assert_eq!(s.list_entities(&bob)?, vec!["bob".to_string(), "lab".to_string()]);
    Ok(())
}

pub fn create_resume_semantics(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    assert!(matches!(create(s, "r1", Some(ResumeMode::Must)), Err(StoreError::RunNotFound(_))));
    let first = create(s, "r1", Some(ResumeMode::Never))?;
    assert!(!first.resumed && first.run.state == "running");
    assert!(matches!(create(s, "r1", Some(ResumeMode::Never)), Err(StoreError::RunExists(_))));
    for mode in [None, Some(ResumeMode::Allow), Some(ResumeMode::Auto), Some(ResumeMode::Must)] {
        assert!(create(s, "r1", mode)?.resumed, "{mode:?} resumes");
    }
    assert!(!create(s, "r2", Some(ResumeMode::Allow))?.resumed);
    // The same log repeating its `never` create (a retried request) is not a conflict.
    let with_log = |run: &str, log: &str| CreateRun {
        key: Some(key(run)),
        resume: Some(ResumeMode::Never),
        log_id: Some(log.into()),
        ..CreateRun::default()
    };
    assert!(!s.create_or_resume(&with_log("r3", "logA"))?.resumed);
    assert!(!s.create_or_resume(&with_log("r3", "logA"))?.resumed);
    assert!(matches!(s.create_or_resume(&with_log("r3", "logB")), Err(StoreError::RunExists(_))));
    assert!(matches!(s.get_run(&key("zz")), Err(StoreError::RunNotFound(_))));
    assert!(create(s, "bad/id", None).is_err());
    Ok(())
}

const LOG: &[&str] = &[
    r#"{"t":"run","v":1,"log_id":"log1","run_id":"r1","name":"fox","tags":["a"],"config":{"lr":0.1}}"#,
    r#"{"t":"config","data":{"model":{"layers":4}}}"#,
    r#"{"t":"history","step":0,"ts":1.0,"rt":0.5,"data":{"loss":1.0}}"#,
    r#"{"t":"history","step":0,"ts":1.1,"rt":0.6,"data":{"acc":0.5}}"#,
    r#"{"t":"history","step":1,"ts":2.0,"rt":1.5,"data":{"loss":{"$f":"NaN"}}}"#,
];

pub fn ingest_is_idempotent(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    let out = ingest(s, "r1", 0, LOG)?;
    assert!(out.created_run, "a run record creates the run");
    assert_eq!(out.applied, LOG.len());
    let before = s.get_run(&key("r1"))?;
    assert_eq!((before.row_count, before.last_step), (2, Some(1)));
    assert_eq!(before.config, json!({"lr":0.1,"model":{"layers":4}}));
    assert_eq!(before.summary["loss"], json!({"$f":"NaN"}));
    assert_eq!(before.summary["acc"], json!(0.5));
    let again = ingest(s, "r1", 0, LOG)?;
    assert_eq!(again.applied, 0);
    let after = s.get_run(&key("r1"))?;
    assert_eq!((after.config, after.summary, after.row_count), (before.config, before.summary, before.row_count));
    assert_eq!(s.ingest_mark(&key("r1"), "log1")?, out.acked);
    // A batch overlapping the mark applies only its new part.
    let finish = r#"{"t":"finish","exit_code":0,"ts":3.0,"rt":2.0}"#;
    let last = LOG[LOG.len() - 1];
    let overlap = ingest(s, "r1", out.acked - last.len() as u64 - 1, &[last, finish])?;
    assert_eq!(overlap.applied, 1);
    let done = s.get_run(&key("r1"))?;
    assert_eq!((done.state.as_str(), done.exit_code, done.row_count), ("finished", Some(0), 2));
    Ok(())
}

pub fn ingest_gap_and_bad_positions(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    let out = ingest(s, "r1", 0, &LOG[..2])?;
    let err = ingest(s, "r1", out.acked + 10, &LOG[2..3]).expect_err("gap");
    assert!(matches!(err, StoreError::OffsetGap { expected, .. } if expected == out.acked));
    let bad = IngestBatch {
        key: key("r1"),
        log_id: "log1".into(),
        from: out.acked,
        to: out.acked + 5,
        records: vec![(out.acked + 9, rec(LOG[2]))],
    };
    assert!(matches!(s.apply_ingest(&bad), Err(StoreError::Invalid(_))));
    assert_eq!(s.get_run(&key("r1"))?.row_count, 0);
    assert!(matches!(ingest(s, "nope", 0, &LOG[2..3]), Err(StoreError::RunNotFound(_))));
    Ok(())
}

fn all_rows(st: &Storage, owner: i64) -> Vec<HistoryRow> {
    let q = ScanQuery { limit: 10_000, ..ScanQuery::default() };
    st.history.scan(owner, &q).expect("history scan").rows
}

/// History rows reach the history store with the batch, and a batch that fails leaves none.
pub fn history_commits_with_the_batch(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    create(s, "r1", None)?;
    let pk = s.get_run(&key("r1"))?.pk;
    // The history store refuses the last row (a step it cannot hold) after the batch's config
    // and first rows went in: the whole batch rolls back, history included.
    let too_far = r#"{"t":"history","step":18446744073709551615,"ts":3.0,"rt":2.0,"data":{"loss":0.1}}"#;
    assert!(ingest(s, "r1", 0, &[LOG[1], LOG[2], LOG[3], too_far]).is_err());
    assert!(all_rows(st, pk).is_empty(), "a failed batch leaves no history");
    assert_eq!(s.ingest_mark(&key("r1"), "log1")?, 0);
    assert_eq!(s.get_run(&key("r1"))?.config, json!({}), "nor any metadata change");
    let out = ingest(s, "r1", 0, LOG)?;
    let rows = all_rows(st, pk);
    assert_eq!(rows.iter().map(|r| r.step).collect::<Vec<_>>(), [0, 1], "fragments of step 0 merge");
    assert_eq!(s.get_run(&key("r1"))?.row_count, rows.len() as i64);
    // Re-sent (an agent retrying after a lost answer): nothing is written twice.
    ingest(s, "r1", 0, LOG)?;
    assert_eq!(format!("{:?}", all_rows(st, pk)), format!("{rows:?}"), "same rows (Debug: NaN equals itself)");
    assert_eq!(s.ingest_mark(&key("r1"), "log1")?, out.acked);
    Ok(())
}

pub fn summary_rules(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    create(s, "r1", None)?;
    let out = ingest(
        s,
        "r1",
        0,
        &[
            r#"{"t":"history","step":0,"ts":1.0,"rt":0.5,"data":{"loss":1.0}}"#,
            r#"{"t":"summary","full":{"best":{"a":1,"b":2},"x":1}}"#,
            r#"{"t":"history","step":1,"ts":2.0,"rt":0.5,"data":{"loss":0.5}}"#,
            r#"{"t":"summary","set":{"y":2},"del":[["best","a"]]}"#,
            r#"{"t":"config","data":{"k":1,"j":2},"remove":["j"]}"#,
            r#"{"t":"meta","name":"renamed","tags":["t1"]}"#,
        ],
    )?;
    assert_eq!(out.applied, 6);
    let run = s.get_run(&key("r1"))?;
    // Records apply in log order: `full` replaces, later history keeps updating its keys.
    assert_eq!(
        run.summary,
        json!({"best":{"b":2},"x":1,"loss":0.5,"_step":1,"_runtime":0.5,"_timestamp":2.0,"y":2}),
        "history after a summary record keeps updating the summary"
    );
    assert_eq!(run.config, json!({"k":1}));
    assert_eq!((run.name.as_deref(), run.tags.clone()), (Some("renamed"), vec!["t1".to_string()]));
    let patched = s.patch_run(&key("r1"), &crate::RunPatch { notes: Some("n".into()), ..Default::default() })?;
    assert_eq!((patched.notes.as_deref(), patched.name.as_deref()), (Some("n"), Some("renamed")));
    Ok(())
}

/// The automatic summary holds each key's last logged value, whether rows repeat their keys,
/// reorder them or change them (ingest updates repeated keys by position).
pub fn auto_summary_takes_each_keys_last_value(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    create(s, "r1", None)?;
    ingest(
        s,
        "r1",
        0,
        &[
            r#"{"t":"history","step":0,"ts":1.0,"rt":0.5,"data":{"a":1,"b":2}}"#,
            r#"{"t":"history","step":1,"ts":2.0,"rt":1.5,"data":{"a":3,"b":4}}"#,
            r#"{"t":"history","step":2,"ts":3.0,"rt":2.5,"data":{"b":5,"c":6}}"#,
            r#"{"t":"history","step":3,"ts":4.0,"rt":3.5,"data":{"a":7,"b":8}}"#,
            r#"{"t":"history","step":4,"ts":5.0,"rt":4.5,"data":{"a":9,"b":10}}"#,
            r#"{"t":"history","step":5,"ts":6.0,"rt":5.5,"data":{"b":11,"a":12}}"#,
        ],
    )?;
    let run = s.get_run(&key("r1"))?;
    let keys: Vec<&String> = run.summary.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    assert_eq!(keys[..3], ["a", "b", "c"], "keys keep the order they were first logged in");
    assert_eq!((&run.summary["a"], &run.summary["b"], &run.summary["c"]), (&json!(12), &json!(11), &json!(6)));
    assert_eq!((&run.summary["_step"], &run.summary["_runtime"]), (&json!(5), &json!(5.5)));
    assert_eq!(run.row_count, 6);
    Ok(())
}

/// Five runs with nested config, missing keys, tags and names for filter cases.
fn filter_fixture(s: &dyn MetadataStore) -> Result<()> {
    setup(s)?;
    let runs = [
        ("a", r#"{"lr":0.1,"model":{"layers":4,"act":"relu"},"opt":"adam"}"#, r#"["base","x"]"#, "fox-1", 0.9),
        ("b", r#"{"lr":0.01,"model":{"layers":8},"opt":"sgd"}"#, r#"["x"]"#, "fox-2", 0.7),
        ("c", r#"{"lr":0.001,"model":{"layers":2,"act":"gelu"}}"#, r#"[]"#, "cat-1", 0.8),
        ("d", r#"{"opt":"adam","a.b":5}"#, r#"["base"]"#, "dog", -1.0),
        ("e", r#"{"lr":1}"#, r#"[]"#, "Fox-big", f64::NAN),
    ];
    for (i, (id, config, tags, name, acc)) in runs.into_iter().enumerate() {
        let config: serde_json::Map<String, serde_json::Value> = serde_json::from_str(config)?;
        let req = CreateRun {
            key: Some(key(id)),
            name: Some(name.into()),
            tags: Some(serde_json::from_str(tags)?),
            config: Some(config),
            created_at: Some(1000.0 + i as f64),
            ..CreateRun::default()
        };
        s.create_or_resume(&req)?;
        if acc.is_finite() {
            let line = format!(r#"{{"t":"summary","full":{{"acc":{acc:?}}}}}"#);
            ingest(s, id, 0, &[&line])?;
        }
    }
    Ok(())
}

pub fn filters(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    filter_fixture(s)?;
    let cases: Vec<(serde_json::Value, &[&str])> = vec![
        (json!({}), &["a", "b", "c", "d", "e"]),
        (json!({"config.lr": {"$gt": 0.005}}), &["a", "b", "e"]),
        (json!({"config.lr": 0.01}), &["b"]),
        (json!({"config.model.layers": {"$gte": 4}}), &["a", "b"]),
        (json!({"config.model.act": {"$ne": "relu"}}), &["b", "c", "d", "e"]),
        (json!({"config.model.act": {"$exists": false}}), &["b", "d", "e"]),
        (json!({"config.lr": {"$exists": true}}), &["a", "b", "c", "e"]),
        (json!({"config.opt": {"$in": ["adam", "rmsprop"]}}), &["a", "d"]),
        (json!({"config.opt": {"$nin": ["adam"]}}), &["b", "c", "e"]),
        (json!({"config.opt": null}), &["c", "e"]),
        (json!({"config.a.b": 5}), &["d"]),
        (json!({"config.lr.value": {"$lt": 0.05}}), &["b", "c"]),
        (json!({"config.missing": {"$gt": 0}}), &[]),
        (json!({"summary_metrics.acc": {"$gte": 0.8}}), &["a", "c"]),
        (json!({"summary.acc": {"$lt": 0}}), &["d"]),
        (json!({"tags": "base"}), &["a", "d"]),
        (json!({"tags": {"$in": ["x", "zz"]}}), &["a", "b"]),
        (json!({"tags": {"$nin": ["x"]}}), &["c", "d", "e"]),
        (json!({"tags": {"$exists": false}}), &["c", "e"]),
        (json!({"display_name": {"$regex": "^fox"}}), &["a", "b"]),
        (json!({"name": {"$regex": "^fox", "$options": "i"}}), &["a", "b", "e"]),
        (json!({"$or": [{"config.lr": 1}, {"tags": "base"}]}), &["a", "d", "e"]),
        (json!({"$nor": [{"config.lr": 1}, {"tags": "base"}]}), &["b", "c"]),
        (json!({"$and": [{"config.opt": "adam"}, {"config.lr": {"$exists": true}}]}), &["a"]),
        (json!({"config.lr": {"$not": {"$gt": 0.005}}}), &["c", "d"]),
        (json!({"created_at": {"$gte": 1002.0}}), &["c", "d", "e"]),
        (json!({"created_at": {"$lt": "1970-01-01T00:16:42Z"}}), &["a", "b"]),
        (json!({"state": "running", "config.lr": {"$lte": 0.01}}), &["b", "c"]),
    ];
    for (filter, want) in cases {
        let mut got = page(s, filter.clone(), "run_id")?;
        got.sort();
        assert_eq!(got, want, "filter {filter}");
    }
    assert!(matches!(parse_filter(&json!({"config.lr": {"$bogus": 1}})), Err(StoreError::InvalidFilter(_))));
    Ok(())
}

/// MongoDB's type brackets: NaN never compares, ±Inf and big integers compare by value,
/// strings and booleans only within their own type.
pub fn filters_compare_within_type_brackets(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    let values = [
        ("nan", r#"{"$f":"NaN"}"#),
        ("inf", r#"{"$f":"Infinity"}"#),
        ("ninf", r#"{"$f":"-Infinity"}"#),
        ("big", r#"{"$int":"1000000000000000000000000000000"}"#),
        ("nbig", r#"{"$int":"-1000000000000000000000000000000"}"#),
        ("hi", "0.95"),
        ("lo", "0.5"),
        ("str", r#""high""#),
        ("yes", "true"),
        ("one", "1"),
    ];
    for (id, v) in values {
        create(s, id, None)?;
        ingest(s, id, 0, &[&format!(r#"{{"t":"summary","full":{{"acc":{v}}}}}"#)])?;
    }
    create(s, "none", None)?;
    let cases: Vec<(serde_json::Value, &[&str])> = vec![
        (json!({"summary.acc": {"$gt": 0.9}}), &["big", "hi", "inf", "one"]),
        (json!({"summary.acc": {"$lt": 0.9}}), &["lo", "nbig", "ninf"]),
        (json!({"summary.acc": {"$gt": 1e29}}), &["big", "inf"]),
        (json!({"summary.acc": {"$lt": -1e300}}), &["ninf"]),
        (json!({"summary.acc": {"$gte": 1, "$lte": 1}}), &["one"]),
        (json!({"summary.acc": 1}), &["one"]),
        (json!({"summary.acc": true}), &["yes"]),
        (json!({"summary.acc": {"$gt": false}}), &["yes"]),
        (json!({"summary.acc": {"$gt": "a"}}), &["str"]),
        (json!({"summary.acc": {"$in": [0.95, "high"]}}), &["hi", "str"]),
        (
            json!({"summary.acc": {"$ne": 0.95}}),
            &["big", "inf", "lo", "nan", "nbig", "ninf", "none", "one", "str", "yes"],
        ),
        (json!({"summary.acc": {"$not": {"$gt": 0.9}}}), &["lo", "nan", "nbig", "ninf", "none", "str", "yes"]),
        (json!({"summary.acc": {"$regex": "^\\{"}}), &[]),
    ];
    for (filter, want) in cases {
        let mut got = page(s, filter.clone(), "run_id")?;
        got.sort();
        assert_eq!(got, want, "filter {filter}");
    }
    Ok(())
}

pub fn sort_and_keyset_pagination(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    filter_fixture(s)?;
    assert_eq!(page(s, json!({}), "config.lr")?, ["c", "b", "a", "e", "d"], "missing keys sort last");
    assert_eq!(page(s, json!({}), "-config.lr")?, ["e", "a", "b", "c", "d"], "also descending");
    assert_eq!(page(s, json!({}), "-created_at")?, ["e", "d", "c", "b", "a"]);
    assert_eq!(page(s, json!({}), "+summary_metrics.acc")?, ["d", "b", "c", "a", "e"]);
    for order in ["config.lr", "-config.lr", "-created_at", "name", "-summary_metrics.acc", "config.model.act"] {
        let full = page(s, json!({}), order)?;
        for limit in 1..=3 {
            let (order_by, direction) = RunQuery::parse_order(order);
            let mut q = RunQuery {
                entity: "alice".into(),
                project: "proj".into(),
                filter: None,
                order_by,
                direction,
                limit,
                cursor: None,
                with_total: false,
            };
            let mut paged = Vec::new();
            loop {
                let p = s.query_runs(&q)?;
                assert!(p.runs.len() <= limit);
                paged.extend(p.runs.into_iter().map(|r| r.run_id));
                match p.next_cursor {
                    Some(c) => q.cursor = Some(c),
                    None => break,
                }
                assert!(paged.len() <= full.len(), "pagination terminates");
            }
            assert_eq!(paged, full, "order {order} limit {limit}");
        }
    }
    let q = RunQuery {
        entity: "alice".into(),
        project: "proj".into(),
        filter: None,
        order_by: "created_at".into(),
        direction: Direction::Asc,
        limit: 2,
        cursor: Some("not-a-cursor".into()),
        with_total: false,
    };
    assert!(matches!(s.query_runs(&q), Err(StoreError::Invalid(_))));
    let q = RunQuery { project: "nope".into(), cursor: None, ..q };
    assert!(matches!(s.query_runs(&q), Err(StoreError::ProjectNotFound(_))));
    Ok(())
}

pub fn groups_and_keys(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    filter_fixture(s)?;
    let groups = s.group_runs("alice", "proj", "config.opt", None)?;
    let got: Vec<(serde_json::Value, u64)> = groups.into_iter().map(|g| (g.value, g.count)).collect();
    assert_eq!(got, vec![(json!(null), 2), (json!("adam"), 2), (json!("sgd"), 1)]);
    let f = parse_filter(&json!({"config.lr": {"$exists": true}}))?;
    let tags = s.group_runs("alice", "proj", "tags", Some(&f))?;
    assert_eq!(tags.iter().map(|g| g.count).sum::<u64>(), 3);
    let keys = s.project_keys("alice", "proj")?;
    for k in ["lr", "model", "model.layers", "model.act", "opt", "a.b"] {
        assert!(keys.config.contains(&k.to_string()), "config key {k} in {:?}", keys.config);
    }
    assert_eq!(keys.summary, vec!["acc".to_string()]);
    let projects = s.list_projects("alice")?;
    assert_eq!((projects.len(), projects[0].run_count), (1, 5));
    Ok(())
}

pub fn run_file_versions(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    assert!(matches!(s.put_run_file(&key("r1"), "a.txt", "aa", 1), Err(StoreError::RunNotFound(_))));
    create(s, "r1", None)?;
    let first = s.put_run_file(&key("r1"), "m/model.pt", "s1", 10)?;
    assert_eq!((first.file.version, first.created), (1, true));
    let again = s.put_run_file(&key("r1"), "m/model.pt", "s1", 10)?;
    assert_eq!((again.file.version, again.created), (1, false), "same content as the latest: nothing recorded");
    assert_eq!(s.put_run_file(&key("r1"), "m/model.pt", "s2", 20)?.file.version, 2);
    assert_eq!(s.put_run_file(&key("r1"), "m/model.pt", "s1", 10)?.file.version, 3, "older content again is new");
    s.put_run_file(&key("r1"), "a.txt", "s3", 3)?;
    let latest = s.list_run_files(&key("r1"))?;
    let summary: Vec<(&str, u64, &str, u64)> = latest
        .iter()
        .map(|e| (e.latest.path.as_str(), e.latest.version, e.latest.sha256.as_str(), e.versions))
        .collect();
    assert_eq!(summary, [("a.txt", 1, "s3", 1), ("m/model.pt", 3, "s1", 3)]);
    assert_eq!(s.list_run_file_versions(&key("r1"))?.len(), 4);
    assert_eq!(s.get_run_file(&key("r1"), "m/model.pt", Some(2))?.sha256, "s2");
    assert_eq!(s.get_run_file(&key("r1"), "m/model.pt", None)?.version, 3);
    assert!(matches!(s.get_run_file(&key("r1"), "m/model.pt", Some(4)), Err(StoreError::NotFound(_))));
    assert!(matches!(s.get_run_file(&key("r1"), "nope", None), Err(StoreError::NotFound(_))));
    Ok(())
}

pub fn metadata_merge(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    ingest(s, "r1", 0, &[r#"{"t":"run","v":1,"log_id":"log1","run_id":"r1","pid":7,"settings":{"a":1}}"#])?;
    let doc = json!({"host": "box", "git": {"commit": "abc"}, "pid": 8});
    let run = s.merge_metadata(&key("r1"), doc.as_object().expect("object"))?;
    assert_eq!(run.metadata["git"]["commit"], "abc");
    assert_eq!(run.metadata["pid"], 8, "top-level keys are replaced");
    assert_eq!(run.metadata["settings"]["a"], 1, "other keys stay");
    Ok(())
}

pub fn console_output(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    let run = r#"{"t":"run","v":1,"log_id":"log1","run_id":"r1"}"#;
    let out = |n: u64, text: &str| format!(r#"{{"t":"output","stream":"out","line":{n},"ts":5.0,"text":"{text}"}}"#);
    let (l0, l1) = (out(0, "Epoch 1"), out(1, "warn"));
    ingest(s, "r1", 0, &[run, &l0, &l1])?;
    ingest(s, "r1", 0, &[run, &l0, &l1])?; // resent: below the mark, nothing happens
    let q = |after: Option<u64>, contains: Option<&str>| crate::OutputQuery {
        after_line: after,
        limit: 100,
        contains: contains.map(String::from),
    };
    let lines = s.run_output(&key("r1"), &q(None, None))?;
    assert_eq!(lines.iter().map(|l| (l.line, l.text.as_str())).collect::<Vec<_>>(), [(0, "Epoch 1"), (1, "warn")]);
    assert_eq!(s.run_output(&key("r1"), &q(Some(0), None))?.len(), 1);
    assert_eq!(s.run_output(&key("r1"), &q(None, Some("epoch")))?.len(), 1);
    // A stored line redrawn (`\r`) is replaced; a line the log has not stored is not created.
    let redraw =
        |line: u64, text: &str| crate::OutputLine { line, stream: "out".into(), text: text.into(), ts: Some(6.0) };
    assert_eq!(s.rewrite_output(&key("r1"), "log1", &[redraw(0, "Epoch 1 done"), redraw(7, "future")])?, 1);
    assert_eq!(s.rewrite_output(&key("r1"), "log1", &[redraw(0, "Epoch 1 done")])?, 0, "the same text again");
    let lines = s.run_output(&key("r1"), &q(None, None))?;
    assert_eq!(lines.iter().map(|l| (l.line, l.text.as_str())).collect::<Vec<_>>(), [(0, "Epoch 1 done"), (1, "warn")]);
    // A second log (a resumed attempt) numbers its lines from 0; they follow the first log's.
    let resumed = crate::IngestBatch {
        key: key("r1"),
        log_id: "log2".into(),
        from: 0,
        to: 200,
        records: vec![(0, rec(&out(0, "again")))],
    };
    s.apply_ingest(&resumed)?;
    let tail = s.run_output(&key("r1"), &q(Some(1), None))?;
    assert_eq!(tail.iter().map(|l| (l.line, l.text.as_str())).collect::<Vec<_>>(), [(2, "again")]);
    Ok(())
}

pub fn system_stats_go_to_their_own_series(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    ingest(s, "r1", 0, &[r#"{"t":"run","v":1,"log_id":"log1","run_id":"r1","created_at":100.0}"#])?;
    let pk = s.get_run(&key("r1"))?.pk;
    let header = r#"{"t":"stream","v":1,"kind":"system","log_id":"sys","run_id":"r1"}"#;
    let stats = r#"{"t":"stats","ts":130.5,"data":{"system/cpu":12.5}}"#;
    let batch = crate::IngestBatch {
        key: key("r1"),
        log_id: "sys".into(),
        from: 0,
        to: 500,
        records: vec![(0, rec(header)), (100, rec(stats))],
    };
    s.apply_ingest(&batch)?;
    let system = all_rows(st, crate::capture::system_owner(pk));
    let seen: Vec<_> = system.iter().map(|r| (r.step, r.ts, r.rt, r.data.len())).collect();
    assert_eq!(seen, [(130_500, 130.5, 30.5, 1)]);
    assert!(all_rows(st, pk).is_empty(), "stats rows are not the run's history");
    let run = s.get_run(&key("r1"))?;
    assert_eq!((run.row_count, run.summary.get("system/cpu")), (0, None), "system rows are not history rows");
    Ok(())
}

/// Deleting a run removes its row, history, console, tags and file records, and nothing of
/// another run; it names the file blobs nobody else references; the id can then be used again.
pub fn delete_run_removes_everything_of_it(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    ingest(s, "r1", 0, LOG)?;
    ingest(s, "r2", 0, &[LOG[0].replace("\"r1\"", "\"r2\"").as_str(), LOG[2]])?;
    let (pk1, pk2) = (s.get_run(&key("r1"))?.pk, s.get_run(&key("r2"))?.pk);
    s.put_run_file(&key("r1"), "a.txt", "aa", 1)?;
    s.put_run_file(&key("r1"), "a.txt", "ab", 1)?;
    s.put_run_file(&key("r1"), "shared.txt", "bb", 1)?;
    s.put_run_file(&key("r2"), "copy.txt", "bb", 1)?;
    let out = r#"{"t":"output","stream":"out","line":0,"ts":5.0,"text":"hi"}"#;
    ingest(s, "r1", 0, &[LOG[0], out])?;
    let mut freed = s.delete_run(&key("r1"))?;
    freed.sort();
    assert_eq!(freed, ["aa", "ab"], "every version's blob is freed; the one r2 also holds stays");
    assert!(matches!(s.get_run(&key("r1")), Err(StoreError::RunNotFound(_))));
    assert!(all_rows(st, pk1).is_empty(), "history of the deleted run is gone");
    assert_eq!(all_rows(st, pk2).len(), 1, "the other run keeps its history");
    assert_eq!(page(s, json!({"tags": "a"}), "name")?, ["r2"], "its tags no longer match");
    assert_eq!(s.delete_run(&key("r2"))?, ["bb"], "the last holder frees the shared blob");
    assert!(matches!(s.delete_run(&key("r1")), Err(StoreError::RunNotFound(_))));
    create(s, "r1", None)?;
    assert!(s.list_run_files(&key("r1"))?.is_empty(), "a new run of that id starts empty");
    assert!(s.run_output(&key("r1"), &crate::OutputQuery { after_line: None, limit: 10, contains: None })?.is_empty());
    Ok(())
}

/// A moved run keeps its id, history and files; the target's key catalogue learns its keys;
/// an id already taken in the target is refused.
pub fn move_run_keeps_its_data(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    ingest(s, "r1", 0, LOG)?;
    s.put_run_file(&key("r1"), "a.txt", "aa", 1)?;
    let pk = s.get_run(&key("r1"))?.pk;
    let moved = s.move_run(&key("r1"), "alice", "other")?;
    assert_eq!((moved.project.as_str(), moved.run_id.as_str(), moved.pk), ("other", "r1", pk));
    assert!(matches!(s.get_run(&key("r1")), Err(StoreError::RunNotFound(_))));
    let there = RunKey { entity: "alice".into(), project: "other".into(), run_id: "r1".into() };
    assert_eq!(s.list_run_files(&there)?.len(), 1);
    assert_eq!(all_rows(st, pk).len(), 2, "history follows the run");
    let keys = s.project_keys("alice", "other")?;
    assert!(keys.config.contains(&"lr".to_string()) && keys.history.contains(&"loss".to_string()), "{keys:?}");
    let (order_by, direction) = RunQuery::parse_order("name");
    let q = RunQuery {
        entity: "alice".into(),
        project: "other".into(),
        filter: Some(parse_filter(&json!({"tags": "a"}))?),
        order_by,
        direction,
        limit: 10,
        cursor: None,
        with_total: true,
    };
    assert_eq!(s.query_runs(&q)?.total, Some(1), "tags are found in the new project");
    create(s, "r1", None)?;
    assert!(matches!(s.move_run(&key("r1"), "alice", "other"), Err(StoreError::RunExists(_))));
    assert!(matches!(s.move_run(&key("r1"), "nobody", "p"), Err(StoreError::NotFound(_))));
    assert!(matches!(s.move_run(&key("zz"), "alice", "other"), Err(StoreError::RunNotFound(_))));
    Ok(())
}

/// A stop request: acknowledged by ingest (also by a retried batch) while the run runs, the
/// finish makes the run `killed`, a finished run refuses it, a resume clears it.
pub fn stop_requests(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    create(s, "r1", None)?;
    create(s, "other", None)?;
    let line = r#"{"t":"history","step":0,"ts":1.0,"rt":0.5,"data":{"loss":1.0}}"#;
    assert!(!ingest(s, "r1", 0, &[line])?.stop_requested, "no stop was requested");
    let asked = s.request_stop(&key("r1"))?;
    let at = asked.stop_requested_at.expect("the request is recorded");
    assert_eq!(asked.state, "running", "the run runs until its writer stops");
    assert_eq!(s.request_stop(&key("r1"))?.stop_requested_at, Some(at), "asking again changes nothing");
    assert!(ingest(s, "r1", 0, &[line])?.stop_requested, "a retried batch is told too");
    let second = r#"{"t":"history","step":1,"ts":2.0,"rt":1.5,"data":{"loss":0.5}}"#;
    let from = line.len() as u64 + 1;
    assert!(ingest(s, "r1", from, &[second])?.stop_requested);
    assert!(!ingest(s, "other", 0, &[line])?.stop_requested, "only the stopped run is told");
    let finish = r#"{"t":"finish","exit_code":255,"ts":3.0,"rt":2.0}"#;
    let out = ingest(s, "r1", from + second.len() as u64 + 1, &[finish])?;
    assert!(!out.stop_requested, "a stopped run has nothing left to stop");
    let done = s.get_run(&key("r1"))?;
    assert_eq!((done.state.as_str(), done.exit_code), ("killed", Some(255)));
    assert!(matches!(s.request_stop(&key("r1")), Err(StoreError::Conflict(_))), "only a running run stops");
    let resumed = create(s, "r1", Some(ResumeMode::Allow))?.run;
    assert_eq!((resumed.state.as_str(), resumed.stop_requested_at), ("running", None), "a resume clears it");
    assert!(matches!(s.request_stop(&key("nope")), Err(StoreError::RunNotFound(_))));
    Ok(())
}

/// `run_pks` answers in request order, the same keys `get_run` gives, `None` for a missing run
/// and for every id of a missing project, and never a run of another project.
pub fn run_pks_in_request_order(st: &Storage) -> Result<()> {
    let s = &*st.metadata;
    setup(s)?;
    for run in ["a", "b", "c"] {
        create(s, run, None)?;
    }
    let other = RunKey { entity: "alice".into(), project: "other".into(), run_id: "x".into() };
    s.create_or_resume(&CreateRun { key: Some(other.clone()), ..CreateRun::default() })?;
    let ids: Vec<String> = ["c", "nope", "a", "x", "b", "a"].iter().map(|s| (*s).to_owned()).collect();
    let pks = s.run_pks("alice", "proj", &ids)?;
    let pk = |r: &str| s.get_run(&key(r)).map(|run| Some(run.pk));
    assert_eq!(pks, vec![pk("c")?, None, pk("a")?, None, pk("b")?, pk("a")?]);
    assert_eq!(s.run_pks("alice", "other", &ids)?[3], Some(s.get_run(&other)?.pk));
    assert_eq!(s.run_pks("alice", "missing", &ids)?, vec![None; ids.len()]);
    assert_eq!(s.run_pks("alice", "proj", &[])?, Vec::<Option<i64>>::new());
    Ok(())
}
