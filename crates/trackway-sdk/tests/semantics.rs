//! Step/commit, summary and define_metric rules (wandb-api-surface.md 3.1, 3.3), checked on the
//! rows a reader rebuilds from the log.

use trackway_runlog::{LogReader, load_run_state};
use trackway_sdk::{Logged, MetricDef, RunCore, StartInfo, Value, map};
use trackway_types::{Map, Record};

fn start(tmp: &tempfile::TempDir) -> RunCore {
    let info = StartInfo { run_id: "sem".into(), project: Some("p".into()), ..Default::default() };
    RunCore::start(tmp.path(), info, None).expect("start")
}

/// Rows as (step, merged data), rebuilt like a reader: consecutive same-step fragments merge.
fn rows(core: &RunCore) -> Vec<(u64, Map)> {
    let mut out: Vec<(u64, Map)> = Vec::new();
    for e in LogReader::open(core.log_path(), 0).expect("open").read_all().expect("read") {
        if let Ok(Record::History(h)) = e.record {
            match out.last_mut() {
                Some((s, m)) if *s == h.step => m.extend(h.data),
                _ => out.push((h.step, h.data)),
            }
        }
    }
    out
}

fn n_values(rows: &[(u64, Map)], key: &str) -> Vec<Option<Value>> {
    rows.iter().map(|(_, m)| m.get(key).cloned()).collect()
}

#[test]
fn wandb_worked_example() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut r = start(&tmp);
    r.log(map! {"n" => 1i64}, None, None).expect("1");
    r.log(map! {"n" => 11i64}, None, Some(false)).expect("2");
    r.log(map! {"n" => 2i64}, Some(100), None).expect("3");
    r.log(map! {"n" => 3i64}, Some(100), None).expect("4");
    r.log(map! {"n" => 8i64}, Some(101), None).expect("5");
    r.log(map! {"n" => 5i64}, Some(102), None).expect("6");
    assert_eq!(r.log(map! {"cool" => 2i64}, Some(2), None).expect("7"), Logged::Dropped(102));
    assert_eq!(r.log(map! {"cool" => 2i64}, Some(4), None).expect("8"), Logged::Dropped(102));
    r.finish(Some(0), false).expect("finish");
    let rows = rows(&r);
    let steps: Vec<u64> = rows.iter().map(|(s, _)| *s).collect();
    assert_eq!(steps, vec![0, 1, 100, 101, 102]);
    let n: Vec<Option<Value>> = [1, 11, 3, 8, 5].iter().map(|i| Some(Value::Int(*i))).collect();
    assert_eq!(n_values(&rows, "n"), n);
    assert!(rows.iter().all(|(_, m)| !m.contains_key("cool")));
    assert_eq!(r.summary().get("n"), Some(&Value::Int(5)));
}

#[test]
fn uncommitted_row_then_jump_then_commit() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut r = start(&tmp);
    r.log(map! {"a" => 1i64}, None, Some(false)).expect("a");
    r.log(map! {"b" => 2i64}, Some(5), None).expect("b");
    r.log(map! {"c" => 3i64}, None, None).expect("c");
    assert_eq!(r.step(), 6);
    let rows = rows(&r);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, 0);
    assert_eq!(rows[0].1.keys().collect::<Vec<_>>(), vec!["a"]);
    assert_eq!(rows[1].0, 5);
    assert_eq!(rows[1].1.keys().collect::<Vec<_>>(), vec!["b", "c"]);
}

#[test]
fn committed_step_refuses_later_writes_at_that_step() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut r = start(&tmp);
    r.log(map! {"cool" => 1i64}, Some(1), None).expect("1");
    r.log(map! {"cool" => 2i64}, Some(4), Some(true)).expect("2");
    assert_eq!(r.log(map! {"bad" => 1i64}, Some(4), Some(true)).expect("3"), Logged::Dropped(5));
    assert_eq!(r.step(), 5);
    assert!(rows(&r).iter().all(|(_, m)| !m.contains_key("bad")));
}

#[test]
fn step_counter_and_empty_log_forces_a_row() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut r = start(&tmp);
    assert_eq!(r.step(), 0);
    r.log(map! {"x" => 1.0}, None, None).expect("1");
    r.log(map! {"x" => 2.0}, None, None).expect("2");
    assert_eq!(r.step(), 2);
    r.log(map! {"y" => 1.0}, Some(3), None).expect("3");
    assert_eq!(r.step(), 3);
    r.log(Map::new(), None, None).expect("flush");
    assert_eq!(r.step(), 4);
    let st_rows = rows(&r);
    assert_eq!(st_rows.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![0, 1, 3]);
}

#[test]
fn summary_is_last_committed_value_and_explicit_sets_persist_until_logged() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut r = start(&tmp);
    r.log(map! {"loss" => 1.0}, None, None).expect("1");
    r.log(map! {"loss" => 0.5}, None, Some(false)).expect("pending");
    assert_eq!(r.summary().get("loss"), Some(&Value::Float(1.0)), "pending row not visible");
    r.log(Map::new(), None, None).expect("commit");
    assert_eq!(r.summary().get("loss"), Some(&Value::Float(0.5)));
    r.summary_set(&["best".into()], Value::Float(0.1)).expect("set");
    r.summary_set(&["loss".into()], Value::Float(9.0)).expect("set loss");
    r.log(map! {"acc" => 0.9}, None, None).expect("2");
    assert_eq!(r.summary().get("best"), Some(&Value::Float(0.1)));
    assert_eq!(r.summary().get("loss"), Some(&Value::Float(9.0)));
    r.log(map! {"loss" => 0.25}, None, None).expect("3");
    assert_eq!(r.summary().get("loss"), Some(&Value::Float(0.25)));
    assert_eq!(r.summary().get("_step"), Some(&Value::Int(3)));
    r.log(map! {"nested" => map!{"a" => 1i64}}, None, None).expect("4");
    r.log(map! {"nested" => map!{"b" => 2i64}}, None, None).expect("5");
    assert_eq!(r.summary().get("nested"), Some(&Value::Map(map! {"a" => 1i64, "b" => 2i64})));
    r.summary_del(&["nested".into(), "a".into()]).expect("del");
    assert!(r.summary_del(&["nested".into(), "zz".into()]).is_err());
    r.finish(None, false).expect("finish");
    let st = load_run_state(r.dir()).expect("state");
    assert_eq!(&st.summary, r.summary(), "the final full summary is what readers see");
}

#[test]
fn define_metric_aggregates_globs_and_none() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut r = start(&tmp);
    let d = |n: &str, s: &[&str]| {
        let s: Vec<String> = s.iter().map(|x| (*x).to_owned()).collect();
        MetricDef::new(n, None, None, &s, None, None).expect("def")
    };
    r.define_metric(d("loss", &["min", "max", "mean", "first", "last"]), false).expect("d1");
    r.define_metric(d("train/*", &["max"]), false).expect("d2");
    r.define_metric(d("hidden_key", &["none"]), false).expect("d3");
    r.define_metric(d("eval.acc", &["max"]), false).expect("d4");
    for (i, l) in [3.0, 1.0, f64::NAN, 2.0].iter().enumerate() {
        let i = i as i64;
        r.log(map! {"loss" => *l, "train/x" => i, "hidden_key" => 1i64, "eval" => map!{"acc" => i}}, None, None)
            .expect("log");
    }
    r.log(map! {"loss" => "oops"}, None, None).expect("string ignored by min/max");
    let s = r.summary();
    let loss = s.get("loss").and_then(Value::as_map).expect("loss agg");
    assert_eq!(loss.get("min"), Some(&Value::Float(1.0)));
    assert_eq!(loss.get("max"), Some(&Value::Float(3.0)));
    assert_eq!(loss.get("mean"), Some(&Value::Float(2.0)));
    assert_eq!(loss.get("first"), Some(&Value::Float(3.0)));
    assert_eq!(loss.get("last"), Some(&Value::Str("oops".into())));
    assert_eq!(s.get("train/x"), Some(&Value::Map(map! {"max" => 3i64})));
    assert!(!s.contains_key("hidden_key"));
    let eval = s.get("eval").and_then(Value::as_map).expect("eval");
    assert_eq!(eval.get("acc"), Some(&Value::Map(map! {"max" => 3i64})));
    assert!(MetricDef::new("a*b", None, None, &[], None, None).is_err());
    assert!(MetricDef::new("a*/*", None, None, &[], None, None).is_err());
    assert!(MetricDef::new("train*", None, None, &[], None, None).is_err());
    assert!(MetricDef::new("é", None, None, &[], None, None).is_ok(), "non-ASCII names");
    assert!(MetricDef::new("*", None, None, &[], None, None).is_ok());
    assert!(MetricDef::new("x", None, None, &["median".into()], None, None).is_err());
    assert!(MetricDef::new("x", None, None, &[], Some("up"), None).is_err());
}

/// wandb merges repeated `define_metric` calls (aggregates add up, a later goal or step metric
/// wins, unspecified fields keep their earlier values); `overwrite` replaces the definition.
/// The log's last `metric` record per name is the definition in force.
#[test]
fn repeated_define_metric_merges_unless_overwrite() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut r = start(&tmp);
    let d = |n: &str, step: Option<&str>, s: &[&str], goal: Option<&str>| {
        let s: Vec<String> = s.iter().map(|x| (*x).to_owned()).collect();
        MetricDef::new(n, step, None, &s, goal, None).expect("def")
    };
    r.define_metric(d("loss", Some("epoch"), &["min"], Some("minimize")), false).expect("d1");
    r.define_metric(d("loss", None, &["max"], None), false).expect("d2");
    r.define_metric(d("acc", None, &["min"], None), false).expect("d3");
    r.define_metric(d("acc", None, &["max"], None), true).expect("overwrite");
    for v in [2.0, 1.0] {
        r.log(map! {"loss" => v, "acc" => v, "epoch" => 1i64}, None, None).expect("log");
    }
    let s = r.summary();
    assert_eq!(s.get("loss"), Some(&Value::Map(map! {"min" => 1.0, "max" => 2.0})));
    assert_eq!(s.get("acc"), Some(&Value::Map(map! {"max" => 2.0})));
    r.finish(None, false).expect("finish");
    let st = load_run_state(r.dir()).expect("state");
    assert_eq!(&st.summary, r.summary());
    let records = LogReader::open(r.log_path(), 0).expect("open").read_all().expect("read");
    let last_loss = records
        .into_iter()
        .rev()
        .find_map(|e| match e.record {
            Ok(Record::Metric(m)) if m.name == "loss" => Some(m),
            _ => None,
        })
        .expect("a loss record");
    assert_eq!(last_loss.summary, vec!["min".to_owned(), "max".to_owned()]);
    assert_eq!(last_loss.step_metric.as_deref(), Some("epoch"));
    assert_eq!(last_loss.goal.as_deref(), Some("minimize"));
}

#[test]
fn step_metric_sync_fills_last_seen_value() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut r = start(&tmp);
    r.define_metric(MetricDef::new("train/global_step", None, None, &[], None, None).expect("d"), false).expect("d1");
    r.define_metric(MetricDef::new("train/*", Some("train/global_step"), None, &[], None, None).expect("d"), false)
        .expect("d2");
    r.log(map! {"train/loss" => 1.0, "train/global_step" => 10i64}, None, None).expect("1");
    r.log(map! {"train/loss" => 0.5}, None, None).expect("2");
    r.log(map! {"train/global_step" => 20i64}, None, Some(false)).expect("3");
    r.log(map! {"train/loss" => 0.4}, None, None).expect("4");
    let rows = rows(&r);
    let gs = n_values(&rows, "train/global_step");
    assert_eq!(gs, vec![Some(Value::Int(10)), Some(Value::Int(10)), Some(Value::Int(20))]);
}

#[test]
fn finish_is_idempotent_and_log_after_finish_fails() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut r = start(&tmp);
    r.log(map! {"x" => 1i64}, None, Some(false)).expect("pending");
    r.finish(Some(2), true).expect("finish");
    r.finish(Some(3), true).expect("again");
    assert!(r.log(map! {"x" => 1i64}, None, None).is_err());
    let st = load_run_state(r.dir()).expect("state");
    assert!(st.finished);
    assert_eq!(st.exit_code, Some(2));
    assert_eq!(st.row_count, 1);
    assert_eq!(st.summary.get("x"), Some(&Value::Int(1)));
}

#[test]
fn resume_continues_steps_and_summary() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut r = start(&tmp);
    r.log(map! {"x" => 1i64}, Some(7), Some(true)).expect("log");
    r.finish(Some(0), false).expect("finish");
    let resume = trackway_sdk::resume_state(tmp.path(), "sem", Some("allow")).expect("state");
    let info = StartInfo { run_id: "sem".into(), ..Default::default() };
    let mut r2 = RunCore::start(tmp.path(), info, resume).expect("resume");
    assert_eq!((r2.step(), r2.starting_step()), (8, 8));
    assert_eq!(r2.summary().get("x"), Some(&Value::Int(1)));
    r2.log(map! {"y" => 1i64}, None, None).expect("log");
    assert_eq!(rows(&r2)[0].0, 8);
    let first_rt = r.summary().get("_runtime").and_then(Value::as_f64).expect("rt");
    let resumed_rt = r2.summary().get("_runtime").and_then(Value::as_f64).expect("rt");
    assert!(resumed_rt >= first_rt, "runtime continues across attempts");
    assert!(trackway_sdk::resume_state(tmp.path(), "sem", Some("never")).is_err());
    assert!(trackway_sdk::resume_state(tmp.path(), "nope", Some("must")).is_err());
    assert!(trackway_sdk::resume_state(tmp.path(), "nope", Some("allow")).expect("ok").is_none());
}

/// One summary rule (trackway_types::summary): the live summary equals the run log's replay at
/// every point, not only after the next full summary record. Nested values logged in several
/// rows, and in several fragments of one row, merge leaf by leaf as wandb's do.
#[test]
fn live_summary_equals_the_log_replay_for_nested_values() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut r = start(&tmp);
    r.log(map! {"opt" => map!{"lr" => 0.1, "m" => map!{"beta" => 0.9}}}, None, None).expect("1");
    r.log(map! {"opt" => map!{"m" => map!{"eps" => 1e-8}}}, None, Some(false)).expect("2a");
    r.log(map! {"opt" => map!{"wd" => 0.01}, "loss" => 1.0}, None, None).expect("2b");
    r.summary_set(&["opt".into(), "lr".into()], Value::Float(0.2)).expect("set");
    r.log(map! {"opt" => map!{"m" => 3i64}}, None, None).expect("3");
    let want = map! {"lr" => 0.2, "m" => 3i64, "wd" => 0.01};
    assert_eq!(r.summary().get("opt"), Some(&Value::Map(want)));
    let st = load_run_state(r.dir()).expect("state");
    assert_eq!(&st.summary, r.summary(), "no full summary record was written yet: replay must agree");
}
