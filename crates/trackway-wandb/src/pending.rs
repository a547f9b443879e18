//! Artifacts the wandb SDK is uploading, between `CreateArtifact` and `CommitArtifact`.
//!
//! wandb builds a version in several requests (create, file upload URLs, one `PUT` per file,
//! the manifest, commit), possibly from several processes (`wandb sync`) and across a server
//! restart. Until the commit there is nothing for the [`trackway_store::ArtifactStore`] to hold,
//! so the draft lives as small JSON files under `<data dir>/wandb-artifacts/`: `pending/<id>/`
//! holds the create request and one record per uploaded file (written by concurrent `PUT`s
//! without a lock: one file each), and after the commit `committed/<id>.json` names the stored
//! version, so the id the SDK keeps keeps working. The files' bytes are in the blob store from
//! their upload on.
//!
//! wandb names file contents by MD5 (base64) while Trackway's blob store uses SHA-256, so the
//! upload records both and [`Md5Index`] keeps the pairs: the manifest the SDK downloads carries
//! MD5s, and a file the SDK does not upload again (it was in an earlier version) is found by
//! its MD5.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::{Result, WandbError};

/// Drafts older than this are removed (the SDK's upload URLs are valid for a day).
const PENDING_TTL: Duration = Duration::from_secs(2 * 24 * 3600);
/// Prefix of the ids of drafts (and of versions committed from them).
const PENDING_PREFIX: &str = "wap-";

/// The create request of a draft.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub entity: String,
    pub project: String,
    pub run_id: Option<String>,
    pub name: String,
    pub kind: String,
    pub description: Option<String>,
    pub metadata: serde_json::Map<String, Json>,
    pub aliases: Vec<String>,
    pub tags: Vec<String>,
    /// wandb's digest of the manifest (returned by `CommitArtifact`).
    pub digest: String,
    pub client_id: Option<String>,
    /// Seconds to live from the commit (wandb's `ttlDurationSeconds`); drafts written before
    /// it was kept have none.
    #[serde(default)]
    pub ttl: Option<u64>,
}

/// One file uploaded for a draft (`path` "" is the manifest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Uploaded {
    pub path: String,
    pub sha256: String,
    pub size: u64,
    /// Base64 MD5, as wandb writes digests.
    pub md5: String,
}

/// A stored version, as an artifact id resolves to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRef {
    pub entity: String,
    pub project: String,
    pub name: String,
    pub version: u64,
}

/// Prefix of the ids of stored versions (the fields hex-encoded: ids are opaque to the SDK).
const VERSION_PREFIX: &str = "wav-";

impl VersionRef {
    /// The artifact id the SDK sees for this version.
    #[must_use]
    pub fn id(&self) -> String {
        let doc = serde_json::json!([self.entity, self.project, self.name, self.version]);
        format!("{VERSION_PREFIX}{}", hex::encode(doc.to_string()))
    }

    fn parse(id: &str) -> Option<VersionRef> {
        let bytes = hex::decode(id.strip_prefix(VERSION_PREFIX)?).ok()?;
        let (entity, project, name, version): (String, String, String, u64) = serde_json::from_slice(&bytes).ok()?;
        Some(VersionRef { entity, project, name, version })
    }
}

/// What an artifact id names.
#[derive(Debug, PartialEq)]
pub enum Resolved {
    Version(VersionRef),
    Draft(String, Box<Draft>),
}

/// The drafts directory.
#[derive(Debug)]
pub struct Drafts {
    dir: PathBuf,
    pub md5: Md5Index,
}

fn io(e: std::io::Error) -> WandbError {
    WandbError::Io(e.to_string())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    fs::rename(&tmp, path).map_err(io)
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match fs::read(path) {
        Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| WandbError::Io(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(e)),
    }
}

/// A file name for a client-chosen string (paths, client ids): its BLAKE3 hash.
fn hashed(s: &str) -> String {
    blake3::hash(s.as_bytes()).to_hex().to_string()
}

impl Drafts {
    /// Uses (creating) `dir`.
    ///
    /// # Errors
    /// When the directories cannot be created.
    pub fn open(dir: &Path) -> Result<Drafts> {
        for sub in ["pending", "committed", "client", "md5", "by-md5"] {
            fs::create_dir_all(dir.join(sub)).map_err(io)?;
        }
        Ok(Drafts { dir: dir.to_owned(), md5: Md5Index { dir: dir.to_owned() } })
    }

    /// The directory of a draft; `None` for a string that is not a draft id.
    fn pending_dir(&self, id: &str) -> Option<PathBuf> {
        let hex = id.strip_prefix(PENDING_PREFIX)?;
        (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| self.dir.join("pending").join(hex))
    }

    /// Stores a new draft and returns its id (after removing drafts nobody finished).
    ///
    /// # Errors
    /// File system errors.
    pub fn create(&self, draft: &Draft) -> Result<String> {
        self.prune();
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(|e| WandbError::Io(e.to_string()))?;
        let id = format!("{PENDING_PREFIX}{}", hex::encode(raw));
        let dir = self.pending_dir(&id).ok_or_else(|| WandbError::Io("draft id".into()))?;
        fs::create_dir_all(dir.join("files")).map_err(io)?;
        write_atomic(&dir.join("draft.json"), &serde_json::to_vec(draft).unwrap_or_default())?;
        if let Some(client) = &draft.client_id {
            write_atomic(&self.dir.join("client").join(hashed(client)), id.as_bytes())?;
        }
        Ok(id)
    }

    /// Removes drafts older than [`PENDING_TTL`] (a client that died before committing).
    fn prune(&self) {
        let Ok(entries) = fs::read_dir(self.dir.join("pending")) else { return };
        let cutoff = SystemTime::now().checked_sub(PENDING_TTL).unwrap_or(SystemTime::UNIX_EPOCH);
        for e in entries.flatten() {
            if e.metadata().and_then(|m| m.modified()).is_ok_and(|t| t < cutoff) {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }

    /// The draft with this id (`None`: no such draft, or it was committed).
    ///
    /// # Errors
    /// File system errors.
    pub fn draft(&self, id: &str) -> Result<Option<Draft>> {
        match self.pending_dir(id) {
            Some(dir) => read_json(&dir.join("draft.json")),
            None => Ok(None),
        }
    }

    /// Records an uploaded file of a draft.
    ///
    /// # Errors
    /// No such draft; file system errors.
    pub fn add_file(&self, id: &str, file: &Uploaded) -> Result<()> {
        let dir = self.pending_dir(id).filter(|d| d.join("draft.json").exists());
        let dir = dir.ok_or_else(|| WandbError::NotFound(format!("no artifact draft {id}")))?;
        let bytes = serde_json::to_vec(file).unwrap_or_default();
        write_atomic(&dir.join("files").join(hashed(&file.path)), &bytes)?;
        self.md5.remember(&file.sha256, &file.md5)
    }

    /// The files uploaded for a draft.
    ///
    /// # Errors
    /// File system errors.
    pub fn files(&self, id: &str) -> Result<Vec<Uploaded>> {
        let Some(dir) = self.pending_dir(id) else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        let Ok(entries) = fs::read_dir(dir.join("files")) else { return Ok(out) };
        for e in entries.flatten() {
            if e.path().extension().is_none() {
                out.extend(read_json::<Uploaded>(&e.path())?);
            }
        }
        Ok(out)
    }

    /// Marks a draft committed as `version`: its id now names that version.
    ///
    /// # Errors
    /// File system errors.
    pub fn committed(&self, id: &str, version: &VersionRef) -> Result<()> {
        let Some(dir) = self.pending_dir(id) else { return Ok(()) };
        let hex = &id[PENDING_PREFIX.len()..];
        write_atomic(
            &self.dir.join("committed").join(format!("{hex}.json")),
            &serde_json::to_vec(version).unwrap_or_default(),
        )?;
        fs::remove_dir_all(dir).map_err(io)
    }

    /// What an artifact id (a version's, a draft's, or a committed draft's) names.
    ///
    /// # Errors
    /// An unknown id; file system errors.
    pub fn resolve(&self, id: &str) -> Result<Resolved> {
        if let Some(v) = VersionRef::parse(id) {
            return Ok(Resolved::Version(v));
        }
        if let Some(hex) = id.strip_prefix(PENDING_PREFIX).filter(|_| self.pending_dir(id).is_some()) {
            if let Some(v) = read_json::<VersionRef>(&self.dir.join("committed").join(format!("{hex}.json")))? {
                return Ok(Resolved::Version(v));
            }
            if let Some(d) = self.draft(id)? {
                return Ok(Resolved::Draft(id.to_owned(), Box::new(d)));
            }
        }
        Err(WandbError::NotFound(format!("no artifact with id {id:?}")))
    }

    /// The draft id the SDK created under a client id (`ClientIDMapping`).
    #[must_use]
    pub fn by_client_id(&self, client_id: &str) -> Option<String> {
        fs::read_to_string(self.dir.join("client").join(hashed(client_id))).ok()
    }
}

/// SHA-256 ↔ MD5 of blobs the wandb protocol has seen (`md5/<sha256>`, `by-md5/<md5 hex>`).
#[derive(Debug)]
pub struct Md5Index {
    dir: PathBuf,
}

/// wandb's base64 MD5 as hex (a file name), `None` if it is not one.
#[must_use]
pub fn md5_hex(b64: &str) -> Option<String> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    (raw.len() == 16).then(|| hex::encode(raw))
}

/// An MD5 as wandb writes it (base64).
#[must_use]
pub fn md5_b64(raw: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(raw)
}

impl Md5Index {
    fn sha_ok(sha256: &str) -> bool {
        sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// Records that blob `sha256` has MD5 `md5` (base64).
    ///
    /// # Errors
    /// File system errors.
    pub fn remember(&self, sha256: &str, md5: &str) -> Result<()> {
        let Some(hex) = md5_hex(md5).filter(|_| Self::sha_ok(sha256)) else { return Ok(()) };
        write_atomic(&self.dir.join("md5").join(sha256), md5.as_bytes())?;
        write_atomic(&self.dir.join("by-md5").join(hex), sha256.as_bytes())
    }

    /// The MD5 (base64) of a blob, if known.
    #[must_use]
    pub fn md5_of(&self, sha256: &str) -> Option<String> {
        Self::sha_ok(sha256).then(|| fs::read_to_string(self.dir.join("md5").join(sha256)).ok()).flatten()
    }

    /// The blob with this MD5 (base64), if one was seen.
    #[must_use]
    pub fn sha_of(&self, md5: &str) -> Option<String> {
        fs::read_to_string(self.dir.join("by-md5").join(md5_hex(md5)?)).ok()
    }
}

/// A reader that computes the MD5 (wandb's digest) of what passes through it, for uploads
/// streamed into the blob store (which computes the SHA-256).
pub struct Md5Reader<R> {
    inner: R,
    hasher: md5::Md5,
}

impl<R: std::io::Read> Md5Reader<R> {
    pub fn new(inner: R) -> Self {
        use md5::Digest as _;
        Md5Reader { inner, hasher: md5::Md5::new() }
    }

    /// The MD5 (base64) of everything read.
    #[must_use]
    pub fn finish(self) -> String {
        use md5::Digest as _;
        md5_b64(self.hasher.finalize().as_slice())
    }
}

impl<R: std::io::Read> std::io::Read for Md5Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use md5::Digest as _;
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_keeps_its_files_and_its_id_names_the_committed_version() {
        let tmp = tempfile::tempdir().expect("tmp");
        let drafts = Drafts::open(tmp.path()).expect("open");
        let draft = Draft { entity: "e".into(), name: "data".into(), client_id: Some("c1".into()), ..Draft::default() };
        let id = drafts.create(&draft).expect("create");
        assert_eq!(drafts.by_client_id("c1").as_deref(), Some(id.as_str()));
        let md5 = md5_b64(&[1; 16]);
        let f = Uploaded { path: "a.txt".into(), sha256: "ab".repeat(32), size: 3, md5: md5.clone() };
        drafts.add_file(&id, &f).expect("add");
        drafts.add_file(&id, &f).expect("again: the same record");
        assert_eq!(drafts.files(&id).expect("files"), vec![f.clone()]);
        assert_eq!(drafts.md5.sha_of(&md5), Some(f.sha256.clone()));
        assert_eq!(drafts.md5.md5_of(&f.sha256), Some(md5));
        assert_eq!(drafts.resolve(&id).expect("draft"), Resolved::Draft(id.clone(), Box::new(draft)));
        let v = VersionRef { entity: "e".into(), project: "p".into(), name: "data".into(), version: 2 };
        drafts.committed(&id, &v).expect("commit");
        assert_eq!(drafts.resolve(&id).expect("version"), Resolved::Version(v.clone()));
        assert_eq!(drafts.resolve(&v.id()).expect("version id"), Resolved::Version(v));
        assert!(drafts.add_file(&id, &f).is_err(), "a committed draft takes no more files");
        assert!(drafts.resolve("wap-../../etc").is_err());
        assert!(drafts.resolve("nonsense").is_err());
    }

    #[test]
    fn the_md5_reader_gives_wandbs_digest() {
        let mut r = Md5Reader::new(&b"hello\n"[..]);
        std::io::copy(&mut r, &mut std::io::sink()).expect("read");
        // `md5sum` of "hello\n" is b1946ac92492d2347c6235b4d2611184.
        assert_eq!(md5_hex(&r.finish()).as_deref(), Some("b1946ac92492d2347c6235b4d2611184"));
    }
}
