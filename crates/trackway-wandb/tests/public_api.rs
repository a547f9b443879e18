//! `wandb.Api()`'s queries over runs logged through the filestream: the run in wandb's shape,
//! a filtered page of runs, history pages and samples, files. The real SDK runs the same
//! queries in tests/wandb/test_protocol_api.py.

use serde_json::{Value as Json, json};
use trackway_blob::MemBlobStore;
use trackway_store::{OpenOptions, Principal, RunKey, Storage};
use trackway_wandb::pending::Drafts;
use trackway_wandb::token::UrlSigner;
use trackway_wandb::{filestream, graphql};

struct Env {
    _dir: tempfile::TempDir,
    storage: Storage,
    drafts: Drafts,
    who: Principal,
}

impl Env {
    fn gql(&self, op: &str, query: &str, variables: Json) -> Json {
        let (blobs, signer) = (MemBlobStore::default(), UrlSigner::new([1; 32]));
        let ensure = |_: &str| Ok(());
        let ctx = graphql::Ctx {
            store: &*self.storage.metadata,
            history: &*self.storage.history,
            artifacts: &*self.storage.artifacts,
            blobs: &blobs,
            drafts: &self.drafts,
            who: &self.who,
            base_url: "http://t",
            signer: &signer,
            ensure_writable: &ensure,
        };
        let req = graphql::Request { query: query.into(), operation_name: Some(op.into()), variables: Some(variables) };
        graphql::execute(&ctx, &req).expect("graphql")["data"].clone()
    }
}

fn logged_env() -> Env {
    let dir = tempfile::tempdir().expect("tmp");
    let storage = Storage::open_sqlite(&dir.path().join("t.db"), OpenOptions::default()).expect("store");
    let who = storage.metadata.create_user("e", true).expect("user");
    let drafts = Drafts::open(&dir.path().join("d")).expect("drafts");
    let env = Env { _dir: dir, storage, drafts, who };
    for (run, lr) in [("r1", 0.1), ("r2", 0.2)] {
        let config = json!({"lr": {"value": lr}}).to_string();
        env.gql("UpsertBucket", "", json!({"name": run, "project": "p", "entity": "e", "config": config}));
        let rows: Vec<String> =
            (0..20).map(|i| json!({"_step": i, "loss": 1.0 / f64::from(i + 1)}).to_string()).collect();
        let body =
            json!({"files": {"wandb-history.jsonl": {"offset": 0, "content": rows}}, "complete": true, "exitcode": 0});
        let req: filestream::Request = serde_json::from_value(body).expect("request");
        let key = RunKey { entity: "e".into(), project: "p".into(), run_id: run.into() };
        filestream::apply(&*env.storage.metadata, &key, &req).expect("filestream");
    }
    env
}

#[test]
fn runs_history_and_files_answer_in_wandbs_shape() {
    let env = logged_env();
    let vars = |extra: Json| {
        let mut v = json!({"entity": "e", "project": "p", "name": "r1"});
        v.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
        v
    };
    let run = &env.gql("Run", "", vars(json!({})))["project"]["run"];
    assert_eq!((run["name"].as_str(), run["state"].as_str()), (Some("r1"), Some("finished")));
    let config: Json = serde_json::from_str(run["config"].as_str().expect("config string")).expect("json");
    assert_eq!(config["lr"]["value"], 0.1);
    assert_eq!(run["historyKeys"]["lastStep"], 19);
    assert!(run["projectId"].is_u64());

    let page =
        &env.gql("HistoryPage", "", vars(json!({"minStep": 5, "maxStep": 8, "pageSize": 100})))["project"]["run"];
    let steps: Vec<u64> = page["history"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            serde_json::from_str::<Json>(r.as_str().expect("row string")).expect("row")["_step"].as_u64().expect("step")
        })
        .collect();
    assert_eq!(steps, vec![5, 6, 7], "minStep inclusive, maxStep exclusive");
    let full =
        &env.gql("RunFullHistory", "history(samples: $samples)", vars(json!({"samples": 500})))["project"]["run"];
    assert_eq!(full["history"].as_array().map(Vec::len), Some(20));
    let spec = json!({"keys": ["_step", "loss"], "samples": 500}).to_string();
    let sampled = &env.gql("RunSampledHistory", "", vars(json!({"specs": [spec]})))["project"]["run"];
    assert_eq!(sampled["sampledHistory"][0].as_array().map(Vec::len), Some(20));

    let runs = env.gql(
        "Runs",
        "...LightweightRunFragment",
        json!({"entity": "e", "project": "p", "order": "+created_at",
        "filters": json!({"config.lr": 0.2}).to_string()}),
    );
    let names: Vec<&str> = runs["project"]["runs"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["name"].as_str())
        .collect();
    assert_eq!(names, vec!["r2"]);
    assert_eq!(runs["project"]["runCount"], 1);

    let missing = env.gql("Run", "", json!({"entity": "e", "project": "p", "name": "nope"}));
    assert!(missing["project"]["run"].is_null());
    let files = env.gql("RunFiles", "", vars(json!({})));
    assert_eq!(files["project"]["run"]["fileCount"], 0);
}
