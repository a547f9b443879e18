//! Runs the logic of `examples/train.rs` and reads the log back.

#[path = "../examples/train.rs"]
mod train;

use trackway_runlog::load_run_state;
use trackway_sdk::{Value, map};

#[test]
fn example_training_loop_reads_back() {
    let tmp = tempfile::tempdir().expect("tmp");
    let run_dir = train::train(tmp.path(), 3).expect("train");
    assert!(run_dir.starts_with(tmp.path().join("trackway")));
    let st = load_run_state(&run_dir).expect("state");
    assert!(st.finished);
    assert_eq!(st.exit_code, Some(0));
    assert_eq!(st.row_count, 31, "30 plain rows + the row the last eval opened");
    assert_eq!(st.config.get("optimizer"), Some(&Value::from("sgd")));
    assert_eq!(st.run.project.as_deref(), Some("rust-example"));
    let loss = (0..30).fold(2.0_f64, |l, _| l * 0.95);
    let expect_loss = map! { "min" => loss, "last" => loss };
    assert_eq!(st.summary.get("train/loss"), Some(&Value::Map(expect_loss)));
    assert_eq!(st.summary.get("note"), Some(&Value::from("done")));
    let acc = st.summary.get("eval/acc").and_then(Value::as_map).expect("eval agg");
    assert!(acc.contains_key("max"));
}

#[test]
fn disabled_mode_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut run = trackway_sdk::init(trackway_sdk::InitOptions {
        dir: Some(tmp.path().to_path_buf()),
        mode: Some("disabled".into()),
        ..Default::default()
    })
    .expect("init");
    run.log(map! {"x" => 1i64}).expect("log");
    run.finish(None).expect("finish");
    assert!(!tmp.path().join("trackway").exists());
}
