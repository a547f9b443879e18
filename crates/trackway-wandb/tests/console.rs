//! Console lines redrawn in place: wandb's filestream resends a line at its old offset when a
//! `\r` progress bar rewrites it after it was sent (wandb's own system tests expect the server
//! to keep the redrawn text). New lines in the same request still append; a retry changes
//! nothing.

use trackway_store::{CreateRun, MetadataStore, OpenOptions, OutputQuery, RunKey, Storage};
use trackway_wandb::filestream;

fn request(offset: u64, lines: &[&str]) -> filestream::Request {
    let content: Vec<String> = lines.iter().map(|l| format!("2026-12-03T12:00:00.000000 {l}")).collect();
    serde_json::from_value(serde_json::json!({"files": {"output.log": {"offset": offset, "content": content}}}))
        .expect("request")
}

fn texts(store: &dyn MetadataStore, key: &RunKey) -> Vec<(u64, String)> {
    let lines = store.run_output(key, &OutputQuery { limit: 100, ..OutputQuery::default() }).expect("output");
    lines.into_iter().map(|l| (l.line, l.text)).collect()
}

#[test]
fn a_redrawn_console_line_replaces_the_stored_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let storage = Storage::open_sqlite(&dir.path().join("t.db"), OpenOptions::default()).expect("store");
    let store = &*storage.metadata;
    store.create_user("e", true).expect("user");
    let key = RunKey { entity: "e".into(), project: "p".into(), run_id: "r1".into() };
    store.create_or_resume(&CreateRun { key: Some(key.clone()), ..CreateRun::default() }).expect("run");

    filestream::apply(store, &key, &request(0, &["epoch 1", "progress 10%"])).expect("first");
    filestream::apply(store, &key, &request(1, &["progress 100%", "epoch 2"])).expect("redraw");
    let want = vec![(0, "epoch 1".into()), (1, "progress 100%".into()), (2, "epoch 2".into())];
    assert_eq!(texts(store, &key), want);
    filestream::apply(store, &key, &request(1, &["progress 100%", "epoch 2"])).expect("retry");
    assert_eq!(texts(store, &key), want, "a retried request changes nothing");
}
