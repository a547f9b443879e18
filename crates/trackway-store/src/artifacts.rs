//! Artifacts: named, typed, versioned sets of files (docs/artifacts.md).
//!
//! A version's content is its manifest: run-relative paths mapped to SHA-256 digests of blobs in
//! the blob store (or to references outside it). [`ArtifactStore::commit_artifact`] adds a
//! version only when the manifest digest ([`manifest_digest`]) differs from every version of the
//! same name, so re-logging identical content creates nothing; aliases (`latest` included) move
//! to the committed version in the same transaction. Blobs are shared by every version and
//! project that lists them; [`ArtifactStore::delete_artifact_version`] reports the digests no
//! longer referenced by anything, which the caller then removes from the blob store; a version
//! with a time to live is deleted the same way by [`ArtifactStore::expire_artifact_versions`].
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sha2::{Digest as _, Sha256};

use crate::{Result, RunKey, StoreError};

/// The alias that always names the newest version of an artifact.
pub const LATEST: &str = "latest";
/// Longest artifact name, type, alias or tag.
pub const MAX_NAME_LEN: usize = 128;

/// One file of a manifest: a blob (`sha256`) or a reference (`ref`, with an optional digest the
/// client computed, e.g. an ETag).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(deserialize_with = "whole_number")]
    pub size: u64,
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_digest: Option<String>,
}

/// A byte count written as an integer, or as a float with no fraction (`12.0`: JSON does not
/// tell them apart, and some clients write every number as a float).
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_u64()
        .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19).map(|f| f as u64))
        .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a byte count")))
}

/// What a client commits: one artifact version as logged by a run (or by `artifact put`).
#[derive(Clone, Debug, Default)]
pub struct CommitArtifact {
    pub entity: String,
    pub project: String,
    /// The producing run, when there is one (lineage).
    pub run_id: Option<String>,
    pub name: String,
    pub kind: String,
    pub description: Option<String>,
    pub metadata: serde_json::Map<String, Json>,
    pub entries: Vec<ManifestEntry>,
    /// Aliases to move to this version besides `latest`.
    pub aliases: Vec<String>,
    pub tags: Vec<String>,
    /// Seconds after its creation when the version expires (wandb's `Artifact.ttl`); `None`: never.
    pub ttl: Option<u64>,
}

/// A run as lineage shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRef {
    pub entity: String,
    pub project: String,
    pub run_id: String,
    pub name: Option<String>,
}

/// One stored version.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArtifactVersion {
    pub entity: String,
    pub project: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// 0, 1, ... per name (`v0`, `v1`, ...); never reused after a deletion.
    pub version: u64,
    pub digest: String,
    pub size: u64,
    pub file_count: u64,
    pub description: Option<String>,
    pub metadata: Json,
    pub aliases: Vec<String>,
    pub tags: Vec<String>,
    pub created_at: f64,
    /// When [`ArtifactStore::expire_artifact_versions`] deletes it (Unix seconds); `None`: never.
    pub expires_at: Option<f64>,
    pub producer: Option<RunRef>,
    /// Filled by `get_artifact_version` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumers: Option<Vec<RunRef>>,
    /// Filled by `get_artifact_version` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<ManifestEntry>>,
}

/// One name of a project with its newest version.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArtifactCollection {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub versions: u64,
    pub latest: Option<u64>,
    pub size: u64,
    pub updated_at: f64,
}

/// What a commit did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CommitOutcome {
    pub artifact: ArtifactVersion,
    /// False when a version with the same manifest digest already existed.
    pub created: bool,
}

/// The artifacts a run produced and consumed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunArtifacts {
    pub logged: Vec<ArtifactVersion>,
    pub used: Vec<ArtifactVersion>,
}

/// The artifact store. Implementations are `Send + Sync`; each method is one transaction.
pub trait ArtifactStore: Send + Sync + 'static {
    /// Commits a version (see the module docs). Every entry's blob must already be stored.
    fn commit_artifact(&self, req: &CommitArtifact) -> Result<CommitOutcome>;
    /// A version by `vN` or alias, with its entries and consumers.
    fn get_artifact_version(&self, entity: &str, project: &str, name: &str, selector: &str) -> Result<ArtifactVersion>;
    /// The names of a project (optionally of one type), sorted by type then name.
    fn list_artifact_collections(
        &self,
        entity: &str,
        project: &str,
        kind: Option<&str>,
    ) -> Result<Vec<ArtifactCollection>>;
    /// Every version of a name, newest first (no entries).
    fn list_artifact_versions(&self, entity: &str, project: &str, name: &str) -> Result<Vec<ArtifactVersion>>;
    /// Moves `aliases` to the version (atomically, all or none) and removes `remove` from it.
    fn update_artifact_aliases(
        &self,
        entity: &str,
        project: &str,
        name: &str,
        version: u64,
        add: &[String],
        remove: &[String],
    ) -> Result<ArtifactVersion>;
    /// Records that `run` consumed the version (idempotent).
    fn use_artifact(&self, run: &RunKey, entity: &str, project: &str, name: &str, version: u64) -> Result<()>;
    /// What a run logged and used.
    fn run_artifacts(&self, run: &RunKey) -> Result<RunArtifacts>;
    /// Deletes a version; returns the blob digests nothing references any more (no artifact
    /// entry, no run file). `latest` moves to the newest remaining version.
    fn delete_artifact_version(&self, entity: &str, project: &str, name: &str, version: u64) -> Result<Vec<String>>;
    /// Sets or clears (`None`) a version's time to live, counted from its creation.
    fn set_artifact_ttl(
        &self,
        entity: &str,
        project: &str,
        name: &str,
        version: u64,
        ttl: Option<u64>,
    ) -> Result<ArtifactVersion>;
    /// Deletes every version whose `expires_at` is at or before `now` (Unix seconds), as
    /// [`ArtifactStore::delete_artifact_version`] does; returns the blob digests nothing
    /// references any more.
    fn expire_artifact_versions(&self, now: f64) -> Result<Vec<String>>;
    /// Whether some version of the project lists the blob (the download access rule).
    fn project_references_blob(&self, entity: &str, project: &str, sha256: &str) -> Result<bool>;
}

/// The digest of a manifest: SHA-256 over `path \0 digest-or-ref \0 size \n` of each entry in
/// path order, so the same files under the same paths give the same digest whatever order
/// they were added in.
#[must_use]
pub fn manifest_digest(entries: &[ManifestEntry]) -> String {
    let mut sorted: Vec<&ManifestEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut h = Sha256::new();
    for e in sorted {
        let content = e.sha256.as_deref().or(e.ref_digest.as_deref()).or(e.reference.as_deref()).unwrap_or("");
        h.update(e.path.as_bytes());
        h.update([0]);
        h.update(content.as_bytes());
        h.update([0]);
        h.update(e.size.to_string().as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The accepted form of a name, type, alias or tag: 1-128 characters of letters, digits and
/// `-_.`, which keeps `entity/project/name:alias` unambiguous.
///
/// # Errors
/// `Invalid` naming the accepted form.
pub fn check_name(what: &str, s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= MAX_NAME_LEN
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "invalid artifact {what} {s:?}: use 1-{MAX_NAME_LEN} letters, digits, '-', '_' or '.'"
        )))
    }
}

/// When a version created at `created_at` with `ttl` expires.
#[must_use]
pub fn expiry(created_at: f64, ttl: Option<u64>) -> Option<f64> {
    ttl.map(|t| created_at + t as f64)
}

/// Validates a commit's names and entries (paths by the run-file rule, digests as hex).
///
/// # Errors
/// `Invalid` with the first problem found.
pub fn check_commit(req: &CommitArtifact) -> Result<()> {
    check_name("name", &req.name)?;
    check_name("type", &req.kind)?;
    for a in req.aliases.iter().chain(&req.tags) {
        check_name("alias or tag", a)?;
    }
    if req.aliases.iter().any(|a| is_version_label(a)) {
        return Err(StoreError::Invalid("aliases of the form vN are reserved for versions".into()));
    }
    let mut seen = std::collections::HashSet::new();
    for e in &req.entries {
        trackway_types::validate_rel_path(&e.path).map_err(|err| StoreError::Invalid(err.to_string()))?;
        if !seen.insert(e.path.as_str()) {
            return Err(StoreError::Invalid(format!("the manifest lists {} twice", e.path)));
        }
        match (&e.sha256, &e.reference) {
            (Some(s), None) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {}
            (None, Some(r)) if !r.is_empty() => {}
            _ => return Err(StoreError::Invalid(format!("entry {}: give a sha256 (64 hex) or a ref", e.path))),
        }
    }
    Ok(())
}

/// `v0`, `v12`, ...: the version a selector names, if it names one.
#[must_use]
pub fn parse_version_label(s: &str) -> Option<u64> {
    s.strip_prefix('v').filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))?.parse().ok()
}

fn is_version_label(s: &str) -> bool {
    parse_version_label(s).is_some()
}
