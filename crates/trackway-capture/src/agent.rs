//! One object per live run for the agent loop: capture, system metrics and file uploads.
//!
//! ```text
//! on discovering a run dir:  let Some(mut cap) = RunCapture::open_dir(&run_dir, Instant::now())? else { retry later };
//! every loop iteration:      for up in cap.tick(Instant::now(), unix_now) { PUT up; cap.mark_uploaded(&up.path, &up.sha256) }
//! crash detected:            cap.mark_crashed();
//! drop it when:              cap.is_done()  (finished, captured, every requested file uploaded)
//! ```
//! `tick` tails `run.jsonl` itself for `file` and `finish` records (its own reader; it only
//! parses lines of those types), so the agent's uploader needs no change. An agent that already
//! parses every record may call [`RunCapture::on_record`] instead and skip the tailing with
//! [`RunCapture::without_tailing`].
//! System metrics go to `<run dir>/system.jsonl`, which the agent uploads like `run.jsonl`
//! (same reader, its own cursor file, the `log_id` of its `stream` header).
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;
use trackway_runlog::LogReader;
use trackway_sysmon::{Sampler, SamplerConfig, SystemLog};

use crate::files::{DEFAULT_DEBOUNCE, FileRecord, Policy, RunFiles, Upload};
use crate::settings::CaptureSettings;
use crate::{CaptureError, capture_ready, capture_run};

/// Seconds to wait for the `process` record before capturing without it.
const PROCESS_GRACE_S: f64 = 5.0;

pub struct RunCapture {
    run_dir: PathBuf,
    run_record: Value,
    captured: bool,
    sampler: Option<Sampler>,
    system_log: Option<SystemLog>,
    files: RunFiles,
    finished: bool,
    reader: Option<LogReader>,
    /// False for offline runs: nothing is offered for upload (`sync` does it later).
    uploads: bool,
}

impl RunCapture {
    /// Sets up capture for a run. Metrics are sampled only for a run on this host (the `run`
    /// record's `pid` and `host`) and unless `disable_stats`; errors opening system.jsonl are
    /// logged and metrics skipped, never fatal to the upload.
    pub fn open(run_dir: &Path, run_record: &Value, now: Instant) -> Self {
        let settings_json = run_record.get("settings").and_then(Value::as_object);
        let settings = CaptureSettings::from_settings(settings_json);
        let pid = run_record.get("pid").and_then(Value::as_u64).and_then(|p| u32::try_from(p).ok());
        // Sample only a live process of this machine (a synced run from elsewhere has none).
        let same_host = run_record
            .get("host")
            .and_then(Value::as_str)
            .is_none_or(|h| sysinfo::System::host_name().ok().as_deref() == Some(h));
        let local = same_host && pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        let (sampler, system_log) = match SamplerConfig::from_settings(settings_json, pid) {
            Ok(Some(cfg)) if local => {
                let run_id = run_record.get("run_id").and_then(Value::as_str).unwrap_or("");
                let log_id = run_record.get("log_id").and_then(Value::as_str);
                match SystemLog::open(run_dir, run_id, log_id) {
                    Ok(log) => (Some(Sampler::new(cfg, now)), Some(log)),
                    Err(e) => {
                        tracing::warn!(error = %e, "system metrics disabled for this run");
                        (None, None)
                    }
                }
            }
            Ok(_) => (None, None),
            Err(e) => {
                tracing::warn!(error = %e, "invalid stats settings; system metrics disabled");
                (None, None)
            }
        };
        RunCapture {
            run_dir: run_dir.to_path_buf(),
            run_record: run_record.clone(),
            captured: false,
            sampler,
            system_log,
            files: RunFiles::open(run_dir, settings.ignore_globs, DEFAULT_DEBOUNCE),
            finished: false,
            reader: LogReader::open(&run_dir.join("run.jsonl"), 0).ok(),
            uploads: run_record.get("mode").and_then(Value::as_str) != Some("offline"),
        }
    }

    /// Turns uploads on or off (default: off for runs whose `run` record says
    /// `"mode":"offline"`). `sync` turns them on for an offline run it uploads.
    pub fn set_uploads(&mut self, on: bool) {
        self.uploads = on;
    }

    /// Opens a run directory by reading its `run` record; `Ok(None)` while the log has none yet.
    pub fn open_dir(run_dir: &Path, now: Instant) -> Result<Option<Self>, CaptureError> {
        let log = run_dir.join("run.jsonl");
        let mut reader = match LogReader::open(&log, 0) {
            Ok(r) => r,
            Err(_) if !log.exists() => return Ok(None),
            Err(e) => return Err(CaptureError::BadRecord(e.to_string())),
        };
        let Some((_, _, line)) = reader.next_line().map_err(|e| CaptureError::BadRecord(e.to_string()))? else {
            return Ok(None);
        };
        let run: Value =
            serde_json::from_slice(line).map_err(|e| CaptureError::BadRecord(format!("run record: {e}")))?;
        if run.get("t").and_then(Value::as_str) != Some("run") {
            return Err(CaptureError::BadRecord("the first record is not `run`".into()));
        }
        Ok(Some(Self::open(run_dir, &run, now)))
    }

    /// Stops `tick` from reading run.jsonl (the caller feeds [`on_record`](Self::on_record)).
    pub fn without_tailing(mut self) -> Self {
        self.reader = None;
        self
    }

    /// Feeds new `file`/`media`/`finish` records of run.jsonl; other lines are not parsed.
    fn tail_log(&mut self) {
        let mut wanted = Vec::new();
        if let Some(r) = self.reader.as_mut() {
            while let Ok(Some((_, _, line))) = r.next_line() {
                if is_file_or_finish(line) {
                    wanted.extend(serde_json::from_slice::<Value>(line).ok());
                }
            }
        }
        for rec in wanted {
            if let Err(e) = self.on_record(&rec) {
                tracing::warn!(run = %self.run_dir.display(), error = %e, "ignoring a bad record");
            }
        }
    }

    /// Feeds one record of the run log: `file` and `media` records register uploads (a `media`
    /// record may first have its image encoded, see [`crate::media`]), `finish` ends sampling;
    /// everything else is ignored.
    pub fn on_record(&mut self, record: &Value) -> Result<(), CaptureError> {
        match record.get("t").and_then(Value::as_str) {
            Some("file") => self.files.add(&FileRecord::from_json(record)?),
            Some("media") => {
                let path = crate::media::prepare(&self.run_dir.join("files"), record)?;
                self.files.add(&FileRecord::new(&path, Policy::Now))
            }
            Some("finish") => {
                self.finished = true;
                self.flush_stats(Instant::now());
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Marks the run ended without a `finish` record (the agent detected a crash).
    pub fn mark_crashed(&mut self) {
        self.finished = true;
        self.flush_stats(Instant::now());
    }

    /// Does whatever is due: the one-time capture, a metrics sample (appending a record to
    /// system.jsonl when a window closes), and returns files to upload now.
    pub fn tick(&mut self, now: Instant, now_unix: f64) -> Vec<Upload> {
        self.tail_log();
        if !self.captured
            && (self.finished || capture_ready(&self.run_dir, &self.run_record, now_unix, PROCESS_GRACE_S))
        {
            self.captured = true;
            match capture_run(&self.run_dir, &self.run_record) {
                Ok(report) => {
                    for f in &report.files {
                        let _ = self.files.add(f);
                    }
                }
                Err(e) => tracing::warn!(run = %self.run_dir.display(), error = %e, "run capture failed"),
            }
        }
        if !self.finished
            && let (Some(s), Some(log)) = (self.sampler.as_mut(), self.system_log.as_mut())
            && let Some(rec) = s.tick(now)
            && let Err(e) = log.append(&rec)
        {
            tracing::warn!(error = %e, "writing system.jsonl failed");
        }
        if !self.uploads {
            return Vec::new();
        }
        self.files.due(now, self.finished)
    }

    pub fn mark_uploaded(&mut self, path: &str, sha256: &str) -> Result<(), CaptureError> {
        self.files.mark_uploaded(path, sha256)
    }

    /// The server target uploads go to (see [`RunFiles::set_target`]); set it before the first
    /// upload, once the run exists on that server.
    pub fn set_target(&mut self, target: &str) {
        self.files.set_target(target);
    }

    /// The run ended and every file it asked for is uploaded (to the current target, including
    /// uploads an earlier process made): the agent may drop this object.
    pub fn is_done(&self) -> bool {
        self.finished && self.captured && (!self.uploads || self.files.all_uploaded())
    }

    /// When the agent should tick again for metrics (files are polled every loop anyway).
    pub fn next_sample_due(&self) -> Option<Instant> {
        self.sampler.as_ref().filter(|_| !self.finished).map(Sampler::next_due)
    }

    /// Whether an ignore glob keeps `path` from uploading (for uploads the agent finds itself).
    pub fn should_upload(&self, path: &str) -> bool {
        self.files.should_upload(path)
    }

    fn flush_stats(&mut self, now: Instant) {
        if let (Some(s), Some(log)) = (self.sampler.as_mut(), self.system_log.as_mut())
            && let Some(rec) = s.flush(now)
        {
            let _ = log.append(&rec);
        }
        self.sampler = None;
    }
}

/// Cheap pre-filter: records start with `{"t":"<type>"` when written by the SDKs; any other
/// layout falls back to a substring search before parsing.
fn is_file_or_finish(line: &[u8]) -> bool {
    if let Some(rest) = line.strip_prefix(br#"{"t":""#) {
        return rest.starts_with(br#"file""#) || rest.starts_with(br#"finish""#) || rest.starts_with(br#"media""#);
    }
    let has = |pat: &[u8]| line.windows(pat.len()).any(|w| w == pat);
    has(b"\"file\"") || has(b"\"finish\"") || has(b"\"media\"")
}
