//! Crash detection: a run whose writer died without a `finish` record gets one appended, so the
//! server marks it crashed and the upload can complete.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use trackway_types::{Record, RunRecord};

use crate::{AgentError, Result};

/// Linux reports process start times in clock ticks; USER_HZ is 100 on every mainstream build.
const CLOCK_TICKS: f64 = 100.0;
/// Slack between the process start and the run's `created_at` before we call the pid reused.
const START_SLACK_S: f64 = 5.0;

/// What the process table says about a run's writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Writer {
    /// A same-host pid that is gone, a zombie, or a different (younger) process.
    Gone,
    /// The writer itself: same host, alive, started before the run was created.
    Here(u32),
    /// Cannot tell (no pid, another host, not Linux, unreadable `/proc`).
    Unknown,
}

fn check_writer(run: &RunRecord) -> Writer {
    let Some(pid) = run.pid else { return Writer::Unknown };
    if let Some(host) = &run.host
        && !host.is_empty()
        && Some(host.as_str()) != this_host().as_deref()
    {
        return Writer::Unknown;
    }
    if !Path::new("/proc/self/stat").exists() {
        return Writer::Unknown; // not Linux: no cheap, safe check
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Writer::Gone;
    };
    // Fields after the command name, which is in parentheses and may contain spaces.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return Writer::Unknown;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if matches!(fields.first(), Some(&"Z") | Some(&"X") | Some(&"x")) {
        return Writer::Gone;
    }
    match (fields.get(19).and_then(|s| s.parse::<f64>().ok()), boot_time(), run.created_at) {
        (Some(ticks), Some(btime), Some(created)) if btime + ticks / CLOCK_TICKS <= created + START_SLACK_S => {
            Writer::Here(pid)
        }
        (Some(_), Some(_), Some(_)) => Writer::Gone,
        _ => Writer::Unknown,
    }
}

/// Whether the process that writes `run` may still be alive. Only a same-host pid that is gone,
/// a zombie, or a different (younger) process counts as dead; anything we cannot check is alive,
/// because appending `finish` to a live run would end it early.
pub fn writer_alive(run: &RunRecord) -> bool {
    check_writer(run) != Writer::Gone
}

/// A stop was requested for the run (the server's ingest answer says `stop_requested`): the
/// writer is interrupted as wandb's SDK does it, with SIGINT (`KeyboardInterrupt` in Python's
/// main thread), so the script's own handlers and `finish()` run. Only a writer this agent can
/// identify for certain (same host, the process that created the run) is signalled; returns
/// whether it was.
pub fn interrupt_writer(run: &RunRecord) -> bool {
    let Writer::Here(pid) = check_writer(run) else {
        tracing::warn!(run = %run.run_id, "a stop was requested but the run's process is not on this machine");
        return false;
    };
    signal_interrupt(pid)
}

#[cfg(unix)]
fn signal_interrupt(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else { return false };
    match rustix::process::kill_process(pid, rustix::process::Signal::INT) {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, "interrupting the run's process failed");
            false
        }
    }
}

#[cfg(not(unix))]
fn signal_interrupt(_pid: u32) -> bool {
    false
}

fn this_host() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_string())
}

fn boot_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse().ok())
}

/// Whether the last complete line of the log is a `finish` record (it is always the last record
/// a writer appends, so there is no need to scan the whole log).
pub(crate) fn log_has_finish(log: &Path) -> Result<bool> {
    let mut f = std::fs::File::open(log).map_err(|e| AgentError::io(log, e))?;
    let len = f.metadata().map_err(|e| AgentError::io(log, e))?.len();
    let take = len.min(64 * 1024);
    f.seek(SeekFrom::Start(len - take)).map_err(|e| AgentError::io(log, e))?;
    let mut buf = Vec::with_capacity(take as usize);
    f.read_to_end(&mut buf).map_err(|e| AgentError::io(log, e))?;
    // Drop an unterminated tail, then look at the last complete line.
    let Some(end) = buf.iter().rposition(|&b| b == b'\n') else {
        return Ok(false);
    };
    let body = &buf[..end];
    let start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if start == 0 && len > take {
        return Ok(false); // a last line over 64 KiB is not a finish record
    }
    Ok(matches!(Record::parse(&body[start..]), Ok(Record::Finish(_))))
}

/// Appends `{"t":"finish","exit_code":null,"crashed":true,"ts":...}` with the format's rules:
/// `O_APPEND`, one `write(2)`, and a `\n` first if a torn write left the tail unterminated.
pub fn append_crash_finish(log: &Path) -> Result<()> {
    let mut f = OpenOptions::new().append(true).read(true).open(log).map_err(|e| AgentError::io(log, e))?;
    let len = f.metadata().map_err(|e| AgentError::io(log, e))?.len();
    let mut line = Vec::with_capacity(96);
    if len > 0 {
        let mut last = [0u8; 1];
        f.seek(SeekFrom::Start(len - 1)).map_err(|e| AgentError::io(log, e))?;
        f.read_exact(&mut last).map_err(|e| AgentError::io(log, e))?;
        if last[0] != b'\n' {
            f.write_all(b"\n").map_err(|e| AgentError::io(log, e))?;
        }
    }
    let rec = serde_json::json!({"t": "finish", "exit_code": null, "crashed": true, "ts": crate::unix_now()});
    serde_json::to_writer(&mut line, &rec).map_err(|e| AgentError::Invalid(e.to_string()))?;
    line.push(b'\n');
    f.write_all(&line).map_err(|e| AgentError::io(log, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_finish_repairs_torn_tail() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let log = tmp.path().join("run.jsonl");
        std::fs::write(
            &log,
            b"{\"t\":\"run\",\"v\":1,\"log_id\":\"abcdabcdabcdabcd\",\"run_id\":\"r\"}\n{\"t\":\"hist",
        )
        .expect("write");
        assert!(!log_has_finish(&log).expect("read"));
        append_crash_finish(&log).expect("append");
        let text = std::fs::read_to_string(&log).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1], "{\"t\":\"hist");
        assert!(lines[2].contains("\"crashed\":true"));
        assert!(log_has_finish(&log).expect("read"));
    }

    #[test]
    fn dead_and_foreign_writers() {
        let me = RunRecord { pid: Some(std::process::id()), created_at: Some(crate::unix_now()), ..Default::default() };
        assert!(writer_alive(&me));
        // pid_max is at most 2^22 on Linux, so this pid cannot exist.
        let gone = RunRecord { pid: Some(4_194_304 + 7), ..Default::default() };
        assert!(!writer_alive(&gone));
        let other_host = RunRecord { pid: Some(4_194_311), host: Some("elsewhere-xyz".into()), ..Default::default() };
        assert!(writer_alive(&other_host));
        // Our own pid but a run created long before this process started: the pid was reused.
        let reused = RunRecord { pid: Some(std::process::id()), created_at: Some(1000.0), ..Default::default() };
        assert!(!writer_alive(&reused));
    }
}
