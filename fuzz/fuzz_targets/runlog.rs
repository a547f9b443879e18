//! The run-log reader: any bytes in `run.jsonl` read as complete lines in order (each record
//! parsed or reported corrupt), never past the end, and replay into a run state without panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trackway_runlog::LogReader;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("run.jsonl");
    std::fs::write(&log, data).expect("write log");
    let mut reader = LogReader::open(&log, 0).expect("open");
    let entries = reader.read_all().expect("read");
    let mut at = 0;
    for e in &entries {
        assert_eq!(e.offset, at, "lines are contiguous");
        assert!(e.end > e.offset && e.end <= data.len() as u64, "a line ends inside the file");
        assert_eq!(data[e.end as usize - 1], b'\n', "a complete line ends with a newline");
        at = e.end;
    }
    assert_eq!(reader.offset(), at, "the reader stops after the last complete line");
    let _ = trackway_runlog::load_run_state(dir.path());
});
