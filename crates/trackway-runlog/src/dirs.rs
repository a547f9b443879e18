//! Run directories: `<root>/run-<YYYYmmdd_HHMMSS>-<id>/` with `files/` and `run.jsonl`.

use std::path::{Path, PathBuf};

use chrono::{Duration, Local, NaiveDateTime};

use crate::{FILES_DIR, LATEST_RUN, LOG_FILE, Result, RunlogError};

/// Length of `YYYYmmdd_HHMMSS`.
const STAMP_LEN: usize = 15;
const STAMP_FMT: &str = "%Y%m%d_%H%M%S";

/// The paths of one run attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunDir {
    pub path: PathBuf,
    pub files: PathBuf,
    pub log: PathBuf,
}

impl RunDir {
    /// The paths of an existing (or future) run directory.
    #[must_use]
    pub fn at(path: &Path) -> Self {
        RunDir { path: path.to_path_buf(), files: path.join(FILES_DIR), log: path.join(LOG_FILE) }
    }
}

/// A run directory found on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunDirInfo {
    pub path: PathBuf,
    pub run_id: String,
    /// `YYYYmmdd_HHMMSS`, local time of creation.
    pub stamp: String,
}

/// Splits `run-<stamp>-<id>` into (stamp, id). Ids may contain `-`, so the stamp is fixed-width.
#[must_use]
pub fn parse_run_dir_name(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("run-")?;
    if rest.len() < STAMP_LEN + 2 || !rest.is_char_boundary(STAMP_LEN) {
        return None;
    }
    let (stamp, tail) = rest.split_at(STAMP_LEN);
    let id = tail.strip_prefix('-')?;
    NaiveDateTime::parse_from_str(stamp, STAMP_FMT).ok()?;
    Some((stamp, id))
}

/// Creates `<root>/run-<local time>-<run_id>/` with `files/` and an empty `run.jsonl`, and points
/// `<root>/latest-run` at it (best effort). When a directory for the same id and second already
/// exists (a quick resume), the next free second is used, so names stay parseable and ordered.
pub fn create_run_dir(root: &Path, run_id: &str) -> Result<RunDir> {
    trackway_types::validate_run_id(run_id)
        .map_err(|e| RunlogError::BadRunId { id: run_id.to_owned(), reason: e.to_string() })?;
    std::fs::create_dir_all(root).map_err(|e| RunlogError::io(root, e))?;
    let mut when = Local::now().naive_local();
    for _ in 0..1000 {
        let name = format!("run-{}-{run_id}", when.format(STAMP_FMT));
        let path = root.join(&name);
        match std::fs::create_dir(&path) {
            Ok(()) => return finish_run_dir(root, &path, &name),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                when += Duration::seconds(1);
            }
            Err(e) => return Err(RunlogError::io(&path, e)),
        }
    }
    Err(RunlogError::io(root, std::io::Error::other("no free run directory name")))
}

fn finish_run_dir(root: &Path, path: &Path, name: &str) -> Result<RunDir> {
    let dir = RunDir::at(path);
    std::fs::create_dir(&dir.files).map_err(|e| RunlogError::io(&dir.files, e))?;
    std::fs::OpenOptions::new().create(true).append(true).open(&dir.log).map_err(|e| RunlogError::io(&dir.log, e))?;
    if let Err(e) = update_latest_run(root, name) {
        tracing::debug!("latest-run not updated: {e}");
    }
    Ok(dir)
}

/// Points `<root>/latest-run` at `name` (relative), replacing it atomically via rename.
pub fn update_latest_run(root: &Path, name: &str) -> std::io::Result<()> {
    let tmp = root.join(format!(".latest-run.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(name, &tmp)?;
    std::fs::rename(&tmp, root.join(LATEST_RUN)).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Every run directory under `root`, oldest first (by name, i.e. creation time, then id).
pub fn list_runs(root: &Path) -> Result<Vec<RunDirInfo>> {
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(RunlogError::io(root, e)),
    };
    let mut runs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| RunlogError::io(root, e))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Some((stamp, id)) = parse_run_dir_name(&name) else {
            continue;
        };
        // A symlink (latest-run) is never named run-*, but skip anything that is not a dir.
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        runs.push(RunDirInfo { path: entry.path(), run_id: id.to_owned(), stamp: stamp.to_owned() });
    }
    runs.sort_by(|a, b| (&a.stamp, &a.run_id).cmp(&(&b.stamp, &b.run_id)));
    Ok(runs)
}

/// The existing attempts of run `run_id` under `root`, oldest first.
pub fn find_run_dirs(root: &Path, run_id: &str) -> Result<Vec<PathBuf>> {
    Ok(list_runs(root)?.into_iter().filter(|r| r.run_id == run_id).map(|r| r.path).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_dashes_in_ids() {
        assert_eq!(parse_run_dir_name("run-20261128_203000-a-b"), Some(("20261128_203000", "a-b")));
        assert_eq!(parse_run_dir_name("run-20261128_203000-"), None);
        assert_eq!(parse_run_dir_name("run-2026112x_203000-ab"), None);
        assert_eq!(parse_run_dir_name("latest-run"), None);
    }

    #[test]
    fn creates_dirs_and_finds_attempts_in_order() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("trackway");
        let a = create_run_dir(&root, "abc").expect("first");
        let b = create_run_dir(&root, "abc").expect("second, same second");
        let _c = create_run_dir(&root, "other").expect("other");
        assert!(a.files.is_dir() && a.log.is_file());
        assert_ne!(a.path, b.path);
        assert_eq!(find_run_dirs(&root, "abc").expect("find"), vec![a.path.clone(), b.path.clone()]);
        assert_eq!(list_runs(&root).expect("list").len(), 3);
        let latest = std::fs::read_link(root.join(LATEST_RUN)).expect("latest-run");
        assert!(latest.to_string_lossy().ends_with("-other"));
        assert!(create_run_dir(&root, "bad/id").is_err());
        assert!(list_runs(&tmp.path().join("missing")).expect("missing root").is_empty());
    }
}
