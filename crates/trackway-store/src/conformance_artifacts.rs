//! The conformance suite every [`crate::ArtifactStore`] backend must pass (compiled for tests
//! and behind the `testsuite` feature). Expand [`artifact_store_conformance!`] with an
//! expression that makes a fresh, empty [`Storage`].

use serde_json::json;

use crate::artifacts::{CommitArtifact, ManifestEntry};
use crate::{CreateRun, MetadataStore, Result, RunKey, Storage, StoreError};

/// Expands the whole suite as `#[test]` functions; `$make` builds a fresh storage.
#[macro_export]
macro_rules! artifact_store_conformance {
    ($make:expr) => {
        $crate::artifact_store_conformance!(@cases $make;
            versions_only_when_content_changes, aliases_move_atomically, lineage_and_run_artifacts,
            delete_frees_unreferenced_blobs, bad_names_are_refused, deleting_a_run_keeps_its_artifacts, expired_versions_are_deleted);
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                let store = $make;
                $crate::conformance_artifacts::$case(&*store).expect(stringify!($case));
            }
        )*
    };
}

fn key(run: &str) -> RunKey {
    RunKey { entity: "alice".into(), project: "p".into(), run_id: run.into() }
}

fn setup(s: &dyn MetadataStore, runs: &[&str]) -> Result<()> {
    s.create_user("alice", false)?;
    for r in runs {
        s.create_or_resume(&CreateRun { key: Some(key(r)), ..CreateRun::default() })?;
    }
    Ok(())
}

fn blob(path: &str, byte: char, size: u64) -> ManifestEntry {
    ManifestEntry {
        path: path.into(),
        sha256: Some(byte.to_string().repeat(64)),
        size,
        reference: None,
        ref_digest: None,
    }
}

fn commit(name: &str, run: Option<&str>, entries: Vec<ManifestEntry>, aliases: &[&str]) -> CommitArtifact {
    CommitArtifact {
        entity: "alice".into(),
        project: "p".into(),
        run_id: run.map(str::to_owned),
        name: name.into(),
        kind: "model".into(),
        description: Some("d".into()),
        metadata: json!({"epochs": 3}).as_object().cloned().unwrap_or_default(),
        entries,
        aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        tags: vec![],
        ttl: None,
    }
}

pub fn versions_only_when_content_changes(st: &Storage) -> Result<()> {
    setup(&*st.metadata, &["r1"])?;
    let a = &*st.artifacts;
    let first = a.commit_artifact(&commit("m", Some("r1"), vec![blob("a", 'a', 1), blob("b", 'b', 2)], &[]))?;
    assert!(first.created);
    assert_eq!((first.artifact.version, first.artifact.size, first.artifact.file_count), (0, 3, 2));
    assert_eq!(first.artifact.aliases, ["latest"]);
    // The same files in another order: the same digest, no new version.
    let again = a.commit_artifact(&commit("m", Some("r1"), vec![blob("b", 'b', 2), blob("a", 'a', 1)], &[]))?;
    assert!(!again.created);
    assert_eq!((again.artifact.version, &again.artifact.digest), (0, &first.artifact.digest));
    let changed = a.commit_artifact(&commit("m", Some("r1"), vec![blob("a", 'a', 1), blob("b", 'c', 2)], &[]))?;
    assert_eq!((changed.created, changed.artifact.version), (true, 1));
    assert_eq!(a.get_artifact_version("alice", "p", "m", "latest")?.version, 1);
    let v0 = a.get_artifact_version("alice", "p", "m", "v0")?;
    assert_eq!(v0.entries.as_deref().map(<[_]>::len), Some(2));
    assert_eq!(v0.metadata, json!({"epochs": 3}));
    assert_eq!(a.list_artifact_versions("alice", "p", "m")?.iter().map(|v| v.version).collect::<Vec<_>>(), [1, 0]);
    let colls = a.list_artifact_collections("alice", "p", Some("model"))?;
    assert_eq!((colls.len(), colls[0].versions, colls[0].latest), (1, 2, Some(1)));
    assert!(a.list_artifact_collections("alice", "p", Some("dataset"))?.is_empty());
    assert!(matches!(a.get_artifact_version("alice", "p", "m", "v9"), Err(StoreError::NotFound(_))));
    Ok(())
}

pub fn aliases_move_atomically(st: &Storage) -> Result<()> {
    setup(&*st.metadata, &["r1"])?;
    let a = &*st.artifacts;
    a.commit_artifact(&commit("m", None, vec![blob("a", 'a', 1)], &["best"]))?;
    let v1 = a.commit_artifact(&commit("m", None, vec![blob("a", 'b', 1)], &["epoch_2"]))?;
    assert_eq!(v1.artifact.aliases, ["epoch_2", "latest"]);
    assert_eq!(a.get_artifact_version("alice", "p", "m", "best")?.version, 0);
    let moved = a.update_artifact_aliases("alice", "p", "m", 1, &["best".into()], &[])?;
    assert_eq!(moved.aliases, ["best", "epoch_2", "latest"]);
    assert!(a.get_artifact_version("alice", "p", "m", "v0")?.aliases.is_empty());
    // Re-committing v0's content moves the aliases given, not `latest`.
    let back = a.commit_artifact(&commit("m", None, vec![blob("a", 'a', 1)], &["best"]))?;
    assert_eq!(
        (back.created, back.artifact.version, back.artifact.aliases.clone()),
        (false, 0, vec!["best".to_owned()])
    );
    let removed = a.update_artifact_aliases("alice", "p", "m", 1, &[], &["epoch_2".into(), "latest".into()])?;
    assert_eq!(removed.aliases, ["latest"], "latest is never removed by hand");
    // A bad alias refuses the whole update.
    assert!(a.update_artifact_aliases("alice", "p", "m", 1, &["ok".into(), "bad:alias".into()], &[]).is_err());
    assert!(a.get_artifact_version("alice", "p", "m", "ok").is_err());
    Ok(())
}

pub fn lineage_and_run_artifacts(st: &Storage) -> Result<()> {
    setup(&*st.metadata, &["producer", "consumer"])?;
    let a = &*st.artifacts;
    a.commit_artifact(&commit("data", Some("producer"), vec![blob("x", 'a', 1)], &[]))?;
    a.use_artifact(&key("consumer"), "alice", "p", "data", 0)?;
    a.use_artifact(&key("consumer"), "alice", "p", "data", 0)?;
    let v = a.get_artifact_version("alice", "p", "data", "latest")?;
    assert_eq!(v.producer.map(|r| r.run_id), Some("producer".to_owned()));
    assert_eq!(v.consumers.unwrap_or_default().iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(), ["consumer"]);
    let produced = a.run_artifacts(&key("producer"))?;
    assert_eq!((produced.logged.len(), produced.used.len()), (1, 0));
    let consumed = a.run_artifacts(&key("consumer"))?;
    assert_eq!((consumed.logged.len(), consumed.used.len()), (0, 1));
    assert!(matches!(a.run_artifacts(&key("nobody")), Err(StoreError::RunNotFound(_))));
    assert!(matches!(a.commit_artifact(&commit("data", Some("nobody"), vec![], &[])), Err(StoreError::RunNotFound(_))));
    Ok(())
}

pub fn delete_frees_unreferenced_blobs(st: &Storage) -> Result<()> {
    setup(&*st.metadata, &["r1"])?;
    let a = &*st.artifacts;
    a.commit_artifact(&commit("m", None, vec![blob("shared", 'a', 1), blob("only0", 'b', 1)], &[]))?;
    a.commit_artifact(&commit("m", None, vec![blob("shared", 'a', 1), blob("only1", 'c', 1)], &[]))?;
    let freed = a.delete_artifact_version("alice", "p", "m", 1)?;
    assert_eq!(freed, ["c".repeat(64)], "the shared blob stays");
    assert_eq!(a.get_artifact_version("alice", "p", "m", "latest")?.version, 0, "latest moves back");
    assert!(a.project_references_blob("alice", "p", &"a".repeat(64))?);
    assert!(!a.project_references_blob("alice", "p", &"c".repeat(64))?);
    let next = a.commit_artifact(&commit("m", None, vec![blob("new", 'd', 1)], &[]))?;
    assert_eq!(next.artifact.version, 2, "version numbers are never reused");
    Ok(())
}

pub fn bad_names_are_refused(st: &Storage) -> Result<()> {
    setup(&*st.metadata, &[])?;
    let a = &*st.artifacts;
    for name in ["", "a/b", "a:b", "has space"] {
        assert!(matches!(a.commit_artifact(&commit(name, None, vec![], &[])), Err(StoreError::Invalid(_))), "{name}");
    }
    assert!(matches!(a.commit_artifact(&commit("m", None, vec![], &["v3"])), Err(StoreError::Invalid(_))));
    assert!(matches!(
        a.commit_artifact(&commit("m", None, vec![blob("../x", 'a', 1)], &[])),
        Err(StoreError::Invalid(_))
    ));
    let twice = vec![blob("x", 'a', 1), blob("x", 'b', 1)];
    assert!(matches!(a.commit_artifact(&commit("m", None, twice, &[])), Err(StoreError::Invalid(_))));
    let mut other_type = commit("m", None, vec![blob("x", 'a', 1)], &[]);
    a.commit_artifact(&other_type)?;
    other_type.kind = "dataset".into();
    assert!(matches!(a.commit_artifact(&other_type), Err(StoreError::Invalid(_))));
    Ok(())
}

/// Deleting the run that produced or used a version keeps the version and its files; only the
/// lineage edges to that run go.
pub fn deleting_a_run_keeps_its_artifacts(st: &Storage) -> Result<()> {
    setup(&*st.metadata, &["producer", "consumer"])?;
    let a = &*st.artifacts;
    a.commit_artifact(&commit("data", Some("producer"), vec![blob("x", 'a', 1)], &[]))?;
    a.use_artifact(&key("consumer"), "alice", "p", "data", 0)?;
    // The producer also saved the artifact's bytes as a run file: the blob is shared.
    let sha = blob("x", 'a', 1).sha256.unwrap_or_default();
    st.metadata.put_run_file(&key("producer"), "model.bin", &sha, 1)?;
    let freed = st.metadata.delete_run(&key("producer"))?;
    assert!(freed.is_empty(), "a blob an artifact entry names is not freed with the run: {freed:?}");
    st.metadata.delete_run(&key("consumer"))?;
    let v = a.get_artifact_version("alice", "p", "data", "v0")?;
    assert!(v.producer.is_none(), "the producer edge went with the run");
    assert!(v.consumers.unwrap_or_default().is_empty(), "so did the consumer edge");
    assert!(a.project_references_blob("alice", "p", &sha)?, "the files stay");
    Ok(())
}

pub fn expired_versions_are_deleted(st: &Storage) -> Result<()> {
    setup(&*st.metadata, &["r1"])?;
    let a = &*st.artifacts;
    let mut short = commit("m", Some("r1"), vec![blob("a", 'a', 1), blob("s", 'e', 1)], &["best"]);
    short.ttl = Some(60);
    let v0 = a.commit_artifact(&short)?.artifact;
    assert_eq!(v0.expires_at, Some(v0.created_at + 60.0));
    let v1 = a.commit_artifact(&commit("m", Some("r1"), vec![blob("a", 'a', 1)], &[]))?.artifact;
    assert_eq!(v1.expires_at, None);
    // Nothing is due before the expiry.
    assert!(a.expire_artifact_versions(v0.created_at + 59.0)?.is_empty());
    assert_eq!(a.list_artifact_versions("alice", "p", "m")?.len(), 2);
    // A TTL set later counts from the creation too; clearing it keeps the version for good.
    let v1 = a.set_artifact_ttl("alice", "p", "m", 1, Some(3600))?;
    assert_eq!(v1.expires_at, Some(v1.created_at + 3600.0));
    assert_eq!(a.set_artifact_ttl("alice", "p", "m", 1, None)?.expires_at, None);
    // Past the expiry: v0 goes, its blob only it listed is freed, the shared one stays.
    assert_eq!(a.expire_artifact_versions(v0.created_at + 61.0)?, vec!["e".repeat(64)]);
    let left = a.list_artifact_versions("alice", "p", "m")?;
    assert_eq!(left.iter().map(|v| v.version).collect::<Vec<_>>(), [1]);
    assert_eq!(left[0].aliases, ["latest"]);
    assert!(matches!(a.get_artifact_version("alice", "p", "m", "best"), Err(StoreError::NotFound(_))));
    assert!(matches!(a.set_artifact_ttl("alice", "p", "m", 0, Some(1)), Err(StoreError::NotFound(_))));
    Ok(())
}
