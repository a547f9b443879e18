//! Writes one imported run as an ordinary Trackway run directory, so the agent / `trackway sync`
//! uploads it through the same idempotent path as a logged run.
//!
//! Re-import is idempotent: the run id is derived from the source, the run directory is found
//! again by that id, and `import.json` beside the run log remembers how far each source was
//! read. A second import of unchanged sources appends nothing; sources that grew (a training
//! still writing) append only the new rows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use trackway_runlog::{LogWriter, RunDir, SYNCED_MARKER, create_run_dir, find_run_dirs};
use trackway_types::{ConfigRecord, FinishRecord, HistoryRecord, Map, Record, RunRecord, validate_run_id};

use crate::{ImportError, Result};

/// The importer's bookkeeping file in the run directory.
pub const STATE_FILE: &str = "import.json";

/// Identity and attributes of an imported run.
#[derive(Clone, Debug, Default)]
pub struct RunSpec {
    pub run_id: String,
    pub project: String,
    pub entity: Option<String>,
    pub name: Option<String>,
    pub tags: Vec<String>,
    pub group: Option<String>,
    pub created_at: f64,
}

/// What the importer remembers per run between imports.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ImportState {
    /// Bytes consumed per source file (path relative to the imported run's source directory).
    #[serde(default)]
    pub offsets: BTreeMap<String, u64>,
    #[serde(default)]
    pub last_step: Option<u64>,
    #[serde(default)]
    pub start_time: Option<f64>,
    #[serde(default)]
    pub finished: bool,
    /// Keys already written for sources that are re-read whole (MLflow params, tags, files).
    #[serde(default)]
    pub seen: BTreeMap<String, String>,
}

/// A stable run id for a source: `<prefix>-` plus 16 hex digits of the SHA-256 of `key`.
#[must_use]
pub fn stable_id(prefix: &str, key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("{prefix}-{}", &hex::encode(digest)[..16])
}

/// Counts of what one import wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    pub points: u64,
    pub dropped: u64,
    pub files: u64,
}

/// One imported run being written.
pub struct RunSink {
    pub dir: RunDir,
    pub state: ImportState,
    pub written: Written,
    writer: LogWriter,
}

impl RunSink {
    /// Opens the run directory of `spec.run_id` under `root`, creating it (with its `run`
    /// record) on the first import.
    pub fn open(root: &Path, spec: &RunSpec) -> Result<Self> {
        validate_run_id(&spec.run_id).map_err(|e| ImportError::Invalid(e.to_string()))?;
        let existing = find_run_dirs(root, &spec.run_id)?.into_iter().find(|p| p.join(STATE_FILE).is_file());
        let (dir, state, fresh) = match existing {
            Some(path) => {
                let state = read_state(&path.join(STATE_FILE))?;
                (RunDir::at(&path), state, false)
            }
            None => (create_run_dir(root, &spec.run_id)?, ImportState::default(), true),
        };
        let writer = LogWriter::open(&dir.log)?;
        let mut sink = RunSink { dir, state, written: Written::default(), writer };
        if fresh {
            sink.writer.append(&Record::Run(run_record(spec)))?;
            sink.save_state()?;
        }
        Ok(sink)
    }

    /// Replaces the given top-level config keys.
    pub fn config(&mut self, data: Map) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.writer.append(&Record::Config(ConfigRecord { data, ..Default::default() }))?;
        Ok(())
    }

    /// Appends one history row. Steps never go back in a run log: a row below the last written
    /// step is dropped and counted (TensorBoard itself discards such "orphaned" data).
    pub fn row(&mut self, step: u64, ts: f64, data: Map) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        if self.state.last_step.is_some_and(|last| step < last) {
            self.written.dropped += data.len() as u64;
            return Ok(());
        }
        let start = *self.state.start_time.get_or_insert(ts);
        self.written.rows += 1;
        self.written.points += data.len() as u64;
        self.state.last_step = Some(step);
        self.writer.append(&Record::History(HistoryRecord { step, ts, rt: (ts - start).max(0.0), data }))?;
        Ok(())
    }

    /// Stores `bytes` as `files/<rel>` and names it in the log so the agent uploads it.
    pub fn file(&mut self, rel: &str, bytes: &[u8]) -> Result<()> {
        self.store(rel, bytes, "file")
    }

    /// A media file (`media/...`, named after its content): written and announced with a
    /// `media` record once; later references to the same content reuse it.
    pub fn media(&mut self, rel: &str, bytes: &[u8]) -> Result<()> {
        if self.dir.files.join(rel).is_file() {
            return Ok(());
        }
        self.store(rel, bytes, "media")
    }

    fn store(&mut self, rel: &str, bytes: &[u8], t: &str) -> Result<()> {
        let path = self.dir.files.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ImportError::io(parent, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| ImportError::io(&path, e))?;
        let line = if t == "media" {
            serde_json::json!({"t": "media", "path": rel})
        } else {
            serde_json::json!({"t": "file", "path": rel, "policy": "now"})
        };
        self.writer.append_raw(line.to_string().as_bytes())?;
        self.written.files += 1;
        Ok(())
    }

    /// Ends this import: a `finish` record when the run is complete and something changed,
    /// and the state saved. New records clear the `synced` marker so the next sync sends them.
    pub fn close(mut self, finished: bool, end_ts: f64) -> Result<Written> {
        let changed = self.written != Written::default();
        if finished && (changed || !self.state.finished) {
            let rt = self.state.start_time.map_or(0.0, |s| (end_ts - s).max(0.0));
            self.writer.append(&Record::Finish(FinishRecord { exit_code: Some(0), ts: end_ts, rt, crashed: false }))?;
            self.state.finished = true;
        }
        if changed || finished {
            let marker = self.dir.path.join(SYNCED_MARKER);
            if changed && marker.exists() {
                std::fs::remove_file(&marker).map_err(|e| ImportError::io(&marker, e))?;
            }
        }
        self.save_state()?;
        Ok(self.written)
    }

    fn save_state(&self) -> Result<()> {
        let path = self.dir.path.join(STATE_FILE);
        let tmp = self.dir.path.join(format!(".{STATE_FILE}.tmp"));
        let text = serde_json::to_vec_pretty(&self.state).map_err(|e| ImportError::Invalid(e.to_string()))?;
        std::fs::write(&tmp, text).map_err(|e| ImportError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| ImportError::io(&path, e))
    }

    #[must_use]
    pub fn path(&self) -> PathBuf {
        self.dir.path.clone()
    }
}

fn read_state(path: &Path) -> Result<ImportState> {
    let bytes = std::fs::read(path).map_err(|e| ImportError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| ImportError::Corrupt {
        path: path.to_path_buf(),
        offset: 0,
        reason: e.to_string(),
    })
}

fn run_record(spec: &RunSpec) -> RunRecord {
    // The log id is derived from the run id, so two imports of the same source produce the same
    // (log id, position) keys and the server's ingest dedup applies across them.
    let log_id = stable_id("log", &spec.run_id).trim_start_matches("log-").to_owned();
    RunRecord {
        v: 1,
        log_id,
        run_id: spec.run_id.clone(),
        project: Some(spec.project.clone()),
        entity: spec.entity.clone(),
        name: spec.name.clone(),
        tags: spec.tags.clone(),
        group: spec.group.clone(),
        mode: Some("offline".to_owned()),
        created_at: Some(spec.created_at),
        ..Default::default()
    }
}
