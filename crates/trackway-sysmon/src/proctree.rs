//! The training process's whole process tree, read from `/proc` (Linux).
//!
//! DataLoader workers, `torchrun` children and shell pipelines are children of the training
//! process, so wandb's default of sampling one pid misses most of the work. Each sample scans
//! `/proc/*/stat` once (one small read per process on the machine), builds the parent map and
//! walks it from the root pid.
//!
//! CPU time of the tree = Σ over live members of `utime + stime + cutime + cstime`: a worker that
//! exited and was reaped by a tree member keeps counting through its parent's `cutime`, so short
//! lived children are not lost between two samples.
use std::collections::HashMap;
use std::fs;
use std::time::Instant;

use crate::Sample;

/// Clock ticks per second of `/proc/<pid>/stat` times. Linux fixes USER_HZ at 100 for user
/// space on every mainstream architecture, so no `sysconf` (and no `unsafe`) is needed.
const TICKS_PER_SECOND: f64 = 100.0;

/// One process as `/proc/<pid>/stat` describes it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcStat {
    pub pid: u32,
    pub ppid: u32,
    /// utime + stime + cutime + cstime, in clock ticks.
    pub cpu_ticks: u64,
    pub threads: u64,
    pub rss_pages: u64,
}

/// Parses one `/proc/<pid>/stat` line. The command name may contain spaces and parentheses, so
/// fields are counted from the *last* `)`.
pub fn parse_stat(line: &str) -> Option<ProcStat> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let pid = line[..open].trim().parse().ok()?;
    let f: Vec<&str> = line.get(close + 1..)?.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|s| s.parse::<i64>().ok());
    let ticks = [11, 12, 13, 14].iter().map(|&i| num(i).unwrap_or(0).max(0) as u64).sum();
    Some(ProcStat {
        pid,
        ppid: num(1)? as u32,
        cpu_ticks: ticks,
        threads: num(17).unwrap_or(0).max(0) as u64,
        rss_pages: num(21).unwrap_or(0).max(0) as u64,
    })
}

/// Every process on the machine (processes that vanish mid-scan are skipped).
pub fn scan_all() -> Vec<ProcStat> {
    let Ok(dir) = fs::read_dir("/proc") else { return Vec::new() };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter_map(|pid| fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|line| parse_stat(&line))
        .collect()
}

/// The members of `root`'s tree (root first), from a scan.
pub fn tree_of(root: u32, all: &[ProcStat]) -> Vec<&ProcStat> {
    tree_excluding(root, all, None)
}

/// As [`tree_of`], leaving out the subtree of `exclude`: the agent is started by the training
/// process, so it is in that tree, and its own cost must not be billed to the run.
pub fn tree_excluding(root: u32, all: &[ProcStat], exclude: Option<u32>) -> Vec<&ProcStat> {
    let mut children: HashMap<u32, Vec<&ProcStat>> = HashMap::new();
    let mut root_stat = None;
    for p in all {
        if p.pid == root {
            root_stat = Some(p);
        } else if Some(p.pid) != exclude {
            children.entry(p.ppid).or_default().push(p);
        }
    }
    let Some(r) = root_stat else { return Vec::new() };
    let mut out = vec![r];
    let mut i = 0;
    while i < out.len() {
        if let Some(kids) = children.get(&out[i].pid) {
            out.extend(kids.iter().copied());
        }
        i += 1;
    }
    out
}

/// The tree's totals at one instant.
#[derive(Clone, Debug, Default)]
pub struct TreeSample {
    pub pids: Vec<u32>,
    pub cpu_ticks: u64,
    /// % of one core since the previous sample (None for the first sample or no root).
    pub cpu_percent: Option<f64>,
    pub rss_bytes: u64,
    pub threads: u64,
}

impl TreeSample {
    pub(crate) fn write_into(&self, s: &mut Sample, total_memory: u64, logical_cpus: usize) {
        if self.pids.is_empty() {
            return;
        }
        if let Some(pct) = self.cpu_percent {
            s.gauge("system/proc.cpu.percent", pct);
            s.gauge("system/cpu", pct / logical_cpus.max(1) as f64);
        }
        s.gauge("system/proc.count", self.pids.len() as f64);
        s.gauge("system/proc.cpu.threads", self.threads as f64);
        s.gauge("system/proc.memory.rssMB", self.rss_bytes as f64 / MIB);
        if total_memory > 0 {
            s.gauge("system/proc.memory.percent", 100.0 * self.rss_bytes as f64 / total_memory as f64);
        }
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// Samples one tree, remembering the previous CPU total for percentages.
pub struct TreeSource {
    root: Option<u32>,
    page_size: u64,
    prev: Option<(Instant, u64)>,
}

impl TreeSource {
    pub fn new(root: Option<u32>) -> Self {
        TreeSource { root, page_size: page_size(), prev: None }
    }

    pub fn sample(&mut self, now: Instant) -> TreeSample {
        let Some(root) = self.root else { return TreeSample::default() };
        let all = scan_all();
        let tree = tree_excluding(root, &all, Some(std::process::id()));
        let mut t = TreeSample {
            pids: tree.iter().map(|p| p.pid).collect(),
            cpu_ticks: tree.iter().map(|p| p.cpu_ticks).sum(),
            rss_bytes: tree.iter().map(|p| p.rss_pages * self.page_size).sum(),
            threads: tree.iter().map(|p| p.threads).sum(),
            cpu_percent: None,
        };
        if let Some((then, ticks)) = self.prev {
            let secs = now.duration_since(then).as_secs_f64();
            if secs > 0.0 && !t.pids.is_empty() {
                // A reaped child whose parent is outside the tree takes its ticks along: clamp.
                let delta = t.cpu_ticks.saturating_sub(ticks) as f64 / TICKS_PER_SECOND;
                t.cpu_percent = Some(100.0 * delta / secs);
            }
        }
        self.prev = Some((now, t.cpu_ticks));
        t
    }
}

/// Kernel page size from `/proc/self/smaps` (4 KiB on x86-64, 16/64 KiB on some ARM kernels).
fn page_size() -> u64 {
    let Ok(text) = fs::read_to_string("/proc/self/smaps") else { return 4096 };
    text.lines()
        .find_map(|l| l.strip_prefix("KernelPageSize:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(4096, |kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_spaces_and_parens() {
        let line = "4242 (my (weird) prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 5 0 123 1000 321 18446744073709551615";
        let p = parse_stat(line).expect("parses");
        assert_eq!(p.pid, 4242);
        assert_eq!(p.ppid, 1);
        assert_eq!(p.cpu_ticks, 250 + 50 + 7 + 3);
        assert_eq!(p.threads, 5);
        assert_eq!(p.rss_pages, 321);
    }

    #[test]
    fn tree_walk_includes_grandchildren_only() {
        let mk = |pid, ppid| ProcStat { pid, ppid, ..Default::default() };
        let all = vec![mk(1, 0), mk(10, 1), mk(11, 10), mk(12, 11), mk(20, 1), mk(13, 10)];
        let mut pids: Vec<u32> = tree_of(10, &all).iter().map(|p| p.pid).collect();
        pids.sort_unstable();
        assert_eq!(pids, vec![10, 11, 12, 13]);
        assert!(tree_of(99, &all).is_empty());
        let mut without: Vec<u32> = tree_excluding(10, &all, Some(11)).iter().map(|p| p.pid).collect();
        without.sort_unstable();
        assert_eq!(without, vec![10, 13], "the excluded pid's whole subtree is left out");
    }
}
