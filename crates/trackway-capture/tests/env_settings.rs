//! Settings from the environment (one test in its own binary: it sets process-wide variables).
mod common;

use std::time::{Duration, Instant};

use common::{first_record, git, run_dir, write};
use trackway_capture::{CaptureSettings, IgnoreGlobs, RunFiles, capture_ready, capture_run};

#[test]
fn wandb_env_aliases_disable_code_and_ignore_globs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q"]);
    write(&repo.join("train.py"), b"v1\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "c"]);
    write(&repo.join("train.py"), b"v2\n");
    let process = serde_json::json!({"code_path": repo.join("train.py"), "cwd": repo});

    unsafe_env(&[
        ("WANDB_IGNORE_GLOBS", Some("*.patch")),
        ("TRACKWAY_DISABLE_CODE", None),
        ("WANDB_DISABLE_CODE", None),
    ]);
    let run = run_dir(tmp.path(), "envglob", process.clone(), serde_json::json!({}));
    assert!(capture_ready(&run, &first_record(&run), 0.0, 1e12), "the process record makes it ready");
    let report = capture_run(&run, &first_record(&run)).expect("capture");
    assert!(report.metadata.git.is_some() && run.join("files/diff.patch").is_file());
    let settings = CaptureSettings::from_settings(None);
    assert_eq!(settings.ignore_globs, IgnoreGlobs::parse("*.patch"), "WANDB_IGNORE_GLOBS is honoured");
    let mut files = RunFiles::open(&run, settings.ignore_globs.clone(), Duration::from_millis(10));
    for f in &report.files {
        files.add(f).expect("add");
    }
    assert!(files.due(Instant::now(), true).iter().all(|u| u.path != "diff.patch"));

    unsafe_env(&[("TRACKWAY_DISABLE_CODE", Some("true"))]);
    let run = run_dir(tmp.path(), "envoff", process, serde_json::json!({}));
    let report = capture_run(&run, &first_record(&run)).expect("capture");
    assert!(report.metadata.git.is_none(), "TRACKWAY_DISABLE_CODE=true: no SHA");
    assert!(!run.join("files/diff.patch").exists(), "TRACKWAY_DISABLE_CODE=true: no diff");
    // A run-record setting wins over the environment.
    let run = run_dir(
        tmp.path(),
        "setting-wins",
        serde_json::json!({"code_path": repo.join("train.py")}),
        serde_json::json!({"disable_code": false}),
    );
    assert!(capture_run(&run, &first_record(&run)).expect("capture").metadata.git.is_some());
}

fn unsafe_env(vars: &[(&str, Option<&str>)]) {
    for (k, v) in vars {
        // edition 2024 marks env mutation unsafe; it is sound here (one test in this binary).
        match v {
            Some(v) => set(k, v),
            None => unset(k),
        }
    }
}

#[allow(unsafe_code)]
fn set(k: &str, v: &str) {
    // SAFETY: this test binary runs one test; no other thread touches the environment.
    unsafe { std::env::set_var(k, v) }
}

#[allow(unsafe_code)]
fn unset(k: &str) {
    // SAFETY: as above.
    unsafe { std::env::remove_var(k) }
}
