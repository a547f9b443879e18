//! Upload of `system.jsonl`, the metrics stream the agent itself writes for a run: the same
//! ingest route as `run.jsonl`, with the `log_id` of its `stream` header and its own cursor file
//! `upload-system.json` (same shape as `upload.json`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use trackway_client::{Client, ClientError};
use trackway_runlog::{LogReader, UploadCursor};

use crate::backoff::Backoff;
use crate::batch::{Limits, Target, read_batch};

pub(crate) const SYSTEM_LOG: &str = "system.jsonl";
pub(crate) const SYSTEM_CURSOR: &str = "upload-system.json";
/// Metrics arrive every few seconds; one request a second at most is plenty.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The run a stream belongs to on the server.
#[derive(Clone, Debug)]
pub(crate) struct Remote {
    pub base_url: String,
    pub entity: String,
    pub project: String,
    pub run_id: String,
}

impl Remote {
    /// Names this run on this server, for state that is kept per target (uploaded files, the
    /// system stream's cursor).
    pub(crate) fn key(&self) -> String {
        crate::marker::target_key(&self.base_url, Some(&self.entity), Some(&self.project), &self.run_id)
    }
}

#[derive(Debug)]
pub(crate) struct StreamUploader {
    dir: PathBuf,
    log: PathBuf,
    log_id: Option<String>,
    acked: u64,
    /// [`Remote::key`] of the server run `acked` counts for.
    target: String,
    /// The server refused the stream for good (a 4xx): stop, `trackway sync` retries later.
    pub(crate) refused: bool,
    backoff: Backoff,
    next_try: Instant,
}

impl StreamUploader {
    /// The uploader of `dir`'s stream to `remote`. A cursor written for another target is not
    /// used: that server's progress says nothing about this one.
    pub(crate) fn new(dir: &Path, remote: &Remote) -> Self {
        let target = remote.key();
        let cursor: Option<UploadCursor> = std::fs::read(dir.join(SYSTEM_CURSOR))
            .ok()
            .and_then(|b| serde_json::from_slice::<UploadCursor>(&b).ok())
            .filter(|c| c.target.as_ref().is_none_or(|t| *t == target));
        StreamUploader {
            dir: dir.to_path_buf(),
            log: dir.join(SYSTEM_LOG),
            log_id: cursor.as_ref().map(|c| c.log_id.clone()),
            acked: cursor.map_or(0, |c| c.offset),
            target,
            refused: false,
            backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(30)),
            next_try: Instant::now(),
        }
    }

    /// Bytes of the stream not yet acknowledged.
    pub(crate) fn unsent(&self) -> u64 {
        std::fs::metadata(&self.log).map_or(0, |m| m.len().saturating_sub(self.acked))
    }

    /// Every complete line is acknowledged. An unterminated tail (an agent killed in the
    /// middle of an append) is never sent, so it does not count.
    pub(crate) fn caught_up(&self) -> bool {
        if self.unsent() == 0 {
            return true;
        }
        let Ok(bytes) = std::fs::read(&self.log) else {
            return true; // deleted: nothing left to send
        };
        let rest = usize::try_from(self.acked).map_or(&[][..], |a| bytes.get(a..).unwrap_or(&[]));
        !rest.contains(&b'\n')
    }

    /// Sends what is new (at most one request). Errors only delay the next try: the metrics
    /// stay on disk and `trackway sync` can send them later.
    pub(crate) fn step(&mut self, client: &Client, remote: &Remote) {
        let now = Instant::now();
        if now < self.next_try || self.unsent() == 0 {
            return;
        }
        self.next_try = now + MIN_INTERVAL;
        if let Err(e) = self.send(client, remote) {
            if !e.is_retryable() {
                tracing::warn!(dir = %self.dir.display(), error = %e, "the server refused the system metrics; the run is not marked synced (`trackway sync` retries)");
                self.refused = true;
                return;
            }
            let wait = self.backoff.next_delay();
            if self.backoff.failures() <= 1 {
                tracing::warn!(dir = %self.dir.display(), error = %e, "system metrics upload failed");
            }
            self.next_try = now + wait;
        }
    }

    fn send(&mut self, client: &Client, remote: &Remote) -> Result<(), ClientError> {
        let local =
            |e: crate::AgentError| ClientError::Decode { url: self.log.display().to_string(), reason: e.to_string() };
        let log_id = match &self.log_id {
            Some(id) => id.clone(),
            None => match stream_log_id(&self.log) {
                Some(id) => id,
                None => return Ok(()), // no header yet
            },
        };
        self.log_id = Some(log_id.clone());
        let target = Target {
            entity: remote.entity.clone(),
            project: remote.project.clone(),
            run_id: remote.run_id.clone(),
            log_id,
        };
        let limits = Limits { max_bytes: 1 << 20, max_records: usize::MAX };
        // Synced under another run id (`sync --id`): the header names the run it is sent to.
        let header = (self.acked == 0).then(|| stream_header_for(&self.log, &remote.run_id)).flatten();
        let batch = read_batch(&self.log, self.acked, &target, limits, header.as_deref(), &Default::default())
            .map_err(local)?;
        if batch.to == batch.from {
            return Ok(());
        }
        match client.ingest_raw(&batch.body) {
            Ok(acked) => {
                self.acked = acked.max(self.acked);
                self.backoff.reset();
                self.save().map_err(|e| local(crate::AgentError::io(self.dir.join(SYSTEM_CURSOR), e)))
            }
            Err(ClientError::OffsetGap { expected }) => {
                self.acked = expected;
                self.next_try = Instant::now();
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn save(&self) -> std::io::Result<()> {
        let c = UploadCursor {
            log_id: self.log_id.clone().unwrap_or_default(),
            offset: self.acked,
            acked_at: Some(crate::unix_now()),
            error: None,
            finished: false,
            target: Some(self.target.clone()),
            remote: None,
            dropped: 0,
        };
        let path = self.dir.join(SYSTEM_CURSOR);
        let tmp = self.dir.join(format!(".{SYSTEM_CURSOR}.{}.tmp", std::process::id()));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(&c).unwrap_or_default())?;
        std::fs::rename(&tmp, &path)
    }
}

/// The `log_id` of the stream's `stream` header line.
/// The stream's header with `run_id` set to `run_id`, when it names another run.
fn stream_header_for(log: &Path, run_id: &str) -> Option<Vec<u8>> {
    let mut reader = LogReader::open(log, 0).ok()?;
    let (_, _, line) = reader.next_line().ok()??;
    let mut v: serde_json::Value = serde_json::from_slice(line).ok()?;
    if v.get("run_id")?.as_str()? == run_id {
        return None;
    }
    v["run_id"] = run_id.into();
    serde_json::to_vec(&v).ok()
}

fn stream_log_id(log: &Path) -> Option<String> {
    let mut reader = LogReader::open(log, 0).ok()?;
    let (_, _, line) = reader.next_line().ok()??;
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    (v.get("t")?.as_str()? == "stream").then(|| v.get("log_id")?.as_str().map(str::to_string))?
}
