//! A run directory on this machine as a restore source.
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{METADATA, RestoreError, RunFile, RunSource, read_metadata_bytes};
use crate::CaptureError;
use crate::files::hash_file;
use crate::paths::validate_rel_path;

pub struct LocalRunSource {
    run_dir: PathBuf,
    run_id: String,
}

impl LocalRunSource {
    pub fn open(run_dir: &Path) -> Result<Self, CaptureError> {
        let state = trackway_runlog::load_run_state(run_dir)
            .map_err(|e| RestoreError::Source(format!("{}: not a readable run directory: {e}", run_dir.display())))?;
        Ok(LocalRunSource { run_dir: run_dir.to_path_buf(), run_id: state.run.run_id })
    }

    fn files_dir(&self) -> PathBuf {
        self.run_dir.join("files")
    }
}

impl RunSource for LocalRunSource {
    fn run_id(&self) -> &str {
        &self.run_id
    }

    fn config(&self) -> Result<Map<String, Value>, CaptureError> {
        let state = trackway_runlog::load_run_state(&self.run_dir).map_err(|e| RestoreError::Source(e.to_string()))?;
        let v = serde_json::to_value(&state.config).map_err(|e| CaptureError::Json(e.to_string()))?;
        Ok(v.as_object().cloned().unwrap_or_default())
    }

    fn metadata(&self) -> Result<Value, CaptureError> {
        Ok(fs::read(self.files_dir().join(METADATA))
            .map(|b| read_metadata_bytes(&b))
            .unwrap_or_else(|_| Value::Object(Map::new())))
    }

    fn list_files(&self) -> Result<Vec<RunFile>, CaptureError> {
        let mut out = Vec::new();
        walk(&self.files_dir(), "", &mut out)?;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn read_file(&self, path: &str) -> Result<Vec<u8>, CaptureError> {
        let p = self.files_dir().join(validate_rel_path(path)?);
        fs::read(&p).map_err(|e| CaptureError::io(&p, e))
    }

    fn download(&self, path: &str, out: &mut dyn std::io::Write) -> Result<u64, CaptureError> {
        let p = self.files_dir().join(validate_rel_path(path)?);
        let mut f = fs::File::open(&p).map_err(|e| CaptureError::io(&p, e))?;
        std::io::copy(&mut f, out).map_err(|e| CaptureError::io(&p, e))
    }
}

/// Regular files under `dir` (symlinks followed: `save()` links files into `files/`).
fn walk(dir: &Path, prefix: &str, out: &mut Vec<RunFile>) -> Result<(), CaptureError> {
    let Ok(entries) = fs::read_dir(dir) else { return Ok(()) };
    for e in entries.flatten() {
        let Some(name) = e.file_name().to_str().map(String::from) else { continue };
        let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        let path = e.path();
        let Ok(meta) = fs::metadata(&path) else { continue }; // dangling link
        if meta.is_dir() {
            walk(&path, &rel, out)?;
        } else if meta.is_file() && !rel.contains(".tmp-") {
            let (sha256, size) = hash_file(&path).map_err(|err| CaptureError::io(&path, err))?;
            out.push(RunFile { path: rel, size, sha256 });
        }
    }
    Ok(())
}
