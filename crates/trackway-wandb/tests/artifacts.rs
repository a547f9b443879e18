//! wandb's artifact operations, in the order the SDK sends them, into a real SQLite
//! `ArtifactStore`: create, file URLs, uploads, manifest, commit, then the read side (by name,
//! manifest in wandb's format, file URLs) and `UseArtifact`. The real SDK runs the same flow
//! in tests/wandb/test_protocol.py.

use serde_json::{Value as Json, json};
use trackway_blob::{BlobStore, MemBlobStore};
use trackway_store::{OpenOptions, Principal, RunKey, Storage};
use trackway_wandb::pending::{Drafts, Md5Reader, Uploaded};
use trackway_wandb::token::UrlSigner;
use trackway_wandb::{WandbError, artifacts, graphql};

struct Env {
    _dir: tempfile::TempDir,
    storage: Storage,
    blobs: MemBlobStore,
    drafts: Drafts,
    signer: UrlSigner,
    who: Principal,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().expect("tmp");
        let storage = Storage::open_sqlite(&dir.path().join("t.db"), OpenOptions::default()).expect("store");
        let who = storage.metadata.create_user("e", true).expect("user");
        let drafts = Drafts::open(&dir.path().join("drafts")).expect("drafts");
        Env { _dir: dir, storage, blobs: MemBlobStore::default(), drafts, signer: UrlSigner::new([5; 32]), who }
    }

    fn gql(&self, op: &str, variables: Json) -> Json {
        let ensure = |_: &str| Ok(());
        let ctx = graphql::Ctx {
            store: &*self.storage.metadata,
            history: &*self.storage.history,
            artifacts: &*self.storage.artifacts,
            blobs: &self.blobs,
            drafts: &self.drafts,
            who: &self.who,
            base_url: "http://t",
            signer: &self.signer,
            ensure_writable: &ensure,
        };
        let req =
            graphql::Request { query: String::new(), operation_name: Some(op.into()), variables: Some(variables) };
        match graphql::execute(&ctx, &req) {
            Ok(answer) => answer,
            // As the server answers a refused request: a GraphQL error.
            Err(WandbError::BadRequest(m) | WandbError::NotFound(m)) => graphql::error_answer(&m),
            Err(e) => panic!("{op}: {e}"),
        }
    }

    /// What the upload route does with a `PUT` to a draft's URL.
    fn upload(&self, id: &str, path: &str, bytes: &[u8]) -> String {
        let mut reader = Md5Reader::new(bytes);
        let put = self.blobs.put_reader(&mut reader).expect("put");
        let md5 = reader.finish();
        let file = Uploaded { path: path.into(), sha256: put.digest.as_str().into(), size: put.size, md5: md5.clone() };
        self.drafts.add_file(id, &file).expect("add");
        md5
    }

    fn upsert(&self, run: &str) {
        let answer = self.gql("UpsertBucket", json!({"name": run, "project": "p", "entity": "e"}));
        assert_eq!(answer["data"]["upsertBucket"]["bucket"]["name"], run);
    }

    /// One whole `log_artifact`; returns the draft id.
    fn log(&self, run: &str, files: &[(&str, &[u8])], manifest_md5: Option<&str>) -> (String, Json) {
        let input = json!({"entityName": "e", "projectName": "p", "runName": run, "artifactTypeName": "dataset",
            "artifactCollectionName": "data", "digest": "d1", "description": "some rows",
            "metadata": "{\"rows\": 2}", "aliases": [{"alias": "latest", "artifactCollectionName": "data"},
            {"alias": "best", "artifactCollectionName": "data"}], "clientID": format!("client-{run}")});
        let created = self.gql("CreateArtifact", json!({"input": input}));
        let id = created["data"]["createArtifact"]["artifact"]["id"].as_str().expect("id").to_owned();
        assert_eq!(created["data"]["createArtifact"]["artifact"]["state"], "PENDING");
        let specs: Vec<Json> = files.iter().map(|(p, _)| json!({"artifactID": id, "name": p, "md5": ""})).collect();
        let urls = self.gql("CreateArtifactFiles", json!({"input": {"storageLayout": "V2", "artifactFiles": specs}}));
        let edges = urls["data"]["createArtifactFiles"]["files"]["edges"].as_array().expect("edges").clone();
        assert_eq!(edges.len(), files.len());
        let mut contents = serde_json::Map::new();
        for ((path, bytes), edge) in files.iter().zip(&edges) {
            let url = edge["node"]["uploadUrl"].as_str().expect("url");
            assert!(url.starts_with(&format!("http://t/wandb/artifact-upload/{id}/files/{path}?expires=")), "{url}");
            let md5 = self.upload(&id, &format!("files/{path}"), bytes);
            contents.insert((*path).into(), json!({"digest": manifest_md5.unwrap_or(&md5), "size": bytes.len()}));
        }
        let m = self.gql("CreateArtifactManifest", json!({"artifactID": id, "name": "wandb_manifest.json",
            "digest": "d1", "entityName": "e", "projectName": "p", "runName": run, "manifestType": "FULL", "includeUpload": false}));
        assert!(m["data"]["createArtifactManifest"]["artifactManifest"]["file"].get("uploadUrl").is_none());
        let m = self
            .gql("UpdateArtifactManifest", json!({"artifactManifestID": id, "digest": "d1", "includeUpload": true}));
        assert!(m["data"]["updateArtifactManifest"]["artifactManifest"]["file"]["uploadUrl"].is_string());
        let doc = json!({"version": 1, "storagePolicy": "wandb-storage-policy-v1", "contents": contents});
        self.upload(&id, artifacts::MANIFEST_UPLOAD, doc.to_string().as_bytes());
        let committed = self.gql("CommitArtifact", json!({"artifactID": id}));
        (id, committed)
    }
}

#[test]
fn a_logged_artifact_is_a_stored_version_that_downloads_with_wandbs_digests() {
    let env = Env::new();
    env.upsert("r1");
    let (id, committed) = env.log("r1", &[("a.txt", b"hello\n"), ("dir/b.bin", &[0, 1, 2])], None);
    assert_eq!(committed["data"]["commitArtifact"]["artifact"]["id"], id.as_str(), "{committed}");
    let again = env.gql("CommitArtifact", json!({"artifactID": id}));
    assert_eq!(again["data"]["commitArtifact"]["artifact"]["id"], id.as_str(), "a retried commit is answered");

    let v = env.storage.artifacts.get_artifact_version("e", "p", "data", "latest").expect("stored");
    assert_eq!((v.version, v.kind.as_str(), v.file_count, v.size), (0, "dataset", 2, 9));
    assert_eq!(v.aliases, vec!["best".to_string(), "latest".to_string()]);
    assert_eq!(v.metadata["rows"], 2);
    assert_eq!(v.producer.as_ref().map(|p| p.run_id.as_str()), Some("r1"));

    let found = env.gql("ArtifactMembershipByName", json!({"entity": "e", "project": "p", "name": "data:best"}));
    let art = &found["data"]["project"]["artifactCollectionMembership"]["artifact"];
    assert_eq!((art["versionIndex"].as_u64(), art["fileCount"].as_u64()), (Some(0), Some(2)));
    assert_eq!(art["artifactType"]["name"], "dataset");
    let vid = art["id"].as_str().expect("id").to_owned();
    let by_draft = env.gql("ArtifactByID", json!({"id": id}));
    assert_eq!(by_draft["data"]["artifact"]["id"], vid.as_str(), "the draft id names the committed version");

    let manifest = artifacts::wandb_manifest(&*env.storage.artifacts, &env.drafts, &env.blobs, &vid).expect("manifest");
    // `md5sum` of "hello\n" is b1946ac92492d2347c6235b4d2611184, base64 sZRqySSS0jR8YjW00mERhA==.
    assert_eq!(manifest["contents"]["a.txt"], json!({"digest": "sZRqySSS0jR8YjW00mERhA==", "size": 6}));
    let urls = env.gql(
        "GetArtifactMembershipFileUrls",
        json!({"entity": "e", "project": "p", "collection": "data", "alias": "latest", "perPage": 1}),
    );
    let files = &urls["data"]["project"]["artifactCollection"]["artifactMembership"]["files"];
    assert_eq!(files["edges"].as_array().map(Vec::len), Some(1));
    assert_eq!(files["pageInfo"]["hasNextPage"], true);

    env.upsert("r2");
    env.gql(
        "UseArtifact",
        json!({"input": {"entityName": "e", "projectName": "p", "runName": "r2", "artifactID": vid}}),
    );
    let r2 = RunKey { entity: "e".into(), project: "p".into(), run_id: "r2".into() };
    let used = env.storage.artifacts.run_artifacts(&r2).expect("lineage").used;
    assert_eq!(used.iter().map(|u| u.version).collect::<Vec<_>>(), vec![0]);
}

#[test]
fn unchanged_content_adds_no_version_and_a_wrong_digest_is_refused() {
    let env = Env::new();
    env.upsert("r1");
    env.log("r1", &[("a.txt", b"one")], None);
    env.log("r1", &[("a.txt", b"one")], None);
    assert_eq!(env.storage.artifacts.list_artifact_versions("e", "p", "data").expect("list").len(), 1);
    let (_, refused) = env.log("r1", &[("a.txt", b"two")], Some("AAAAAAAAAAAAAAAAAAAAAA=="));
    assert!(refused["errors"][0]["message"].as_str().is_some_and(|m| m.contains("MD5")), "{refused}");
    assert_eq!(env.storage.artifacts.list_artifact_versions("e", "p", "data").expect("list").len(), 1);
}
