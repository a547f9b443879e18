//! The upload state machine of one run directory. [`RunUploader::step`] does at most one
//! request and never sleeps, so one thread can drive many runs (the agent) or one run until it is
//! done (sync).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use trackway_client::{ClientError, IngestAck};
use trackway_runlog::{LOG_FILE, LogReader, UploadCursor, read_cursor, write_cursor};
use trackway_types::{Record, RunRecord};

use crate::backoff::Backoff;
use crate::batch::{Batch, Limits, Target, read_batch};
use crate::crash::{append_crash_finish, log_has_finish, writer_alive};
use crate::keys::{ClientPool, default_base_url};
use crate::marker;
use crate::{AgentError, Result};

/// Default largest request body (raw JSON, before zstd).
pub const MAX_BATCH_BYTES: usize = 4 << 20;
/// Wait after a permanent error (bad key, rejected request) before trying again.
const SLOW_RETRY: Duration = Duration::from_secs(30);
/// How often to check whether a silent run's writer died.
const CRASH_CHECK_EVERY: Duration = Duration::from_secs(1);

/// Target overrides (`trackway sync --project/--entity/--id`) and the server to use.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub project: Option<String>,
    pub entity: Option<String>,
    pub run_id: Option<String>,
    pub base_url: Option<String>,
}

impl Overrides {
    fn any_target(&self) -> bool {
        self.project.is_some() || self.entity.is_some() || self.run_id.is_some()
    }
}

/// What one [`RunUploader::step`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum StepResult {
    /// Nothing to do right now (batching delay or backoff).
    Waiting,
    /// A request succeeded (or a rewind happened); more may follow at once.
    Progress,
    /// Everything complete in the log is acknowledged, the run has not finished.
    CaughtUp,
    /// The log ended with `finish` and the server acknowledged all of it (or the run is marked
    /// synced to this target already). `synced` is written unless [`RunUploader::defer_marker`].
    Synced,
    /// The log has no `run` record yet.
    NoRunRecord,
    /// An offline run, and this uploader leaves those to `sync`.
    Offline,
    /// The run directory or its log was deleted.
    Gone,
    /// The last attempt failed; retry after the backoff.
    Failed { message: String, permanent: bool },
}

/// Upload progress of one run directory.
#[derive(Debug)]
pub struct RunUploader {
    pub dir: PathBuf,
    log: PathBuf,
    pub run: Option<RunRecord>,
    run_line: Option<Vec<u8>>,
    overrides: Overrides,
    target: Option<Target>,
    pub acked: u64,
    cursor: Option<UploadCursor>,
    finish_acked: bool,
    tail_checked: bool,
    last_size: u64,
    pending_since: Option<Instant>,
    flush_after: Duration,
    /// Leave offline runs alone (the background agent); sync uploads them.
    pub skip_offline: bool,
    /// The caller uploads the run's files too and writes the `synced` marker itself once they
    /// are acknowledged (`synced` means everything is on the server); the uploader then never
    /// writes it, and only a marker that includes files counts as synced.
    pub defer_marker: bool,
    /// [`marker::target_key`] of where this log goes, once the run record is read.
    target_key: Option<String>,
    /// The run on the server as an earlier process recorded it in the cursor: known without a
    /// request, so a restarted agent can upload files of a run whose log is complete.
    known_remote: Option<Target>,
    backoff: Backoff,
    next_try: Instant,
    last_failure: Option<StepResult>,
    last_crash_check: Option<Instant>,
    limits: Limits,
    bisect_until: u64,
    skip: BTreeSet<u64>,
    /// The next batch, read while the previous one was in flight.
    prefetched: Option<Batch>,
    /// History records of this log the server dropped (kept in the cursor for `finish()`).
    dropped: u64,
    /// The run's writer was interrupted for a stop request (once per uploader).
    stop_signalled: bool,
    /// Records and bytes acknowledged during this process's life.
    pub sent_records: u64,
    pub sent_bytes: u64,
}

impl RunUploader {
    /// Opens a run directory. `flush_after` is the longest time new data waits to be batched
    /// (zero: send at once, as sync does).
    pub fn new(dir: &Path, overrides: Overrides, flush_after: Duration) -> Result<Self> {
        let cursor = read_cursor(dir).unwrap_or_else(|e| {
            tracing::warn!(dir = %dir.display(), error = %e, "unreadable upload cursor; starting over");
            None
        });
        let now = Instant::now();
        Ok(RunUploader {
            dir: dir.to_path_buf(),
            log: dir.join(LOG_FILE),
            run: None,
            run_line: None,
            overrides,
            target: None,
            acked: 0,
            cursor,
            finish_acked: false,
            tail_checked: false,
            last_size: 0,
            pending_since: None,
            flush_after,
            skip_offline: false,
            defer_marker: false,
            target_key: None,
            known_remote: None,
            backoff: Backoff::new(Duration::from_millis(500), Duration::from_secs(15)),
            next_try: now,
            last_failure: None,
            last_crash_check: None,
            limits: Limits { max_bytes: batch_bytes(), max_records: usize::MAX },
            bisect_until: 0,
            skip: BTreeSet::new(),
            prefetched: None,
            dropped: 0,
            stop_signalled: false,
            sent_records: 0,
            sent_bytes: 0,
        })
    }

    /// Whether the run was written in offline mode (the agent leaves those to `sync`).
    pub fn is_offline(&self) -> bool {
        self.run.as_ref().and_then(|r| r.mode.as_deref()) == Some("offline")
    }

    /// The server address `entity/project/run_id` once the run was created there.
    pub fn remote_path(&self) -> Option<String> {
        self.target.as_ref().or(self.known_remote.as_ref()).map(|t| format!("{}/{}/{}", t.entity, t.project, t.run_id))
    }

    /// Where the run lives on the server, once created there.
    pub(crate) fn remote(&self) -> Option<crate::stream::Remote> {
        self.target.as_ref().or(self.known_remote.as_ref()).map(|t| crate::stream::Remote {
            base_url: self.base_url(),
            entity: t.entity.clone(),
            project: t.project.clone(),
            run_id: t.run_id.clone(),
        })
    }

    /// Bytes of the log not yet acknowledged (including an unterminated tail).
    pub fn unsent_bytes(&self) -> u64 {
        std::fs::metadata(&self.log).map_or(0, |m| m.len().saturating_sub(self.acked))
    }

    /// Does at most one request. Never sleeps.
    pub fn step(&mut self, pool: &mut ClientPool) -> StepResult {
        if !self.log.exists() {
            return StepResult::Gone;
        }
        let now = Instant::now();
        if now < self.next_try {
            return self.last_failure.clone().unwrap_or(StepResult::Waiting);
        }
        match self.try_step(pool, now) {
            Ok(r) => r,
            Err(e) => self.fail_local(&e),
        }
    }

    fn try_step(&mut self, pool: &mut ClientPool, now: Instant) -> Result<StepResult> {
        if self.run.is_none() && !self.load_run_record()? {
            return Ok(StepResult::NoRunRecord);
        }
        if self.marked_synced() {
            return Ok(StepResult::Synced);
        }
        if self.skip_offline && self.is_offline() {
            return Ok(StepResult::Offline);
        }
        let size = std::fs::metadata(&self.log).map_err(|e| AgentError::io(&self.log, e))?.len();
        if self.acked >= size {
            return self.caught_up(now);
        }
        if !self.ready_to_send(size, now) {
            return Ok(StepResult::Waiting);
        }
        if self.target.is_none()
            && let Some(fail) = self.create_remote(pool)?
        {
            return Ok(fail);
        }
        self.send_batch(pool, size, now)
    }

    /// Reads the first record; false while the log is still empty.
    fn load_run_record(&mut self) -> Result<bool> {
        let mut reader = LogReader::open(&self.log, 0)?;
        let Some(entry) = reader.next_entry()? else {
            return Ok(false);
        };
        let mut run = match entry.record {
            Ok(Record::Run(r)) => r,
            Ok(other) => {
                return Err(AgentError::Invalid(format!("first record is `{}`, not `run`", other.type_tag())));
            }
            Err(e) => return Err(AgentError::Invalid(format!("first line is corrupt: {e}"))),
        };
        if self.overrides.any_target() {
            if let Some(p) = &self.overrides.project {
                run.project = Some(p.clone());
            }
            if let Some(e) = &self.overrides.entity {
                run.entity = Some(e.clone());
            }
            if let Some(id) = &self.overrides.run_id {
                run.run_id = id.clone();
            }
            let mut line = Record::Run(run.clone()).to_line();
            line.pop();
            self.run_line = Some(line);
        }
        let key =
            marker::target_key(&self.base_url_for(&run), run.entity.as_deref(), run.project.as_deref(), &run.run_id);
        self.adopt_cursor(&run, &key);
        self.target_key = Some(key);
        self.run = Some(run);
        Ok(true)
    }

    /// Uses the cursor only if it is for this log and this target; a cursor for another target
    /// (`sync --id NEW` of an uploaded run) says nothing about what the new one has.
    fn adopt_cursor(&mut self, run: &RunRecord, key: &str) {
        let Some(c) = &self.cursor else { return };
        // Cursors of older agents name no target: they are for the run's own target.
        let same_target = c.target.as_deref().map_or(!self.overrides.any_target(), |t| t == key);
        if c.log_id != run.log_id || !same_target {
            tracing::warn!(dir = %self.dir.display(), "cursor belongs to another log or target; starting over");
            self.cursor = None;
            return;
        }
        self.acked = c.offset;
        self.dropped = c.dropped;
        let mut parts = c.remote.as_deref().unwrap_or("").splitn(3, '/');
        if let (Some(e), Some(p), Some(id)) = (parts.next(), parts.next(), parts.next()) {
            self.known_remote = Some(Target {
                entity: e.to_string(),
                project: p.to_string(),
                run_id: id.to_string(),
                log_id: run.log_id.clone(),
            });
        }
    }

    /// Where this log goes, as named in the `synced` marker.
    pub fn target_key(&self) -> Option<&str> {
        self.target_key.as_deref()
    }

    /// Whether the marker says this target has the run already (reads the run record first).
    pub fn marked_synced(&mut self) -> bool {
        if self.run.is_none() && !self.load_run_record().unwrap_or(false) {
            return false;
        }
        let legacy_ok = !self.overrides.any_target();
        self.target_key.as_deref().is_some_and(|k| marker::synced_to(&self.dir, k, self.defer_marker, legacy_ok))
    }

    /// Batching: a growing log waits up to `flush_after` (or until a batch is full) so a fast
    /// loop does not cost a request per row; a log that stopped growing or just got its `finish`
    /// record is sent at once, so `finish()` drains quickly.
    fn ready_to_send(&mut self, size: u64, now: Instant) -> bool {
        let grew = size != self.last_size;
        self.last_size = size;
        if self.flush_after.is_zero() || size - self.acked >= self.limits.max_bytes as u64 {
            return true;
        }
        let since = *self.pending_since.get_or_insert(now);
        if !grew || now.duration_since(since) >= self.flush_after {
            return true;
        }
        tail_is_finish(&self.log, size)
    }

    fn caught_up(&mut self, now: Instant) -> Result<StepResult> {
        self.pending_since = None;
        if !self.finish_acked && !self.tail_checked && self.acked > 0 && log_has_finish(&self.log)? {
            // A restarted agent: the finish record was acknowledged by an earlier process.
            self.finish_acked = self.acked >= std::fs::metadata(&self.log).map_or(u64::MAX, |m| m.len());
        }
        // Once is enough: from here on, acknowledged batches tell whether `finish` went through.
        self.tail_checked = true;
        if self.finish_acked {
            self.mark_synced()?;
            return Ok(StepResult::Synced);
        }
        let due = self.last_crash_check.is_none_or(|t| now.duration_since(t) >= CRASH_CHECK_EVERY);
        if due {
            self.last_crash_check = Some(now);
            if let Some(run) = &self.run
                && !writer_alive(run)
                && !log_has_finish(&self.log)?
            {
                tracing::info!(dir = %self.dir.display(), pid = ?run.pid, "writer died without finish; marking crashed");
                append_crash_finish(&self.log)?;
                return Ok(StepResult::Progress);
            }
        }
        Ok(StepResult::CaughtUp)
    }

    fn base_url(&self) -> String {
        match &self.run {
            Some(run) => self.base_url_for(run),
            None => self.overrides.base_url.clone().unwrap_or_else(default_base_url),
        }
    }

    fn base_url_for(&self, run: &RunRecord) -> String {
        self.overrides
            .base_url
            .clone()
            .or_else(|| run.base_url.clone().filter(|u| !u.is_empty()))
            .unwrap_or_else(default_base_url)
    }

    /// `POST /runs` on first contact. Returns a failure result, or None when the run exists now.
    fn create_remote(&mut self, pool: &mut ClientPool) -> Result<Option<StepResult>> {
        let Some(run) = self.run.clone() else {
            return Ok(Some(StepResult::NoRunRecord));
        };
        let mut body = serde_json::to_value(&run).map_err(|e| AgentError::Invalid(e.to_string()))?;
        if let Some(map) = body.as_object_mut() {
            map.insert("t".into(), "run".into());
            // A cursor for this log means we created the run before (maybe with resume
            // "never"): come back to it instead of tripping over our own run.
            if self.cursor.is_some() {
                map.insert("resume".into(), "allow".into());
            }
        }
        let base = self.base_url();
        let result = match pool.get(&base) {
            Ok(client) => client.create_run(&body),
            Err(e) => Err(e),
        };
        match result {
            Ok(created) => {
                tracing::info!(dir = %self.dir.display(), run = %format!("{}/{}/{}", created.run.entity, created.run.project, created.run.run_id), resumed = created.resumed, "run created on server");
                self.target = Some(Target {
                    entity: created.run.entity,
                    project: created.run.project,
                    run_id: created.run.run_id,
                    log_id: run.log_id.clone(),
                });
                self.save_cursor(None)?;
                Ok(None)
            }
            Err(e) => Ok(Some(self.fail_remote(pool, &base, e, None))),
        }
    }

    fn send_batch(&mut self, pool: &mut ClientPool, size: u64, now: Instant) -> Result<StepResult> {
        let Some(target) = self.target.clone() else {
            return Ok(StepResult::Waiting);
        };
        let batch = match self.prefetched.take() {
            Some(b) if b.from == self.acked => b,
            _ => read_batch(&self.log, self.acked, &target, self.limits, self.run_line.as_deref(), &self.skip)?,
        };
        for (pos, why) in &batch.corrupt {
            tracing::warn!(dir = %self.dir.display(), position = pos, reason = %why, "skipping corrupt line");
        }
        if batch.to == batch.from {
            return self.caught_up(now); // only an unterminated tail
        }
        let base = self.base_url();
        let result = match pool.get(&base) {
            Ok(client) => self.ingest_and_prefetch(client, &batch, &target, size),
            Err(e) => Err(e),
        };
        match result {
            Ok(ack) => {
                let acked = ack.acked;
                if ack.dropped > 0 {
                    tracing::warn!(dir = %self.dir.display(), dropped = ack.dropped, "the server dropped history at steps another attempt of the run had written");
                }
                self.dropped += ack.dropped;
                if ack.stop_requested && !self.stop_signalled {
                    // Stopped from the UI or the API: interrupt the training process, as
                    // wandb's SDK does when its server says `stopped`.
                    // One try: a writer on another machine is not ours to stop.
                    if let Some(run) = &self.run {
                        crate::crash::interrupt_writer(run);
                    }
                    self.stop_signalled = true;
                }
                self.acked = acked.max(self.acked);
                self.finish_acked |= batch.has_finish && acked >= batch.to;
                self.sent_records += batch.records as u64;
                self.sent_bytes += acked.saturating_sub(batch.from);
                if self.acked >= self.bisect_until {
                    self.limits.max_records = usize::MAX;
                }
                self.backoff.reset();
                self.last_failure = None;
                self.pending_since = (self.acked < size).then_some(now);
                self.save_cursor(None)?;
                Ok(StepResult::Progress)
            }
            Err(e) => {
                self.prefetched = None;
                Ok(self.fail_remote(pool, &base, e, Some(&batch)))
            }
        }
    }

    /// Sends `batch`. With a backlog behind it, the next batch is read and framed while this
    /// one is on the wire (compression runs on the sending thread), so on two cores the agent's
    /// work overlaps the server's instead of adding to it.
    fn ingest_and_prefetch(
        &mut self,
        client: &trackway_client::Client,
        batch: &Batch,
        target: &Target,
        size: u64,
    ) -> Result<IngestAck, ClientError> {
        let send = || match &batch.packed {
            Some(packed) => client.ingest_packed_ack(packed),
            None => client.pack(&batch.body).and_then(|p| client.ingest_packed_ack(&p)),
        };
        if size <= batch.to {
            return send();
        }
        let (log, limits, skip) = (&self.log, self.limits, &self.skip);
        let (sent, next) = std::thread::scope(|sc| {
            let sender = sc.spawn(send);
            let next =
                read_batch(log, batch.to, target, limits, None, skip).ok().filter(|n| n.to > n.from).map(|mut n| {
                    // Compressing here too keeps it off the path between two requests.
                    n.packed = client.pack(&n.body).ok();
                    n
                });
            (sender.join(), next)
        });
        self.prefetched = next;
        sent.unwrap_or_else(|_| {
            Err(ClientError::Decode { url: client.base_url().into(), reason: "sender thread panicked".into() })
        })
    }

    /// Decides what a failed request means: rewind, shrink, skip, back off or wait long.
    fn fail_remote(&mut self, pool: &mut ClientPool, base: &str, e: ClientError, batch: Option<&Batch>) -> StepResult {
        match (&e, batch) {
            (ClientError::OffsetGap { expected }, _) => {
                tracing::info!(dir = %self.dir.display(), from = self.acked, expected, "server expects another position; rewinding");
                self.acked = *expected;
                return StepResult::Progress;
            }
            (ClientError::Permanent { code, .. }, Some(b)) if code == "payload_too_large" && b.records > 1 => {
                self.limits.max_bytes = (self.limits.max_bytes / 2).max(1024);
                return StepResult::Progress;
            }
            (ClientError::Permanent { code, message, position: Some(pos), .. }, Some(b))
                if code == "invalid_record" && (b.from..b.to).contains(pos) =>
            {
                // The server named the record it refuses: skip exactly that one and resend the
                // rest, so one bad line cannot block the run and no good one is dropped.
                tracing::error!(dir = %self.dir.display(), position = pos, error = %message, "server rejected record; skipping it");
                self.skip.insert(*pos);
                return StepResult::Progress;
            }
            (ClientError::Permanent { code, message, .. }, Some(b)) if code == "invalid_record" => {
                // A server that does not name the position: find the record by halving the
                // batch. Other 4xx codes (`bad_request`, ...) say nothing about one record and
                // never skip anything: they are retried slowly below.
                if b.records > 1 {
                    self.limits.max_records = (b.records / 2).max(1);
                    self.bisect_until = self.bisect_until.max(b.to);
                    return StepResult::Progress;
                }
                if let Some((pos, _)) = b.first {
                    tracing::error!(dir = %self.dir.display(), position = pos, error = %message, "server rejected record; skipping it");
                    self.skip.insert(pos);
                    return StepResult::Progress;
                }
            }
            (ClientError::Permanent { code, .. }, Some(_)) if code == "run_not_found" => {
                self.target = None; // the server lost the run: create it again
                return StepResult::Progress;
            }
            (ClientError::Unauthorized { .. }, _) if pool.forget(base) => {
                tracing::info!(dir = %self.dir.display(), "server refused the key; trying the stored login");
                return StepResult::Progress;
            }
            _ => {}
        }
        let permanent = !e.is_retryable();
        let wait = if permanent {
            SLOW_RETRY
        } else {
            // A busy server's `Retry-After` is a floor: never come back sooner than it asked.
            let delay = self.backoff.next_delay();
            e.retry_after().map_or(delay, |floor| delay.max(floor))
        };
        let message = e.to_string();
        if self.backoff.failures() <= 1 || permanent {
            tracing::warn!(dir = %self.dir.display(), error = %message, retry_in_ms = wait.as_millis() as u64, "upload failed");
        }
        self.next_try = Instant::now() + wait;
        if let Err(err) = self.save_cursor(Some(message.clone())) {
            tracing::warn!(error = %err, "cannot write upload cursor");
        }
        let r = StepResult::Failed { message, permanent };
        self.last_failure = Some(r.clone());
        r
    }

    fn fail_local(&mut self, e: &AgentError) -> StepResult {
        let message = e.to_string();
        tracing::warn!(dir = %self.dir.display(), error = %message, "cannot read run");
        self.next_try = Instant::now() + SLOW_RETRY;
        let r = StepResult::Failed { message, permanent: true };
        self.last_failure = Some(r.clone());
        r
    }

    fn save_cursor(&mut self, error: Option<String>) -> Result<()> {
        let Some(run) = &self.run else { return Ok(()) };
        let remote = self
            .target
            .as_ref()
            .or(self.known_remote.as_ref())
            .map(|t| format!("{}/{}/{}", t.entity, t.project, t.run_id));
        let same = self.cursor.as_ref().is_some_and(|c| {
            c.offset == self.acked
                && c.error == error
                && c.finished == self.finish_acked
                && c.remote == remote
                && c.target == self.target_key
                && c.dropped == self.dropped
        });
        if same {
            return Ok(());
        }
        let c = UploadCursor {
            log_id: run.log_id.clone(),
            offset: self.acked,
            acked_at: Some(crate::unix_now()),
            error,
            finished: self.finish_acked,
            target: self.target_key.clone(),
            remote,
            dropped: self.dropped,
        };
        write_cursor(&self.dir, &c)?;
        self.cursor = Some(c);
        Ok(())
    }

    fn mark_synced(&mut self) -> Result<()> {
        self.save_cursor(None)?;
        match (&self.target_key, self.defer_marker) {
            (Some(key), false) => marker::mark_synced(&self.dir, key, false),
            _ => Ok(()),
        }
    }
}

/// Largest request body: `TRACKWAY_AGENT_BATCH_BYTES` (for tuning), else [`MAX_BATCH_BYTES`].
fn batch_bytes() -> usize {
    std::env::var("TRACKWAY_AGENT_BATCH_BYTES")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .map_or(MAX_BATCH_BYTES, |b| b.clamp(4096, 64 << 20))
}

/// Whether the log's last line (ending at `size`) is a `finish` record, reading only its tail.
fn tail_is_finish(log: &Path, size: u64) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(log) else {
        return false;
    };
    let take = size.min(512);
    let mut buf = vec![0u8; take as usize];
    if f.seek(SeekFrom::Start(size - take)).is_err() || f.read_exact(&mut buf).is_err() {
        return false;
    }
    if buf.last() != Some(&b'\n') {
        return false;
    }
    let body = &buf[..buf.len() - 1];
    let start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    matches!(Record::parse(&body[start..]), Ok(Record::Finish(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uploader() -> (tempfile::TempDir, RunUploader) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let up = RunUploader::new(tmp.path(), Overrides::default(), Duration::ZERO).expect("uploader");
        (tmp, up)
    }

    fn batch() -> Batch {
        Batch { from: 100, to: 900, records: 8, first: Some((100, 200)), ..Batch::default() }
    }

    fn refused(code: &str, position: Option<u64>) -> ClientError {
        ClientError::Permanent { status: 400, code: code.into(), message: "m".into(), position }
    }

    #[test]
    fn a_named_record_is_skipped_alone() {
        let (_tmp, mut up) = uploader();
        let mut pool = ClientPool::with_key("k");
        let r = up.fail_remote(&mut pool, "http://127.0.0.1:1", refused("invalid_record", Some(500)), Some(&batch()));
        assert_eq!(r, StepResult::Progress);
        assert_eq!(up.skip.iter().copied().collect::<Vec<_>>(), vec![500]);
        assert_eq!(up.limits.max_records, usize::MAX, "no bisection when the position is named");
    }

    #[test]
    fn errors_about_the_request_never_skip_records() {
        let mut pool = ClientPool::with_key("k");
        let one = Batch { records: 1, ..batch() };
        for code in ["bad_request", "limit_exceeded", "invalid_name"] {
            let (_tmp, mut up) = uploader();
            let r = up.fail_remote(&mut pool, "http://127.0.0.1:1", refused(code, None), Some(&one));
            assert!(matches!(r, StepResult::Failed { permanent: true, .. }), "{code}: {r:?}");
            assert!(up.skip.is_empty(), "{code} skipped a record");
        }
    }

    #[test]
    fn retry_after_is_a_floor_for_the_next_try() {
        let (_tmp, mut up) = uploader();
        let mut pool = ClientPool::with_key("k");
        let busy = ClientError::Retryable {
            status: 503,
            code: "server_busy".into(),
            message: "busy".into(),
            retry_after: Some(Duration::from_secs(120)),
        };
        let before = Instant::now();
        let r = up.fail_remote(&mut pool, "http://127.0.0.1:1", busy, Some(&batch()));
        assert!(matches!(r, StepResult::Failed { permanent: false, .. }), "{r:?}");
        assert!(up.next_try >= before + Duration::from_secs(120));
        assert!(up.skip.is_empty());
    }
}
