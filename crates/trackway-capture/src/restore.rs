//! `trackway restore` and `trackway pull`: bring a run's code, config and files back.
//!
//! A [`RunSource`] is where the run lives: a local run directory ([`LocalRunSource`]) or the
//! server ([`HttpRunSource`], over `GET /api/v1/runs/{e}/{p}/{id}` and the file routes proposed
//! in docs/capture.md). [`restore`] checks the target repository out at the run's commit on a
//! new branch `trackway/<run_id>`, applies `diff.patch` with `git apply` (all or nothing), and
//! writes the run's config; [`pull`] downloads the run's files, skipping identical ones.
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::CaptureError;
use crate::code::{DIFF_FILE, METADATA_FILE, write_atomic};
use crate::git::{git, git_ok};
use crate::paths::validate_rel_path;

/// Restore failures, each with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(
        "run {0} has no git commit recorded (code capture was disabled, or the program was not in a git repository); use --no-git to restore only its config and files"
    )]
    NoCommit(String),
    #[error("{0} is not inside a git repository; run restore from a clone of the run's repository")]
    NotARepo(PathBuf),
    #[error("the repository at {repo} has uncommitted changes to tracked files; commit or stash them first")]
    DirtyRepo { repo: PathBuf },
    #[error(
        "commit {commit} is not in the repository at {repo} (the repository differs from the run's{hint}); fetch it first, e.g. `git fetch --all`"
    )]
    CommitMissing { commit: String, repo: PathBuf, hint: String },
    #[error("branch {0} already exists; delete it (`git branch -D {0}`) or restore with --no-branch")]
    BranchExists(String),
    #[error(
        "checked out {commit} on {branch}, but the run's diff.patch does not apply cleanly (nothing was changed by it); git says:\n{details}\nThe patch is at {patch}; `git apply --reject {patch}` applies what it can"
    )]
    PatchConflict { commit: String, branch: String, details: String, patch: PathBuf },
    #[error("server request {url} failed: {status} {message}")]
    Http { url: String, status: u16, message: String },
    #[error("cannot reach the server at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("{0}")]
    Source(String),
    #[error("refusing to write {path}: it {reason}")]
    UnsafePath { path: PathBuf, reason: String },
    #[error("the run's diff.patch creates a symlink {link} -> {target}: {reason}; nothing was applied")]
    UnsafePatch { link: String, target: String, reason: String },
    #[error("run file {path} does not match the listing (expected {expected}, got {got}); it was not written")]
    Checksum { path: String, expected: String, got: String },
}

/// One run file as listed by a source.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct RunFile {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// Where a run's files and attributes come from.
pub trait RunSource {
    fn run_id(&self) -> &str;
    /// The run's config (top-level keys, Trackway JSON values).
    fn config(&self) -> Result<Map<String, Value>, CaptureError>;
    /// The run's metadata document (`trackway-metadata.json`), empty object when there is none.
    fn metadata(&self) -> Result<Value, CaptureError>;
    fn list_files(&self) -> Result<Vec<RunFile>, CaptureError>;
    /// A small file (the patch, the metadata), whole; larger ones are an error, never cut.
    fn read_file(&self, path: &str) -> Result<Vec<u8>, CaptureError>;
    /// Streams a run file of any size into `out`.
    fn download(&self, path: &str, out: &mut dyn std::io::Write) -> Result<u64, CaptureError>;
}

mod http;
mod local;
mod patch_check;
mod safe;
pub use http::HttpRunSource;
pub use local::LocalRunSource;

#[derive(Clone, Debug)]
pub struct RestoreOptions {
    /// Check out on a new branch `trackway/<run_id>` (false: detached HEAD).
    pub branch: bool,
    /// False (`--no-git`): only config and files.
    pub git: bool,
    /// Where config.yaml goes; default `<repo root>/trackway/config.yaml`.
    pub config_out: Option<PathBuf>,
    /// Download the run's files there (None: don't).
    pub files_out: Option<PathBuf>,
}

impl Default for RestoreOptions {
    fn default() -> Self {
        RestoreOptions { branch: true, git: true, config_out: None, files_out: None }
    }
}

#[derive(Clone, Debug, Default)]
pub struct RestoreReport {
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub patch_applied: bool,
    pub config_path: PathBuf,
    pub remote_url: Option<String>,
    pub pulled: Option<PullReport>,
}

/// Restores `src` into the repository containing `repo_dir`.
pub fn restore(src: &dyn RunSource, repo_dir: &Path, opts: &RestoreOptions) -> Result<RestoreReport, CaptureError> {
    let meta = src.metadata()?;
    let git_meta = meta.get("git").cloned().unwrap_or(Value::Null);
    let mut report = RestoreReport {
        remote_url: git_meta.get("remote_url").and_then(Value::as_str).map(String::from),
        ..RestoreReport::default()
    };
    let root = if opts.git {
        let commit = git_meta
            .get("commit")
            .and_then(Value::as_str)
            .ok_or_else(|| RestoreError::NoCommit(src.run_id().into()))?;
        let root = checkout(src.run_id(), repo_dir, commit, opts.branch, report.remote_url.as_deref())?;
        report.branch = opts.branch.then(|| format!("trackway/{}", src.run_id()));
        report.commit = Some(commit.to_string());
        report.patch_applied = apply_patch(src, &root, commit, report.branch.as_deref(), &write_areas(&root, opts))?;
        root
    } else {
        git_ok(repo_dir, &["rev-parse", "--show-toplevel"])
            .map(PathBuf::from)
            .unwrap_or_else(|_| repo_dir.to_path_buf())
    };
    let config_path = opts.config_out.clone().unwrap_or_else(|| root.join("trackway").join("config.yaml"));
    if let Some(dir) = config_path.parent() {
        safe_create(&root, dir)?;
    }
    write_atomic(&config_path, config_yaml(src.run_id(), &src.config()?).as_bytes())?;
    report.config_path = config_path;
    if let Some(dest) = &opts.files_out {
        safe_create(&root, dest)?;
        report.pulled = Some(pull(src, dest)?);
    }
    Ok(report)
}

/// Creates `dir`; below the repository root (where the patch may have put symlinks) one level
/// at a time, never through a symlink.
fn safe_create(root: &Path, dir: &Path) -> Result<(), CaptureError> {
    match dir.strip_prefix(root) {
        Ok(rel) => safe::ensure_dir_under(root, rel).map(drop),
        Err(_) => fs::create_dir_all(dir).map_err(|e| CaptureError::io(dir, e)),
    }
}

/// Directories under the repository root that restore writes to (relative to it).
fn write_areas(root: &Path, opts: &RestoreOptions) -> Vec<PathBuf> {
    let mut areas = vec![PathBuf::from("trackway")];
    let outs = [opts.files_out.as_deref(), opts.config_out.as_deref().and_then(Path::parent)];
    areas.extend(outs.into_iter().flatten().filter_map(|p| p.strip_prefix(root).ok()).map(Path::to_path_buf));
    areas.retain(|a| !a.as_os_str().is_empty());
    areas
}

/// Validates the repository and checks out `commit`; returns the repository root.
fn checkout(
    run_id: &str,
    repo_dir: &Path,
    commit: &str,
    branch: bool,
    remote: Option<&str>,
) -> Result<PathBuf, CaptureError> {
    let root = git_ok(repo_dir, &["rev-parse", "--show-toplevel"])
        .map_err(|_| RestoreError::NotARepo(repo_dir.to_path_buf()))?;
    let root = PathBuf::from(root);
    let status = git_ok(&root, &["status", "--porcelain", "--untracked-files=no"])?;
    if !status.is_empty() {
        return Err(RestoreError::DirtyRepo { repo: root }.into());
    }
    let has_commit = git(&root, &["cat-file", "-e", &format!("{commit}^{{commit}}")])?.status.success();
    if !has_commit {
        let hint = remote.map(|r| format!("; the run's remote was {r}")).unwrap_or_default();
        return Err(RestoreError::CommitMissing { commit: commit.into(), repo: root, hint }.into());
    }
    if branch {
        let name = format!("trackway/{run_id}");
        if git(&root, &["rev-parse", "--verify", "-q", &format!("refs/heads/{name}")])?.status.success() {
            return Err(RestoreError::BranchExists(name).into());
        }
        git_ok(&root, &["checkout", "-q", "-b", &name, commit])?;
    } else {
        git_ok(&root, &["checkout", "-q", "--detach", commit])?;
    }
    Ok(root)
}

/// Applies the run's diff.patch, if it has one: checked first, so it applies fully or not at all.
fn apply_patch(
    src: &dyn RunSource,
    root: &Path,
    commit: &str,
    branch: Option<&str>,
    protected: &[PathBuf],
) -> Result<bool, CaptureError> {
    let listed = src.list_files()?.into_iter().any(|f| f.path == DIFF_FILE);
    if !listed {
        return Ok(false);
    }
    let patch = src.read_file(DIFF_FILE)?;
    if patch.is_empty() {
        return Ok(false);
    }
    let git_dir = PathBuf::from(git_ok(root, &["rev-parse", "--absolute-git-dir"])?);
    let patch_path = git_dir.join(format!("trackway-{}.patch", &commit[..commit.len().min(12)]));
    fs::write(&patch_path, &patch).map_err(|e| CaptureError::io(&patch_path, e))?;
    let p = patch_path.to_string_lossy().to_string();
    let check = git(root, &["apply", "--check", "--binary", "--whitespace=nowarn", &p])?;
    if !check.status.success() {
        return Err(RestoreError::PatchConflict {
            commit: commit.into(),
            branch: branch.unwrap_or("a detached HEAD").into(),
            details: String::from_utf8_lossy(&check.stderr).trim().to_string(),
            patch: patch_path,
        }
        .into());
    }
    patch_check::check_patch_symlinks(root, &git_dir, &patch_path, protected)?;
    git_ok(root, &["apply", "--binary", "--whitespace=nowarn", &p])?;
    let _ = fs::remove_file(&patch_path);
    Ok(true)
}

/// The config as YAML in wandb's `config.yaml` shape (`key:\n  value: ...`). Values are written
/// as JSON, which is valid YAML, so no YAML library is needed and nothing is reinterpreted.
pub fn config_yaml(run_id: &str, config: &Map<String, Value>) -> String {
    let mut out = format!("# config of run {run_id}, restored by trackway\ntrackway_version: 1\n");
    for (k, v) in config {
        let key = serde_json::to_string(k).unwrap_or_else(|_| "\"?\"".into());
        out.push_str(&format!("{key}:\n  value: {v}\n"));
    }
    out
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullReport {
    pub downloaded: Vec<String>,
    /// Already present with identical content.
    pub unchanged: Vec<String>,
}

/// Downloads every run file into `dest/<path>`, skipping files whose content already matches.
/// Nothing is written outside `dest`: no symlink below it is followed, and each file is
/// verified against the listed size and sha256 before it replaces the old one.
pub fn pull(src: &dyn RunSource, dest: &Path) -> Result<PullReport, CaptureError> {
    fs::create_dir_all(dest).map_err(|e| CaptureError::io(dest, e))?;
    let mut report = PullReport::default();
    for f in src.list_files()? {
        let rel = validate_rel_path(&f.path)?; // a hostile listing cannot name `..` or `/abs`
        let (parent, name) = match rel.rsplit_once('/') {
            Some((p, n)) => (p, n),
            None => ("", rel.as_str()),
        };
        let dir = safe::ensure_dir_under(dest, Path::new(parent))?;
        if safe::is_current(&dir.join(name), &f) {
            report.unchanged.push(rel);
            continue;
        }
        safe::download_verified(src, &f, &rel, &dir, name)?;
        report.downloaded.push(rel);
    }
    Ok(report)
}

pub(crate) fn read_metadata_bytes(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|_| Value::Object(Map::new()))
}

pub(crate) const METADATA: &str = METADATA_FILE;
