//! The run semantics engine: step/commit rules (wandb-api-surface.md 3.1), summary (3.3) and the
//! records they produce. Both the Rust API ([`crate::Run`]) and the Python module drive it.
//!
//! Every `log` call that keeps data appends its own `history` fragment at the pending step before
//! returning, so nothing logged lives only in memory; consecutive fragments with one step form a
//! row (docs/run-format.md). The pending row is also kept here because the summary reflects only
//! committed rows.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use trackway_runlog::{LogWriter, RunDir, create_run_dir};
use trackway_types::summary;
use trackway_types::{ConfigRecord, FinishRecord, Map, MetaRecord, Record, RunRecord, SummaryRecord, Value};

use crate::SdkError;
use crate::metrics::{MetricDef, Metrics};

/// A full summary record is written at most this often while logging.
const SUMMARY_INTERVAL: Duration = Duration::from_secs(1);

/// How a run starts: the fields of its `run` record.
#[derive(Clone, Debug, Default)]
pub struct StartInfo {
    pub run_id: String,
    pub project: Option<String>,
    pub entity: Option<String>,
    pub name: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub group: Option<String>,
    pub job_type: Option<String>,
    pub mode: Option<String>,
    pub resume: Option<String>,
    pub base_url: Option<String>,
    pub config: Map,
    pub settings: Map,
}

/// What an earlier attempt left (from `trackway_runlog::load_run_state`).
#[derive(Clone, Debug, Default)]
pub struct ResumeState {
    pub last_step: Option<u64>,
    pub summary: Map,
}

/// Result of one `log` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logged {
    /// The data was written (as a fragment of the row at the pending step).
    Written,
    /// The data was dropped because its step was below the current step (the payload).
    Dropped(u64),
}

/// The state of one live run.
#[derive(Debug)]
pub struct RunCore {
    writer: LogWriter,
    dir: RunDir,
    run_id: String,
    log_id: String,
    start_time: f64,
    started: Instant,
    step: u64,
    starting_step: u64,
    pending: Map,
    config: Map,
    summary: Map,
    metrics: Metrics,
    summary_dirty: bool,
    last_summary: Instant,
    finished: bool,
    /// A fragment was written at the current step and not yet committed.
    row_open: bool,
    last_ts: f64,
    last_rt: f64,
    /// Runtime of earlier attempts (a resumed run's `_runtime` continues from there).
    rt_offset: f64,
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

impl RunCore {
    /// Creates the run directory under `root` and writes the `run` record.
    pub fn start(root: &Path, info: StartInfo, resume: Option<ResumeState>) -> Result<Self, SdkError> {
        let dir = create_run_dir(root, &info.run_id)?;
        let mut writer = LogWriter::open(&dir.log)?;
        let start_time = unix_now();
        let starting_step = resume.as_ref().and_then(|r| r.last_step).map_or(0, |s| s + 1);
        let log_id = crate::ids::new_log_id();
        let rt_offset = resume
            .as_ref()
            .and_then(|r| r.summary.get("_runtime"))
            .and_then(Value::as_f64)
            .filter(|x| x.is_finite() && *x >= 0.0)
            .unwrap_or(0.0);
        let record = RunRecord {
            v: trackway_types::FORMAT_VERSION,
            log_id: log_id.clone(),
            run_id: info.run_id.clone(),
            project: info.project,
            entity: info.entity,
            name: info.name,
            tags: info.tags,
            notes: info.notes,
            group: info.group,
            job_type: info.job_type,
            mode: info.mode,
            resume: info.resume,
            resumed: resume.is_some(),
            starting_step,
            created_at: Some(start_time),
            host: host_name(),
            pid: Some(std::process::id()),
            base_url: info.base_url,
            config: info.config,
            settings: info.settings,
        };
        let config = record.config.clone();
        writer.append(&Record::Run(record))?;
        Ok(RunCore {
            writer,
            dir,
            run_id: info.run_id,
            log_id,
            start_time,
            started: Instant::now(),
            step: starting_step,
            starting_step,
            pending: Map::new(),
            config,
            summary: resume.map(|r| r.summary).unwrap_or_default(),
            metrics: Metrics::default(),
            summary_dirty: false,
            last_summary: Instant::now(),
            finished: false,
            row_open: false,
            last_ts: start_time,
            last_rt: 0.0,
            rt_offset,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir.path
    }
    pub fn files_dir(&self) -> &Path {
        &self.dir.files
    }
    pub fn log_path(&self) -> &Path {
        &self.dir.log
    }
    pub fn run_id(&self) -> &str {
        &self.run_id
    }
    pub fn log_id(&self) -> &str {
        &self.log_id
    }
    /// Unix time the run started.
    pub fn start_time(&self) -> f64 {
        self.start_time
    }
    /// The current step `S`.
    pub fn step(&self) -> u64 {
        self.step
    }
    pub fn starting_step(&self) -> u64 {
        self.starting_step
    }
    pub fn finished(&self) -> bool {
        self.finished
    }
    pub fn summary(&self) -> &Map {
        &self.summary
    }
    pub fn config(&self) -> &Map {
        &self.config
    }

    /// Seconds since the run started, including earlier attempts.
    fn runtime(&self) -> f64 {
        self.rt_offset + self.started.elapsed().as_secs_f64()
    }

    fn check_live(&self) -> Result<(), SdkError> {
        if self.finished { Err(SdkError::Finished) } else { Ok(()) }
    }

    /// `log(data, step, commit)` with the rules of wandb-api-surface.md 3.1.
    pub fn log(&mut self, mut data: Map, step: Option<u64>, commit: Option<bool>) -> Result<Logged, SdkError> {
        self.check_live()?;
        let commit_now = match step {
            None => commit.unwrap_or(true),
            Some(k) if k > self.step => {
                self.commit_pending();
                self.step = k;
                commit.unwrap_or(false)
            }
            Some(k) if k == self.step => commit.unwrap_or(false),
            Some(_) => return Ok(Logged::Dropped(self.step)),
        };
        self.metrics.sync_step_metrics(&mut data, &self.pending);
        // An empty commit of an empty row still writes the (empty) row so the step it consumes
        // is visible to readers, as wandb does for `log({})`.
        if !data.is_empty() || (commit_now && self.pending.is_empty()) {
            self.write_fragment(&data)?;
        }
        if self.pending.is_empty() {
            // The common case (one log call per row): the data becomes the pending row as is,
            // saving a hash and insert per key.
            self.pending = data;
        } else {
            // Fragments of one row merge as the summary does (nested maps leaf by leaf), so the
            // live summary equals the run log's replay (`trackway_runlog::RunState`).
            for (k, v) in data {
                summary::merge_logged(&mut self.pending, k, v, &mut summary::LastValue);
            }
        }
        if commit_now {
            self.commit_pending();
            self.step += 1;
        }
        self.maybe_write_summary()?;
        Ok(Logged::Written)
    }

    fn write_fragment(&mut self, data: &Map) -> Result<(), SdkError> {
        let ts = unix_now();
        let rt = self.runtime();
        let step = self.step;
        self.writer.append_with(|out| crate::encode::history(out, step, ts, rt, data))?;
        self.last_ts = ts;
        self.last_rt = rt;
        self.row_open = true;
        Ok(())
    }

    /// Commits the pending row: its values become the summary's (through metric definitions).
    fn commit_pending(&mut self) {
        if !self.row_open {
            return;
        }
        self.row_open = false;
        for (k, v) in self.pending.drain(..) {
            summary::merge_logged(&mut self.summary, k, v, &mut self.metrics);
        }
        let step = i64::try_from(self.step).map_or(Value::UInt(self.step), Value::Int);
        self.summary.insert("_step".into(), step);
        self.summary.insert("_timestamp".into(), Value::Float(self.last_ts));
        self.summary.insert("_runtime".into(), Value::Float(self.last_rt));
        self.summary_dirty = true;
    }

    fn maybe_write_summary(&mut self) -> Result<(), SdkError> {
        if self.summary_dirty && self.last_summary.elapsed() >= SUMMARY_INTERVAL {
            self.write_full_summary()?;
        }
        Ok(())
    }

    fn write_full_summary(&mut self) -> Result<(), SdkError> {
        let summary = &self.summary;
        self.writer.append_with(|out| crate::encode::full_summary(out, summary))?;
        self.summary_dirty = false;
        self.last_summary = Instant::now();
        Ok(())
    }

    /// Replaces top-level config keys (one `config` record).
    pub fn config_update(&mut self, data: Map) -> Result<(), SdkError> {
        self.check_live()?;
        let rec = Record::Config(ConfigRecord { data, remove: Vec::new() });
        self.writer.append(&rec)?;
        if let Record::Config(c) = rec {
            self.config.extend(c.data);
        }
        Ok(())
    }

    /// Removes config keys (one `config` record).
    pub fn config_remove(&mut self, keys: Vec<String>) -> Result<(), SdkError> {
        self.check_live()?;
        for k in &keys {
            self.config.shift_remove(k);
        }
        self.writer.append(&Record::Config(ConfigRecord { data: Map::new(), remove: keys }))?;
        Ok(())
    }

    /// Sets a (nested) summary key explicitly; it stays until the key is logged again.
    pub fn summary_set(&mut self, path: &[String], value: Value) -> Result<(), SdkError> {
        self.check_live()?;
        let first = path.first().ok_or(SdkError::EmptyPath)?;
        summary::set_path(&mut self.summary, path, value);
        let mut set = Map::new();
        if let Some(top) = self.summary.get(first) {
            set.insert(first.clone(), top.clone());
        }
        self.writer.append(&Record::Summary(SummaryRecord { full: None, set, del: Vec::new() }))?;
        Ok(())
    }

    /// Sets top-level summary keys explicitly.
    pub fn summary_update(&mut self, data: Map) -> Result<(), SdkError> {
        self.check_live()?;
        let rec = Record::Summary(SummaryRecord { full: None, set: data, del: Vec::new() });
        self.writer.append(&rec)?;
        if let Record::Summary(s) = rec {
            summary::apply_record(&mut self.summary, s);
        }
        Ok(())
    }

    /// Deletes a (nested) summary key. [`SdkError::MissingKey`] when it does not exist.
    pub fn summary_del(&mut self, path: &[String]) -> Result<(), SdkError> {
        self.check_live()?;
        if !summary::remove_path(&mut self.summary, path) {
            return Err(SdkError::MissingKey(path.join(".")));
        }
        let del = vec![path.to_vec()];
        self.writer.append(&Record::Summary(SummaryRecord { full: None, set: Map::new(), del }))?;
        Ok(())
    }

    /// Adds a metric definition, merged onto an earlier one of the same name unless
    /// `overwrite` (as wandb does); the log gets one `metric` record holding the definition now
    /// in force, so a replay (and the server) keeps the last record per name.
    pub fn define_metric(&mut self, def: MetricDef, overwrite: bool) -> Result<(), SdkError> {
        self.check_live()?;
        let record = self.metrics.define(def, overwrite)?.record.clone();
        self.writer.append(&Record::Metric(record))?;
        Ok(())
    }

    /// Changes run attributes (one `meta` record).
    pub fn set_meta(&mut self, meta: MetaRecord) -> Result<(), SdkError> {
        self.check_live()?;
        self.writer.append(&Record::Meta(meta))?;
        Ok(())
    }

    /// Commits a pending row, writes the final full summary and the `finish` record, and
    /// optionally fsyncs the log. Idempotent: a second call does nothing.
    pub fn finish(&mut self, exit_code: Option<i64>, fsync: bool) -> Result<(), SdkError> {
        if self.finished {
            return Ok(());
        }
        self.commit_pending();
        self.write_full_summary()?;
        let rec = FinishRecord { exit_code, ts: unix_now(), rt: self.runtime(), crashed: false };
        self.writer.append(&Record::Finish(rec))?;
        self.finished = true;
        if fsync {
            self.writer.sync()?;
        }
        Ok(())
    }

    /// Waits until the agent acknowledged the whole log (`upload.json`), up to `timeout`.
    /// False on timeout, or at once when the cursor reports an error without progress for 1 s.
    #[must_use]
    pub fn wait_uploaded(&self, timeout: Duration) -> bool {
        crate::agent::wait_uploaded(&self.dir.path, &self.dir.log, &self.log_id, timeout)
    }

    /// The run directory's path as an owned value (for error messages).
    pub fn dir_buf(&self) -> PathBuf {
        self.dir.path.clone()
    }
}
