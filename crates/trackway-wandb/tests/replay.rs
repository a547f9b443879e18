//! Replays what the real SDK sent (tests/wandb/fixtures, recorded with
//! tests/wandb/capture_server.py) through the protocol layer into a real SQLite store, twice:
//! the second pass is the SDK retrying every request, and must change nothing.

use std::path::PathBuf;

use serde_json::Value as Json;
use trackway_blob::MemBlobStore;
use trackway_store::{OpenOptions, OutputQuery, Principal, RunKey, Storage};
use trackway_wandb::pending::Drafts;
use trackway_wandb::token::UrlSigner;
use trackway_wandb::{filestream, graphql};

fn fixture(version: &str) -> Vec<Json> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../tests/wandb/fixtures/wandb-{version}.jsonl"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    text.lines().map(|l| serde_json::from_str(l).expect("json line")).collect()
}

fn replay(storage: &Storage, drafts: &Drafts, who: &Principal, entries: &[Json]) {
    let store = &*storage.metadata;
    let blobs = MemBlobStore::default();
    let signer = UrlSigner::new([3; 32]);
    let ensure = |_: &str| Ok(());
    for e in entries {
        let path = e["path"].as_str().unwrap_or_default();
        if path == "/graphql" {
            let req = graphql::Request {
                query: String::new(),
                operation_name: e["op"].as_str().map(str::to_owned),
                variables: Some(e["variables"].clone()),
            };
            let ctx = graphql::Ctx {
                store,
                history: &*storage.history,
                artifacts: &*storage.artifacts,
                blobs: &blobs,
                drafts,
                who,
                base_url: "http://t",
                signer: &signer,
                ensure_writable: &ensure,
            };
            let answer = graphql::execute(&ctx, &req).expect("graphql");
            if req.operation_name.as_deref() == Some("UpsertBucket") {
                assert_eq!(answer["data"]["upsertBucket"]["bucket"]["project"]["entity"]["name"], "e");
            }
        } else if let Some(rest) = path.strip_prefix("/files/") {
            let parts: Vec<&str> = rest.split('/').collect();
            let key = RunKey { entity: parts[0].into(), project: parts[1].into(), run_id: parts[2].into() };
            let req: filestream::Request = serde_json::from_value(e["body"].clone()).expect("body");
            filestream::apply(store, &key, &req).expect("filestream");
        }
    }
}

fn check(version: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let storage = Storage::open_sqlite(&dir.path().join("t.db"), OpenOptions::default()).expect("store");
    let store = &*storage.metadata;
    let who = store.create_user("e", true).expect("user");
    let entries = fixture(version);
    let run_id = entries
        .iter()
        .find(|e| e["op"] == "UpsertBucket")
        .and_then(|e| e["variables"]["name"].as_str())
        .expect("run name")
        .to_owned();
    let key = RunKey { entity: "e".into(), project: "p".into(), run_id };
    let drafts = Drafts::open(&dir.path().join("drafts")).expect("drafts");
    replay(&storage, &drafts, &who, &entries);
    let first = store.get_run(&key).expect("run");
    replay(&storage, &drafts, &who, &entries); // every request again, as a retrying SDK would
    let run = store.get_run(&key).expect("run");
    assert_eq!(run.row_count, 7, "steps 0-4, 7, 8 ({version})");
    assert_eq!((run.row_count, run.last_step), (first.row_count, first.last_step));
    assert_eq!(run.state, "finished");
    assert_eq!(run.exit_code, Some(0));
    assert_eq!(run.config["lr"], 0.1);
    assert_eq!(run.config["bs"], 32);
    assert!(run.config.get("_wandb").is_none());
    assert_eq!(run.summary["acc"], serde_json::json!({"max": 0.4}));
    assert_eq!(run.summary["best"], 0.9);
    assert_eq!(run.summary["img"]["_type"], "image-file");
    let lines = store.run_output(&key, &OutputQuery { limit: 100, ..OutputQuery::default() }).expect("output");
    assert_eq!(lines.iter().filter(|l| l.text == "hello from stdout").count(), 1);
    assert_eq!(lines[0].stream, "out");
    assert!(lines[0].ts.is_some());
}

#[test]
fn sdk_0_31_0_requests_replay_into_one_run_and_retries_change_nothing() {
    check("0.31.0");
}

#[test]
fn sdk_0_30_0_requests_replay_into_one_run_and_retries_change_nothing() {
    check("0.30.0");
}
