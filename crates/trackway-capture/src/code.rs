//! What the agent writes into a new run's `files/` once: metadata, requirements, the git diff,
//! the untracked-file list and (with `save_code`) the main script.
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::CaptureError;
use crate::files::{FileRecord, Policy};
use crate::git::{GitState, diff_patch, untracked_files};
use crate::metadata::{Metadata, ProcessInfo, collect_metadata};
use crate::requirements::{installed_distributions, requirements_txt};
use crate::settings::CaptureSettings;

pub const METADATA_FILE: &str = "trackway-metadata.json";
pub const DIFF_FILE: &str = "diff.patch";
pub const UNTRACKED_FILE: &str = "untracked.txt";
pub const REQUIREMENTS_FILE: &str = "requirements.txt";
pub const CODE_DIR: &str = "code";

/// The result of [`capture_run`].
#[derive(Clone, Debug, Default)]
pub struct CaptureReport {
    pub metadata: Metadata,
    /// Files written under `files/`, each to upload once (policy `now`), ignore globs not yet
    /// applied (the uploader applies them).
    pub files: Vec<FileRecord>,
    /// True when an earlier capture of this run directory was found and reused.
    pub reused: bool,
}

/// Captures a run once. `run_record` is the first line of its `run.jsonl`, parsed; the
/// `process` record is looked up in the log (call when [`crate::capture_ready`]). A second
/// call (agent restart) reuses `files/trackway-metadata.json` and rewrites nothing, so the diff
/// stays the one taken when the run started.
pub fn capture_run(run_dir: &Path, run_record: &Value) -> Result<CaptureReport, CaptureError> {
    let files_dir = run_dir.join("files");
    let meta_path = files_dir.join(METADATA_FILE);
    if let Ok(text) = fs::read_to_string(&meta_path)
        && let Ok(metadata) = serde_json::from_str::<Metadata>(&text)
    {
        let files = existing_capture_files(&files_dir);
        return Ok(CaptureReport { metadata, files, reused: true });
    }
    let settings = CaptureSettings::from_settings(run_record.get("settings").and_then(Value::as_object));
    let process = ProcessInfo::from_records(run_record, crate::metadata::find_process_record(run_dir).as_ref());
    let metadata = collect_metadata(&process, &settings);
    fs::create_dir_all(&files_dir).map_err(|e| CaptureError::io(&files_dir, e))?;
    let mut files = write_code_files(&files_dir, &settings, &process, metadata.git.as_ref())?;
    if settings.save_requirements && !process.site_packages.is_empty() {
        let dirs: Vec<PathBuf> = process.site_packages.iter().map(PathBuf::from).collect();
        write_atomic(&files_dir.join(REQUIREMENTS_FILE), requirements_txt(&installed_distributions(&dirs)).as_bytes())?;
        files.push(FileRecord::new(REQUIREMENTS_FILE, Policy::Now));
    }
    let json = serde_json::to_vec_pretty(&metadata).map_err(|e| CaptureError::Json(e.to_string()))?;
    write_atomic(&meta_path, &json)?; // last: its presence marks the capture complete
    files.push(FileRecord::new(METADATA_FILE, Policy::Now));
    Ok(CaptureReport { metadata, files, reused: false })
}

/// Writes `diff.patch` (uncommitted changes to tracked files vs HEAD; only when there are any),
/// `untracked.txt` (one path per line; the files themselves stay local: they are often data or
/// secrets) and, with `save_code`, `code/<path in repo>` of the main script. Nothing at all
/// when `disable_code` is set.
pub fn write_code_files(
    files_dir: &Path,
    settings: &CaptureSettings,
    process: &ProcessInfo,
    git: Option<&GitState>,
) -> Result<Vec<FileRecord>, CaptureError> {
    let mut out = Vec::new();
    if settings.disable_code {
        return Ok(out);
    }
    if let Some(g) = git.filter(|g| g.commit.is_some()) {
        let patch = diff_patch(&g.root)?;
        if !patch.is_empty() {
            write_atomic(&files_dir.join(DIFF_FILE), &patch)?;
            out.push(FileRecord::new(DIFF_FILE, Policy::Now));
        }
        let untracked = untracked_files(&g.root)?;
        if !untracked.is_empty() {
            write_atomic(&files_dir.join(UNTRACKED_FILE), (untracked.join("\n") + "\n").as_bytes())?;
            out.push(FileRecord::new(UNTRACKED_FILE, Policy::Now));
        }
    }
    if settings.save_code
        && let Some(rec) = save_main_script(files_dir, process, git)?
    {
        out.push(rec);
    }
    Ok(out)
}

/// Copies the main script to `files/code/<path relative to the repo root, or its name>`.
fn save_main_script(
    files_dir: &Path,
    process: &ProcessInfo,
    git: Option<&GitState>,
) -> Result<Option<FileRecord>, CaptureError> {
    let Some(code) = process.code_path.as_deref().map(PathBuf::from).filter(|p| p.is_file()) else {
        return Ok(None);
    };
    let rel = git
        .and_then(|g| {
            fs::canonicalize(&code)
                .ok()
                .and_then(|c| c.strip_prefix(fs::canonicalize(&g.root).ok()?).ok().map(Path::to_path_buf))
        })
        .or_else(|| code.file_name().map(PathBuf::from));
    let Some(rel) = rel.and_then(|r| r.to_str().map(String::from)) else { return Ok(None) };
    let rel = crate::paths::validate_rel_path(&format!("{CODE_DIR}/{rel}"))?;
    let dest = files_dir.join(&rel);
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| CaptureError::io(parent, e))?;
    }
    let bytes = fs::read(&code).map_err(|e| CaptureError::io(&code, e))?;
    write_atomic(&dest, &bytes)?;
    Ok(Some(FileRecord::new(&rel, Policy::Now)))
}

fn existing_capture_files(files_dir: &Path) -> Vec<FileRecord> {
    [DIFF_FILE, UNTRACKED_FILE, REQUIREMENTS_FILE, METADATA_FILE]
        .iter()
        .filter(|f| files_dir.join(f).is_file())
        .map(|f| FileRecord::new(f, Policy::Now))
        .collect()
}

/// Temporary file + rename, so readers (the uploader) never see a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CaptureError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    fs::write(&tmp, bytes).map_err(|e| CaptureError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| CaptureError::io(path, e))
}
