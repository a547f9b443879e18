//! Replaying a run log into the run's state (for resume, `trackway runs show`, the agent).

use std::path::{Path, PathBuf};

use trackway_types::summary;
use trackway_types::{Map, Record, RunRecord, Value};

use crate::{LOG_FILE, LogReader, Result, RunlogError};

/// What a run log says about its run, after replaying every complete record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunState {
    /// The `run` record (identity, start parameters).
    pub run: RunRecord,
    /// Latest name/tags/notes/group/job_type after `meta` records.
    pub name: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub group: Option<String>,
    pub job_type: Option<String>,
    pub config: Map,
    pub summary: Map,
    /// Step of the last row, `None` when there are no rows.
    pub last_step: Option<u64>,
    /// Number of rows (runs of consecutive `history` records with the same step).
    pub row_count: u64,
    pub finished: bool,
    pub exit_code: Option<i64>,
    pub crashed: bool,
    pub corrupt_lines: u64,
    /// Offset just after the last complete line.
    pub end_offset: u64,
}

/// Replays `<run_dir>/run.jsonl`. Corrupt lines are counted and skipped; an unterminated tail is
/// ignored. Summary: each committed key's last logged value, overridden by `summary` records in
/// log order (`full` replaces, then `set`, then `del`), so a log that ends with the SDK's final
/// full summary yields it exactly.
pub fn load_run_state(run_dir: &Path) -> Result<RunState> {
    let path = run_dir.join(LOG_FILE);
    let mut reader = LogReader::open(&path, 0)?;
    let mut st = RunState::default();
    let mut seen_run = false;
    while let Some(entry) = reader.next_entry()? {
        match entry.record {
            Err(_) => st.corrupt_lines += 1,
            Ok(Record::Run(r)) if !seen_run => {
                seen_run = true;
                st.apply_run(r);
            }
            Ok(rec) if seen_run => st.apply(rec),
            // Records before the `run` record, or a second `run` record: not this format.
            Ok(_) => st.corrupt_lines += 1,
        }
    }
    if !seen_run {
        return Err(RunlogError::NotARunLog { path });
    }
    st.end_offset = reader.offset();
    Ok(st)
}

/// The newest of `attempts` (oldest first, as [`crate::find_run_dirs`] lists them) whose log
/// can be replayed, with its state. An attempt another process is creating right now (no log
/// yet, or no `run` record yet) or one left empty by a crash holds nothing to resume from, so
/// it is skipped rather than failing the resume.
#[must_use]
pub fn latest_state(attempts: &[PathBuf]) -> Option<(PathBuf, RunState)> {
    attempts.iter().rev().find_map(|dir| match load_run_state(dir) {
        Ok(st) => Some((dir.clone(), st)),
        Err(e) => {
            tracing::debug!("skipping attempt {}: {e}", dir.display());
            None
        }
    })
}

impl RunState {
    fn apply_run(&mut self, r: RunRecord) {
        self.name.clone_from(&r.name);
        self.tags.clone_from(&r.tags);
        self.notes.clone_from(&r.notes);
        self.group.clone_from(&r.group);
        self.job_type.clone_from(&r.job_type);
        self.config.clone_from(&r.config);
        self.run = r;
    }

    fn apply(&mut self, rec: Record) {
        match rec {
            Record::Config(c) => {
                for k in &c.remove {
                    self.config.shift_remove(k);
                }
                self.config.extend(c.data);
            }
            Record::History(h) => {
                if self.last_step != Some(h.step) {
                    self.row_count += 1;
                    self.last_step = Some(h.step);
                }
                for (k, v) in h.data {
                    summary::merge_logged(&mut self.summary, k, v, &mut summary::LastValue);
                }
                self.summary.insert("_step".into(), Value::UInt(h.step).normalized());
                self.summary.insert("_timestamp".into(), Value::Float(h.ts));
                self.summary.insert("_runtime".into(), Value::Float(h.rt));
            }
            Record::Summary(s) => summary::apply_record(&mut self.summary, s),
            Record::Meta(m) => {
                if m.name.is_some() {
                    self.name = m.name;
                }
                if let Some(t) = m.tags {
                    self.tags = t;
                }
                if m.notes.is_some() {
                    self.notes = m.notes;
                }
                if m.group.is_some() {
                    self.group = m.group;
                }
                if m.job_type.is_some() {
                    self.job_type = m.job_type;
                }
            }
            Record::Finish(f) => {
                self.finished = true;
                self.exit_code = f.exit_code;
                self.crashed = f.crashed;
            }
            Record::Run(_) | Record::Metric(_) | Record::Unknown { .. } => {}
        }
    }
}

trait Normalize {
    fn normalized(self) -> Value;
}

impl Normalize for Value {
    /// Steps are u64 but almost always fit i64; keep the common integer variant.
    fn normalized(self) -> Value {
        match self {
            Value::UInt(u) => i64::try_from(u).map_or(Value::UInt(u), Value::Int),
            v => v,
        }
    }
}
