//! wandb's "Stop run": a stop requested on a Trackway run reaches the SDK through the
//! filestream's answer (`stopped`, what wandb-core 0.30/0.31 poll) and through
//! `RunStoppedStatus` (older SDKs); the finish that follows makes the run `killed`. The real SDK
//! is stopped in tests/wandb/test_protocol_stop.py.

use serde_json::{Value as Json, json};
use trackway_blob::MemBlobStore;
use trackway_store::{OpenOptions, RunKey, Storage};
use trackway_wandb::pending::Drafts;
use trackway_wandb::token::UrlSigner;
use trackway_wandb::{filestream, graphql};

fn stopped_status(storage: &Storage, drafts: &Drafts, who: &trackway_store::Principal) -> Json {
    let (blobs, signer) = (MemBlobStore::default(), UrlSigner::new([1; 32]));
    let ensure = |_: &str| Ok(());
    let ctx = graphql::Ctx {
        store: &*storage.metadata,
        history: &*storage.history,
        artifacts: &*storage.artifacts,
        blobs: &blobs,
        drafts,
        who,
        base_url: "http://t",
        signer: &signer,
        ensure_writable: &ensure,
    };
    let vars = json!({"entityName": "e", "projectName": "p", "runId": "r1"});
    let req = graphql::Request {
        query: String::new(),
        operation_name: Some("RunStoppedStatus".into()),
        variables: Some(vars),
    };
    graphql::execute(&ctx, &req).expect("graphql")["data"]["project"]["run"]["stopped"].clone()
}

#[test]
fn a_stop_request_is_answered_until_the_run_ends_killed() {
    let dir = tempfile::tempdir().expect("tmp");
    let storage = Storage::open_sqlite(&dir.path().join("t.db"), OpenOptions::default()).expect("store");
    let drafts = Drafts::open(&dir.path().join("d")).expect("drafts");
    let who = storage.metadata.create_user("e", true).expect("user");
    let store = &*storage.metadata;
    let key = RunKey { entity: "e".into(), project: "p".into(), run_id: "r1".into() };
    store.create_or_resume(&trackway_store::CreateRun { key: Some(key.clone()), ..Default::default() }).expect("run");
    let rows = |offset: u64| -> filestream::Request {
        let content = vec![json!({"_step": offset, "x": 1}).to_string()];
        serde_json::from_value(json!({"files": {"wandb-history.jsonl": {"offset": offset, "content": content}}}))
            .expect("request")
    };

    filestream::apply(store, &key, &rows(0)).expect("rows");
    assert_eq!(filestream::answer(&store.get_run(&key).expect("run"))["stopped"], json!(false));
    assert_eq!(stopped_status(&storage, &drafts, &who), json!(false));

    store.request_stop(&key).expect("stop");
    filestream::apply(store, &key, &rows(1)).expect("rows");
    assert_eq!(filestream::answer(&store.get_run(&key).expect("run"))["stopped"], json!(true));
    assert_eq!(stopped_status(&storage, &drafts, &who), json!(true));

    let exit: filestream::Request = serde_json::from_value(json!({"complete": true, "exitcode": 255})).expect("exit");
    filestream::apply(store, &key, &exit).expect("exit");
    let run = store.get_run(&key).expect("run");
    assert_eq!((run.state.as_str(), run.exit_code), ("killed", Some(255)));
    assert_eq!(filestream::answer(&run)["stopped"], json!(false), "nothing left to stop");
}
