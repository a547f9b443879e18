//! The `synced` marker of a run directory: which server targets have **everything** of the run
//! (the log up to `finish`, and, when files were part of the job, `system.jsonl` and every due
//! run file). One run can be synced to several targets (`trackway sync --id/--project/--host`).
//!
//! Shape: `{"targets":{"<target>":{"files":true}}}` where `<target>` is
//! [`target_key`]. An empty file is the marker of older agents: "the log is on the run's own
//! server"; it counts for a sync without entity/project/id overrides.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use trackway_runlog::SYNCED_MARKER;

use crate::{AgentError, Result};

/// What one target has acknowledged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetDone {
    /// The run's files and system metrics too (false: the log only, as `sync --no-files`).
    #[serde(default)]
    pub files: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Marker {
    #[serde(default)]
    targets: BTreeMap<String, TargetDone>,
}

/// Names a server target: the normalized base URL and the `entity/project/run_id` asked for
/// (an empty entity or project means "the server's default"), e.g.
/// `http://127.0.0.1:8080 /p/abc`.
pub fn target_key(base_url: &str, entity: Option<&str>, project: Option<&str>, run_id: &str) -> String {
    let base = trackway_config::normalize_base_url(base_url);
    format!("{base} {}/{}/{run_id}", entity.unwrap_or(""), project.unwrap_or(""))
}

/// Whether `dir` is marked synced to `target` (with files when `need_files`). `legacy_ok`:
/// an old empty marker counts (no entity/project/id override was given).
pub fn synced_to(dir: &Path, target: &str, need_files: bool, legacy_ok: bool) -> bool {
    let Ok(bytes) = std::fs::read(dir.join(SYNCED_MARKER)) else {
        return false;
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return legacy_ok;
    }
    match serde_json::from_slice::<Marker>(&bytes) {
        Ok(m) => m.targets.get(target).is_some_and(|t| t.files || !need_files),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "unreadable synced marker; syncing again");
            false
        }
    }
}

/// Adds `target` to the marker of `dir` (atomically; other targets are kept, and a target
/// already synced with files keeps that).
pub fn mark_synced(dir: &Path, target: &str, files: bool) -> Result<()> {
    let path = dir.join(SYNCED_MARKER);
    let mut marker: Marker =
        std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    let entry = marker.targets.entry(target.to_string()).or_default();
    entry.files |= files;
    let text = serde_json::to_vec(&marker).map_err(|e| AgentError::Invalid(e.to_string()))?;
    let tmp = dir.join(format!(".{SYNCED_MARKER}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, &text).and_then(|()| std::fs::rename(&tmp, &path)).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        AgentError::io(&path, e)
    })?;
    tracing::info!(dir = %dir.display(), target, files, "run synced");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_recorded_separately() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let a = target_key("http://h:1/", None, Some("p"), "r1");
        let b = target_key("http://h:1", Some("e"), Some("moved"), "copy");
        assert_eq!(a, "http://h:1 /p/r1");
        assert!(!synced_to(tmp.path(), &a, false, true), "no marker yet");
        mark_synced(tmp.path(), &a, true).expect("mark");
        assert!(synced_to(tmp.path(), &a, true, false));
        assert!(!synced_to(tmp.path(), &b, false, true), "another target is not synced");
        mark_synced(tmp.path(), &b, false).expect("mark");
        assert!(synced_to(tmp.path(), &b, false, false));
        assert!(!synced_to(tmp.path(), &b, true, false), "log only: a sync with files is still due");
        assert!(synced_to(tmp.path(), &a, true, false), "the first target is kept");
        mark_synced(tmp.path(), &b, true).expect("mark");
        mark_synced(tmp.path(), &b, false).expect("mark");
        assert!(synced_to(tmp.path(), &b, true, false), "files once acknowledged stay acknowledged");
    }

    #[test]
    fn an_old_empty_marker_counts_only_without_overrides() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(tmp.path().join(SYNCED_MARKER), b"").expect("marker");
        let a = target_key("http://h:1", None, Some("p"), "r1");
        assert!(synced_to(tmp.path(), &a, true, true));
        assert!(!synced_to(tmp.path(), &a, true, false));
        mark_synced(tmp.path(), &a, true).expect("mark over the old marker");
        assert!(synced_to(tmp.path(), &a, true, false));
    }
}
