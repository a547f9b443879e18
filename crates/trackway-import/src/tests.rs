use std::io::Write;
use std::path::Path;

use prost::Message;
use trackway_types::{Record, Value};

use crate::proto::{
    Event, HParamsPluginData, HistogramProto, Kind, PluginData, SessionStartInfo, Summary, SummaryMetadata,
    SummaryValue, TensorProto, What, dtype,
};
use crate::tensorboard::{Target, discover, import_run};
use crate::tfrecord::{RecordReader, encode_record};
use crate::{ImportError, mlflow};

fn value(tag: &str, kind: Kind, plugin: Option<(&str, Vec<u8>)>) -> SummaryValue {
    SummaryValue {
        tag: tag.to_owned(),
        metadata: plugin.map(|(name, content)| SummaryMetadata {
            plugin_data: Some(PluginData { plugin_name: name.to_owned(), content }),
        }),
        value: Some(kind),
    }
}

fn event(step: i64, values: Vec<SummaryValue>) -> Vec<u8> {
    let ev = Event { wall_time: 1000.0 + step as f64, step, what: Some(What::Summary(Summary { value: values })) };
    encode_record(&ev.encode_to_vec())
}

fn append(path: &Path, records: &[Vec<u8>]) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    for r in records {
        f.write_all(r).unwrap();
    }
}

fn records(run_dir: &Path) -> Vec<Record> {
    let text = std::fs::read(run_dir.join("run.jsonl")).unwrap();
    text.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(|l| Record::parse(l).unwrap()).collect()
}

pub(crate) fn history(run_dir: &Path) -> Vec<(u64, trackway_types::Map)> {
    records(run_dir)
        .into_iter()
        .filter_map(|r| match r {
            Record::History(h) => Some((h.step, h.data)),
            _ => None,
        })
        .collect()
}

#[test]
fn tfrecord_reader_stops_before_a_partial_record_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    let a = encode_record(b"first");
    let b = encode_record(b"second");
    append(&path, &[a.clone(), b[..7].to_vec()]);
    let mut r = RecordReader::open(&path, 0).unwrap();
    assert_eq!(r.next_record().unwrap(), Some(&b"first"[..]));
    assert_eq!(r.next_record().unwrap(), None);
    assert_eq!(r.offset(), a.len() as u64);
    append(&path, &[b[7..].to_vec()]);
    assert_eq!(r.next_record().unwrap(), Some(&b"second"[..]));
    assert_eq!(r.offset(), (a.len() + b.len()) as u64);
}

#[test]
fn tfrecord_reader_rejects_corrupt_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    let mut rec = encode_record(b"payload");
    rec[14] ^= 0xff;
    append(&path, &[rec]);
    let mut r = RecordReader::open(&path, 0).unwrap();
    assert!(matches!(r.next_record(), Err(ImportError::Corrupt { .. })));
}

fn hparams_content() -> Vec<u8> {
    let mut hp = std::collections::HashMap::new();
    hp.insert("lr".to_owned(), prost_types::Value { kind: Some(prost_types::value::Kind::NumberValue(0.5)) });
    hp.insert(
        "opt".to_owned(),
        prost_types::Value { kind: Some(prost_types::value::Kind::StringValue("adam".to_owned())) },
    );
    HParamsPluginData { version: 0, session_start_info: Some(SessionStartInfo { hparams: hp }) }.encode_to_vec()
}

#[test]
fn tensorboard_import_converts_each_kind_and_reimport_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let logdir = dir.path().join("logs");
    std::fs::create_dir_all(logdir.join("a")).unwrap();
    let file = logdir.join("a/events.out.tfevents.1.host");
    let text = TensorProto { dtype: dtype::STRING, string_val: vec![b"hi".to_vec()], ..Default::default() };
    let histo = HistogramProto {
        min: -1.0,
        max: 2.0,
        num: 6.0,
        bucket_limit: vec![0.0, 1.0, f64::MAX],
        bucket: vec![1.0, 2.0, 3.0],
        ..Default::default()
    };
    let hp = SummaryValue {
        tag: "_hparams_/session_start_info".to_owned(),
        metadata: Some(SummaryMetadata {
            plugin_data: Some(PluginData { plugin_name: "hparams".to_owned(), content: hparams_content() }),
        }),
        value: None,
    };
    append(
        &file,
        &[
            event(0, vec![hp]),
            event(0, vec![value("loss", Kind::SimpleValue(0.5), None)]),
            event(0, vec![value("acc", Kind::SimpleValue(0.25), None)]),
            event(1, vec![value("loss", Kind::SimpleValue(f32::NAN), None), value("h", Kind::Histo(histo), None)]),
            event(2, vec![value("note", Kind::Tensor(text), Some(("text", vec![])))]),
        ],
    );
    let target = Target { root: dir.path().join("trackway"), project: "p".into(), entity: None };
    let runs = discover(&logdir).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].name, "logs/a");
    let (run_dir, w) = import_run(&runs[0], &target, true).unwrap();
    assert_eq!((w.rows, w.points), (3, 5));
    let rows = history(&run_dir);
    assert_eq!(rows[0].0, 0);
    assert_eq!(rows[0].1["loss"], Value::Float(0.5));
    assert_eq!(rows[0].1["acc"], Value::Float(0.25));
    assert!(matches!(rows[1].1["loss"], Value::Float(f) if f.is_nan()));
    let h = rows[1].1["h"].as_map().unwrap();
    assert_eq!(
        h["bins"],
        Value::List(vec![Value::Float(-1.0), Value::Float(0.0), Value::Float(1.0), Value::Float(2.0)])
    );
    assert_eq!(h["values"], Value::List(vec![Value::Int(1), Value::Int(2), Value::Int(3)]));
    assert_eq!(rows[2].1["note"], Value::Str("hi".into()));
    let config = records(&run_dir).into_iter().find_map(|r| match r {
        Record::Config(c) => Some(c.data),
        _ => None,
    });
    let config = config.unwrap();
    assert_eq!(config["lr"], Value::Float(0.5));
    assert_eq!(config["opt"], Value::Str("adam".into()));

    let before = std::fs::read(run_dir.join("run.jsonl")).unwrap();
    let (again, w) = import_run(&discover(&logdir).unwrap()[0], &target, true).unwrap();
    assert_eq!(again, run_dir);
    assert_eq!((w.rows, w.points), (0, 0));
    assert_eq!(std::fs::read(run_dir.join("run.jsonl")).unwrap(), before);

    // The writer goes on: only the new rows are appended; a step that went back is dropped.
    append(
        &file,
        &[
            event(3, vec![value("loss", Kind::SimpleValue(0.1), None)]),
            event(1, vec![value("loss", Kind::SimpleValue(9.0), None)]),
        ],
    );
    let (_, w) = import_run(&discover(&logdir).unwrap()[0], &target, true).unwrap();
    assert_eq!((w.rows, w.points, w.dropped), (1, 1, 1));
    assert_eq!(history(&run_dir).last().unwrap().0, 3);
}

#[test]
fn events_of_several_files_are_merged_by_step() {
    let dir = tempfile::tempdir().unwrap();
    let logdir = dir.path().join("run");
    std::fs::create_dir_all(&logdir).unwrap();
    append(
        &logdir.join("events.out.tfevents.1.a"),
        &[
            event(0, vec![value("a", Kind::SimpleValue(1.0), None)]),
            event(2, vec![value("a", Kind::SimpleValue(3.0), None)]),
        ],
    );
    append(
        &logdir.join("events.out.tfevents.2.b"),
        &[
            event(1, vec![value("b", Kind::SimpleValue(2.0), None)]),
            event(2, vec![value("b", Kind::SimpleValue(4.0), None)]),
        ],
    );
    let target = Target { root: dir.path().join("trackway"), project: "p".into(), entity: None };
    let (run_dir, w) = import_run(&discover(&logdir).unwrap()[0], &target, true).unwrap();
    assert_eq!((w.rows, w.points, w.dropped), (3, 4, 0));
    let steps: Vec<u64> = history(&run_dir).iter().map(|r| r.0).collect();
    assert_eq!(steps, vec![0, 1, 2]);
    assert_eq!(history(&run_dir)[2].1.len(), 2);
}

#[test]
fn mlflow_params_parse_numbers_and_keep_text() {
    assert_eq!(mlflow::param_value("3"), Value::Int(3));
    assert_eq!(mlflow::param_value("0.001"), Value::Float(0.001));
    assert_eq!(mlflow::param_value("True"), Value::Bool(true));
    assert_eq!(mlflow::param_value("adam"), Value::Str("adam".into()));
    assert_eq!(mlflow::param_value("1.2.3"), Value::Str("1.2.3".into()));
    assert!(
        matches!(mlflow::store("http://host:5000/").unwrap(), mlflow::Store::Http(s) if s.uri() == "http://host:5000")
    );
    assert!(mlflow::store("postgresql://host/db").is_err());
    let dir = |p: &str| mlflow::Store::Dir(p.into());
    let db = |p: &str| mlflow::Store::Sqlite(p.into());
    assert_eq!(mlflow::store("file:///x/mlruns").unwrap(), dir("/x/mlruns"));
    assert_eq!(mlflow::store("mlruns").unwrap(), dir("mlruns"));
    assert_eq!(mlflow::store("sqlite:///a.db").unwrap(), db("a.db"));
    assert_eq!(mlflow::store("sqlite:////x/a.db").unwrap(), db("/x/a.db"));
}

#[test]
fn mlflow_file_store_import_is_incremental() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("mlruns");
    let run = store.join("1/abc123");
    for sub in ["params", "metrics", "tags", "artifacts/d"] {
        std::fs::create_dir_all(run.join(sub)).unwrap();
    }
    std::fs::write(store.join("1/meta.yaml"), "experiment_id: '1'\nlifecycle_stage: active\nname: exp\n").unwrap();
    std::fs::write(
        run.join("meta.yaml"),
        "run_id: abc123\nrun_name: r\nstart_time: 1000\nend_time: 5000\nstatus: 3\nlifecycle_stage: active\n",
    )
    .unwrap();
    std::fs::write(run.join("params/lr"), "0.1").unwrap();
    std::fs::write(run.join("tags/team"), "x").unwrap();
    std::fs::write(run.join("metrics/loss"), "1000 0.5 0\n2000 0.25 1\n").unwrap();
    std::fs::write(run.join("artifacts/d/f.txt"), "body").unwrap();
    let root = dir.path().join("trackway");
    let runs = mlflow::discover(&mlflow::Store::Dir(store.clone())).unwrap();
    assert_eq!(runs.len(), 1);
    let (run_dir, w) = mlflow::import_run(&runs[0], &root, None, None).unwrap();
    assert_eq!((w.rows, w.points, w.files), (2, 2, 1));
    assert_eq!(std::fs::read(run_dir.join("files/artifacts/d/f.txt")).unwrap(), b"body");
    let (_, w) = mlflow::import_run(&runs[0], &root, None, None).unwrap();
    assert_eq!((w.rows, w.points, w.files), (0, 0, 0));
    append(&run.join("metrics/loss"), &[b"3000 0.125 2\n".to_vec()]);
    let (_, w) = mlflow::import_run(&runs[0], &root, None, None).unwrap();
    assert_eq!((w.rows, w.points), (1, 1));
    let rec = records(&run_dir);
    match &rec[0] {
        Record::Run(r) => assert_eq!((r.run_id.as_str(), r.project.as_deref()), ("abc123", Some("exp"))),
        other => panic!("first record {other:?}"),
    }
}

#[test]
fn mlflow_sqlite_store_import_is_incremental() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mlflow.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE experiments (experiment_id INTEGER, name TEXT, lifecycle_stage TEXT);
         CREATE TABLE runs (run_uuid TEXT, name TEXT, status TEXT, start_time INTEGER,
            end_time INTEGER, lifecycle_stage TEXT, artifact_uri TEXT, experiment_id INTEGER);
         CREATE TABLE params (key TEXT, value TEXT, run_uuid TEXT);
         CREATE TABLE tags (key TEXT, value TEXT, run_uuid TEXT);
         CREATE TABLE metrics (key TEXT, value REAL, timestamp INTEGER, run_uuid TEXT,
            step INTEGER, is_nan BOOLEAN);
         INSERT INTO experiments VALUES (1, 'exp', 'active'), (2, 'gone', 'deleted');
         INSERT INTO runs VALUES ('r1', 'one', 'FINISHED', 1000, 9000, 'active', 'art', 1),
                                 ('r2', 'two', 'FINISHED', 1000, 9000, 'active', NULL, 2);
         INSERT INTO params VALUES ('lr', '0.5', 'r1');
         INSERT INTO tags VALUES ('team', 'x', 'r1'), ('mlflow.user', 'me', 'r1');
         INSERT INTO metrics VALUES ('loss', 1.0, 1000, 'r1', 0, 0), ('loss', 0, 2000, 'r1', 1, 1),
                                    ('acc', 0.1, 1000, 'r1', 0, 0);",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("art/sub")).unwrap();
    std::fs::write(dir.path().join("art/sub/a.txt"), "A").unwrap();
    let store = mlflow::store(&format!("sqlite:///{}", db.display())).unwrap();
    let runs = mlflow::discover(&store).unwrap();
    assert_eq!(runs.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(), vec!["r1"]);
    let root = dir.path().join("trackway");
    let (run_dir, w) = mlflow::import_run(&runs[0], &root, None, None).unwrap();
    assert_eq!((w.rows, w.points, w.files), (2, 3, 1));
    let rows = history(&run_dir);
    assert_eq!(rows[0].1["loss"], Value::Float(1.0));
    assert!(matches!(rows[1].1["loss"], Value::Float(f) if f.is_nan()));
    let (_, w) = mlflow::import_run(&runs[0], &root, None, None).unwrap();
    assert_eq!((w.rows, w.points, w.files), (0, 0, 0));
    conn.execute("INSERT INTO metrics VALUES ('loss', 0.25, 3000, 'r1', 2, 0)", []).unwrap();
    let (_, w) = mlflow::import_run(&runs[0], &root, None, None).unwrap();
    assert_eq!((w.rows, w.points), (1, 1));
    let config = records(&run_dir).into_iter().find_map(|r| match r {
        Record::Config(c) => Some(c.data),
        _ => None,
    });
    assert_eq!(config.unwrap()["lr"], Value::Float(0.5));
}

#[test]
fn histograms_over_512_buckets_are_merged_exactly() {
    let limits: Vec<f64> = (1..=1000).map(f64::from).collect();
    let counts: Vec<f64> = vec![1.0; 1000];
    let h = crate::tensorboard::histogram(0.0, 1000.0, &limits, &counts);
    let m = h.as_map().unwrap();
    let (Value::List(bins), Value::List(values)) = (&m["bins"], &m["values"]) else { panic!("not lists") };
    assert_eq!(values.len(), 500);
    assert_eq!(bins.len(), 501);
    assert_eq!(values.iter().map(|v| v.as_f64().unwrap()).sum::<f64>(), 1000.0);
    assert_eq!((bins[0].clone(), bins[500].clone()), (Value::Float(0.0), Value::Float(1000.0)));
    assert_eq!(bins[1], Value::Float(2.0));
}
