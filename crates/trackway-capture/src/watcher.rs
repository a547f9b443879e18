//! Change notifications for `live` files, polled by the agent.
//!
//! Uses the platform watcher (inotify on Linux) through `notify`, watching each target's
//! *parent directory* non-recursively: editors and `torch.save` often replace a file by rename,
//! which a watch on the file's inode would miss. Events are debounced per file: a file is
//! reported once it has been quiet for `debounce`, or at the latest `max_delay` after its first
//! unreported change (so a log appended to continuously still uploads). When no platform
//! watcher can be created (inotify limits), it falls back to comparing size and mtime on every
//! poll.
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant, SystemTime};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};

pub struct FileWatcher {
    watcher: Option<RecommendedWatcher>,
    rx: Receiver<notify::Result<notify::Event>>,
    dirs: HashSet<PathBuf>,
    /// Resolved target path -> the run-relative names that point at it.
    targets: HashMap<PathBuf, Vec<String>>,
    /// Run-relative name -> (first, last) unreported change.
    pending: HashMap<String, (Instant, Instant)>,
    /// For the polling fallback: last seen (len, mtime).
    stamps: HashMap<String, (PathBuf, Option<(u64, SystemTime)>)>,
    debounce: Duration,
    max_delay: Duration,
}

impl FileWatcher {
    pub fn new(debounce: Duration) -> Self {
        let (tx, rx) = channel();
        let watcher = notify::recommended_watcher(move |ev| {
            let _ = tx.send(ev); // the receiver is gone only when the watcher is dropped
        })
        .map_err(|e| tracing::warn!(error = %e, "file watcher unavailable; polling instead"))
        .ok();
        FileWatcher {
            watcher,
            rx,
            dirs: HashSet::new(),
            targets: HashMap::new(),
            pending: HashMap::new(),
            stamps: HashMap::new(),
            debounce,
            max_delay: (debounce * 10).max(Duration::from_secs(5)),
        }
    }

    /// Whether the platform watcher is active (false: polling fallback).
    pub fn is_native(&self) -> bool {
        self.watcher.is_some()
    }

    /// Starts watching `path` (a file, or a symlink to one) under the name `rel`.
    pub fn watch(&mut self, rel: &str, path: &Path) {
        let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let dir = target.parent().map(Path::to_path_buf).unwrap_or_default();
        if let Some(w) = self.watcher.as_mut()
            && !self.dirs.contains(&dir)
        {
            match w.watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.dirs.insert(dir);
                }
                Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "cannot watch; polling it"),
            }
        }
        self.stamps.insert(rel.to_string(), (target.clone(), stamp(&target)));
        let names = self.targets.entry(target).or_default();
        if !names.iter().any(|n| n == rel) {
            names.push(rel.to_string());
        }
    }

    /// Names whose file changed and is due for upload now (each reported once per change burst).
    pub fn poll(&mut self, now: Instant) -> Vec<String> {
        while let Ok(ev) = self.rx.try_recv() {
            let Ok(ev) = ev else { continue };
            if matches!(ev.kind, notify::EventKind::Access(_)) {
                continue;
            }
            for p in &ev.paths {
                for rel in self.targets.get(p).into_iter().flatten() {
                    let e = self.pending.entry(rel.clone()).or_insert((now, now));
                    e.1 = now;
                }
            }
        }
        self.poll_stamps(now);
        let due: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, (first, last))| {
                now.duration_since(*last) >= self.debounce || now.duration_since(*first) >= self.max_delay
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in &due {
            self.pending.remove(k);
        }
        due
    }

    /// Size/mtime comparison for files whose directory has no native watch.
    fn poll_stamps(&mut self, now: Instant) {
        for (rel, (target, last)) in self.stamps.iter_mut() {
            let native = target.parent().is_some_and(|d| self.dirs.contains(d)) && self.watcher.is_some();
            if native {
                continue;
            }
            let cur = stamp(target);
            if cur != *last {
                *last = cur;
                let e = self.pending.entry(rel.clone()).or_insert((now, now));
                e.1 = now;
            }
        }
    }
}

fn stamp(p: &Path) -> Option<(u64, SystemTime)> {
    let m = fs::metadata(p).ok()?;
    Some((m.len(), m.modified().ok()?))
}
