//! Writer/reader/state behaviour on real files: corruption, torn tails, concurrent appenders.

use std::io::Write;

use trackway_runlog::{LogReader, LogWriter, create_run_dir, load_run_state};
use trackway_types::{ConfigRecord, FinishRecord, HistoryRecord, Map, Record, RunRecord, SummaryRecord, Value};

fn run_record(id: &str) -> Record {
    Record::Run(RunRecord {
        v: 1,
        log_id: "0123456789abcdef".into(),
        run_id: id.into(),
        project: Some("p".into()),
        ..Default::default()
    })
}

fn hist(step: u64, key: &str, v: f64) -> Record {
    let mut data = Map::new();
    data.insert(key.into(), Value::Float(v));
    Record::History(HistoryRecord { step, ts: 1.0, rt: 0.5, data })
}

fn append_bytes(path: &std::path::Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).expect("open");
    f.write_all(bytes).expect("append");
}

#[test]
fn corrupt_line_in_the_middle_is_reported_and_skipped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = create_run_dir(tmp.path(), "r1").expect("dir");
    let mut w = LogWriter::open(&dir.log).expect("open");
    w.append(&run_record("r1")).expect("run");
    w.append(&hist(0, "a", 1.0)).expect("h0");
    drop(w);
    append_bytes(&dir.log, b"{not json\n[1,2]\n{\"x\":1}\n");
    let mut w = LogWriter::open(&dir.log).expect("reopen");
    w.append(&hist(1, "a", 2.0)).expect("h1");

    let entries = LogReader::open(&dir.log, 0).expect("reader").read_all().expect("read");
    let kinds: Vec<bool> = entries.iter().map(|e| e.record.is_ok()).collect();
    assert_eq!(kinds, vec![true, true, false, false, false, true]);
    let st = load_run_state(&dir.path).expect("state");
    assert_eq!(st.corrupt_lines, 3);
    assert_eq!(st.row_count, 2);
    assert_eq!(st.summary.get("a"), Some(&Value::Float(2.0)));
}

#[test]
fn torn_tail_is_incomplete_then_repaired_by_next_writer() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = create_run_dir(tmp.path(), "r2").expect("dir");
    let mut w = LogWriter::open(&dir.log).expect("open");
    w.append(&run_record("r2")).expect("run");
    drop(w);
    append_bytes(&dir.log, b"{\"t\":\"history\",\"step\":0,\"da");
    let len_before_tail = {
        let mut r = LogReader::open(&dir.log, 0).expect("reader");
        let all = r.read_all().expect("read");
        assert_eq!(all.len(), 1, "the torn line is not returned");
        r.offset()
    };
    let full_len = std::fs::metadata(&dir.log).expect("meta").len();
    assert!(len_before_tail < full_len);

    let mut w = LogWriter::open(&dir.log).expect("reopen repairs");
    w.append(&hist(0, "a", 1.0)).expect("h0");
    let mut r = LogReader::open(&dir.log, len_before_tail).expect("resume");
    let rest = r.read_all().expect("read");
    assert_eq!(rest.len(), 2);
    assert!(rest[0].record.is_err(), "the torn line became a corrupt line");
    assert_eq!(rest[0].offset, len_before_tail);
    assert!(matches!(rest[1].record, Ok(Record::History(_))));
}

#[test]
fn reader_resumes_as_lines_arrive_and_positions_are_stable() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = create_run_dir(tmp.path(), "r3").expect("dir");
    let mut w = LogWriter::open(&dir.log).expect("open");
    w.append(&run_record("r3")).expect("run");
    let mut r = LogReader::open(&dir.log, 0).expect("reader");
    let first = r.read_all().expect("read");
    assert_eq!(first.len(), 1);
    assert!(r.next_entry().expect("nothing new").is_none());

    // A second writer (another process in real life) appends to the same file.
    let mut w2 = LogWriter::open(&dir.log).expect("second writer");
    w.append(&hist(0, "a", 1.0)).expect("w1");
    w2.append(&hist(0, "b", 2.0)).expect("w2");
    append_bytes(&dir.log, b"{\"t\":\"history\",\"step\":1,");
    let more = r.read_all().expect("read more");
    assert_eq!(more.len(), 2);
    assert_eq!(more[0].offset, first[0].end);
    assert_eq!(more[1].offset, more[0].end);
    append_bytes(&dir.log, b"\"ts\":2.0,\"rt\":1.0,\"data\":{\"a\":3}}\n");
    let last = r.read_all().expect("tail completed");
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].offset, more[1].end);

    // Reading from scratch gives the same positions.
    let again = LogReader::open(&dir.log, 0).expect("reader").read_all().expect("read");
    let offs: Vec<u64> = again.iter().map(|e| e.offset).collect();
    assert_eq!(offs, vec![0, first[0].end, more[0].end, more[1].end]);
    // Merged row: consecutive same-step fragments are one row.
    let st = load_run_state(&dir.path).expect("state");
    assert_eq!((st.row_count, st.last_step), (2, Some(1)));
}

#[test]
fn state_replays_config_summary_and_finish() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = create_run_dir(tmp.path(), "r4").expect("dir");
    let mut w = LogWriter::open(&dir.log).expect("open");
    w.append(&run_record("r4")).expect("run");
    let mut data = Map::new();
    data.insert("lr".into(), Value::Float(0.1));
    data.insert("bs".into(), Value::Int(32));
    w.append(&Record::Config(ConfigRecord { data, remove: vec![] })).expect("config");
    w.append(&Record::Config(ConfigRecord { data: Map::new(), remove: vec!["bs".into()] })).expect("remove");
    w.append(&hist(5, "loss", 0.5)).expect("h");
    let mut set = Map::new();
    set.insert("best".into(), Value::Float(0.4));
    w.append(&Record::Summary(SummaryRecord { full: None, set, del: vec![] })).expect("sum");
    w.append(&Record::Finish(FinishRecord { exit_code: Some(3), ts: 2.0, rt: 1.0, crashed: false })).expect("finish");
    let st = load_run_state(&dir.path).expect("state");
    assert_eq!(st.config.keys().collect::<Vec<_>>(), vec!["lr"]);
    assert_eq!(st.summary.get("best"), Some(&Value::Float(0.4)));
    assert_eq!(st.summary.get("loss"), Some(&Value::Float(0.5)));
    assert_eq!(st.last_step, Some(5));
    assert!(st.finished);
    assert_eq!(st.exit_code, Some(3));
    assert_eq!(st.run.project.as_deref(), Some("p"));
}

#[test]
fn a_log_without_run_record_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = create_run_dir(tmp.path(), "r5").expect("dir");
    let mut w = LogWriter::open(&dir.log).expect("open");
    w.append(&hist(0, "a", 1.0)).expect("h");
    assert!(load_run_state(&dir.path).is_err());
}

#[test]
fn concurrent_appenders_never_interleave() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = create_run_dir(tmp.path(), "conc").expect("dir");
    LogWriter::open(&dir.log).expect("open").append(&run_record("conc")).expect("run");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let path = dir.log.clone();
            std::thread::spawn(move || {
                let mut w = LogWriter::open(&path).expect("open");
                for i in 0..500u64 {
                    // Lines of very different sizes, some far above a page.
                    let mut data = Map::new();
                    data.insert(format!("w{t}"), Value::Str("x".repeat((i as usize * 37) % 9000)));
                    w.append(&Record::History(HistoryRecord { step: i, ts: 1.0, rt: 1.0, data })).expect("append");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("join");
    }
    let entries = LogReader::open(&dir.log, 0).expect("reader").read_all().expect("read");
    assert_eq!(entries.len(), 1 + 4 * 500);
    assert!(entries.iter().all(|e| e.record.is_ok()), "a line was torn by another writer");
}
