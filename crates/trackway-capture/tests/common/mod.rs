//! Helpers: temporary git repositories and run directories.
#![allow(dead_code)]
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn write(path: &Path, bytes: &[u8]) {
    if let Some(d) = path.parent() {
        fs::create_dir_all(d).expect("mkdir");
    }
    fs::write(path, bytes).expect("write");
}

/// Every file under `dir` (relative path -> bytes, executable bit), skipping the given top-level names.
pub fn tree(dir: &Path, skip: &[&str]) -> Vec<(String, Vec<u8>, bool)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, skip: &[&str], out: &mut Vec<(String, Vec<u8>, bool)>) {
        for e in fs::read_dir(dir).expect("read_dir").flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).expect("prefix").to_string_lossy().to_string();
            if skip.iter().any(|s| rel == *s) {
                continue;
            }
            if p.is_dir() {
                walk(base, &p, skip, out);
            } else {
                let exec = fs::metadata(&p).expect("meta").permissions().mode() & 0o111 != 0;
                out.push((rel, fs::read(&p).expect("read"), exec));
            }
        }
    }
    walk(dir, dir, skip, &mut out);
    out.sort();
    out
}

/// A run directory whose run record carries `process` and `settings`.
pub fn run_dir(root: &Path, run_id: &str, process: serde_json::Value, settings: serde_json::Value) -> PathBuf {
    let dir = root.join(format!("run-20261128_120000-{run_id}"));
    fs::create_dir_all(dir.join("files")).expect("mkdir run");
    let run = serde_json::json!({"t":"run","v":1,"log_id":"0123456789abcdef","run_id":run_id,"project":"p",
        "pid": std::process::id(), "created_at": 1764331200.5, "host":"testhost",
        "config": {"lr": 0.1}, "settings": settings});
    // As the Python SDK writes it: a `process` record right after the `run` record.
    let mut proc_rec = process;
    proc_rec["t"] = "process".into();
    let cfg = serde_json::json!({"t":"config","data":{"epochs":3,"model":{"layers":4}}});
    write(&dir.join("run.jsonl"), format!("{run}\n{proc_rec}\n{cfg}\n").as_bytes());
    dir
}

pub fn first_record(run_dir: &Path) -> serde_json::Value {
    let text = fs::read_to_string(run_dir.join("run.jsonl")).expect("read log");
    serde_json::from_str(text.lines().next().expect("line")).expect("json")
}
