//! `<run dir>/system.jsonl`: the system-metrics stream of a run, written by the agent only.
//!
//! Same line rules as `run.jsonl` (docs/run-format.md section 2: one `write(2)` per record,
//! torn-tail repair), so the agent's reader, cursor and ingest code apply unchanged. The first
//! line is a `stream` header naming the run and this stream's own `log_id`:
//! `{"t":"stream","v":1,"kind":"system","log_id":"...","run_id":"...","run_log_id":"..."}`.
use std::path::{Path, PathBuf};

use trackway_runlog::LogWriter;

use crate::{StatsRecord, SysmonError};

pub const SYSTEM_LOG_FILE: &str = "system.jsonl";

pub struct SystemLog {
    writer: LogWriter,
}

impl SystemLog {
    /// Opens `<run_dir>/system.jsonl`, writing the header when the file is new or empty. A
    /// restarted agent reopens the same file and keeps appending (positions stay valid).
    pub fn open(run_dir: &Path, run_id: &str, run_log_id: Option<&str>) -> Result<Self, SysmonError> {
        let path = Self::path(run_dir);
        let empty = std::fs::metadata(&path).map(|m| m.len() == 0).unwrap_or(true);
        let mut writer = LogWriter::open(&path)?;
        if empty {
            let mut id = [0u8; 8];
            getrandom::fill(&mut id).map_err(|e| SysmonError::Random(e.to_string()))?;
            let header = serde_json::json!({"t": "stream", "v": 1, "kind": "system",
                "log_id": hex::encode(id), "run_id": run_id, "run_log_id": run_log_id});
            writer.append_raw(header.to_string().as_bytes())?;
        }
        Ok(SystemLog { writer })
    }

    pub fn path(run_dir: &Path) -> PathBuf {
        run_dir.join(SYSTEM_LOG_FILE)
    }

    pub fn append(&mut self, rec: &StatsRecord) -> Result<(), SysmonError> {
        self.writer.append_raw(rec.to_json().to_string().as_bytes())?;
        Ok(())
    }
}
