//! The agent's upload cursor, `<run dir>/upload.json` (docs/run-format.md section 6).

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{CURSOR_FILE, Result, RunlogError};

/// How far the server has acknowledged a run log.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UploadCursor {
    pub log_id: String,
    /// Position just after the last record the server acknowledged as durable.
    pub offset: u64,
    #[serde(default)]
    pub acked_at: Option<f64>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub finished: bool,
    /// The server target `offset` counts for (trackway-agent's `target_key`: base URL and the
    /// `entity/project/run_id` asked for). Absent in cursors of older agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `entity/project/run_id` of the run the server created for `target`, so a restarted
    /// agent can upload the run's files after the log is complete without contacting it first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    /// History records of this log the server dropped because another attempt of the run had
    /// already written those steps (history never goes back); `finish()` warns about them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped: u64,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Reads `<run_dir>/upload.json`; `None` when there is none yet.
pub fn read_cursor(run_dir: &Path) -> Result<Option<UploadCursor>> {
    let path = run_dir.join(CURSOR_FILE);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(RunlogError::io(&path, e)),
    };
    serde_json::from_slice(&text).map(Some).map_err(|e| RunlogError::BadCursor { path, reason: e.to_string() })
}

/// Writes `<run_dir>/upload.json` atomically: a temporary file in the same directory, then
/// rename, so a reader never sees a half-written cursor.
pub fn write_cursor(run_dir: &Path, cursor: &UploadCursor) -> Result<()> {
    let path = run_dir.join(CURSOR_FILE);
    let tmp = run_dir.join(format!(".{CURSOR_FILE}.{}.tmp", std::process::id()));
    let text =
        serde_json::to_vec(cursor).map_err(|e| RunlogError::BadCursor { path: path.clone(), reason: e.to_string() })?;
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&text)?;
        f.sync_data()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        RunlogError::io(&path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_missing_is_none() {
        let tmp = tempfile::tempdir().expect("tempdir");
        assert_eq!(read_cursor(tmp.path()).expect("read"), None);
        let c = UploadCursor { log_id: "ab".into(), offset: 42, acked_at: Some(1.5), ..Default::default() };
        write_cursor(tmp.path(), &c).expect("write");
        assert_eq!(read_cursor(tmp.path()).expect("read"), Some(c));
        std::fs::write(tmp.path().join(CURSOR_FILE), b"{oops").expect("write junk");
        assert!(read_cursor(tmp.path()).is_err());
    }
}
