//! A script in a git repo with uncommitted changes -> capture -> restore in a fresh clone
//! reproduces the working tree byte for byte; DISABLE_CODE, IGNORE_GLOBS and restore errors.
mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{first_record, git, run_dir, tree, write};
use trackway_capture::restore::{LocalRunSource, RestoreError, RestoreOptions, restore};
use trackway_capture::{CaptureError, FileRecord, IgnoreGlobs, Policy, RunFiles, capture_run};

/// A repository with a commit, then uncommitted edits of every kind.
fn dirty_repo(base: &Path) -> PathBuf {
    let repo = base.join("repo");
    fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q"]);
    write(&repo.join("train.py"), b"print('v1')\n");
    write(&repo.join("data/cfg.json"), b"{\"a\": 1}\n");
    write(&repo.join("weights.bin"), &(0..=255u8).collect::<Vec<_>>());
    write(&repo.join("old.txt"), b"to be deleted\n");
    write(&repo.join("run.sh"), b"#!/bin/sh\necho hi\n");
    write(&repo.join(".gitignore"), b"trackway/\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    git(&repo, &["remote", "add", "origin", "https://alice:ghp_SECRET@example.com/org/repo.git"]);
    // Uncommitted: edit, binary edit, deletion, staged new file, mode change, untracked file.
    write(&repo.join("train.py"), b"print('v2')\r\nlr = 0.1  \n\xe2\x9c\x93 no newline at end");
    write(&repo.join("weights.bin"), &(0..=255u8).rev().chain([0, 0, 7]).collect::<Vec<_>>());
    fs::remove_file(repo.join("old.txt")).expect("rm");
    write(&repo.join("pkg/new_module.py"), b"X = 1\n");
    git(&repo, &["add", "pkg/new_module.py"]);
    fs::set_permissions(repo.join("run.sh"), fs::Permissions::from_mode(0o755)).expect("chmod");
    write(&repo.join("scratch.txt"), b"untracked notes\n");
    repo
}

fn process_for(repo: &Path, site: &Path) -> serde_json::Value {
    serde_json::json!({"program": "train.py", "code_path": repo.join("train.py"), "argv": ["train.py", "--lr", "0.1"],
        "python": "3.11.7", "executable": "/usr/bin/python3", "cwd": repo, "site_packages": [site]})
}

fn site_packages(base: &Path) -> PathBuf {
    let site = base.join("site-packages");
    write(&site.join("torch-2.5.1.dist-info/METADATA"), b"Metadata-Version: 2.1\nName: torch\nVersion: 2.5.1\n");
    site
}

#[test]
fn restore_in_fresh_clone_reproduces_working_tree_byte_for_byte() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = dirty_repo(tmp.path());
    let site = site_packages(tmp.path());
    let run =
        run_dir(&tmp.path().join("runs"), "abc123", process_for(&repo, &site), serde_json::json!({"save_code": true}));
    let report = capture_run(&run, &first_record(&run)).expect("capture");

    let head = git(&repo, &["rev-parse", "HEAD"]);
    let g = report.metadata.git.as_ref().expect("git state recorded");
    assert_eq!(g.commit.as_deref(), Some(head.as_str()));
    assert_eq!(g.branch.as_deref(), Some("main"));
    assert_eq!(g.remote_url.as_deref(), Some("https://example.com/org/repo.git"), "credentials stripped");
    assert!(g.dirty);
    assert_eq!(report.metadata.args, ["train.py", "--lr", "0.1"]);
    assert_eq!(report.metadata.python.as_deref(), Some("3.11.7"));
    let files = run.join("files");
    assert_eq!(fs::read_to_string(files.join("untracked.txt")).expect("untracked"), "scratch.txt\n");
    assert_eq!(fs::read_to_string(files.join("requirements.txt")).expect("reqs"), "torch==2.5.1\n");
    assert_eq!(fs::read(files.join("code/train.py")).expect("code"), fs::read(repo.join("train.py")).expect("src"));
    let meta_text = fs::read_to_string(files.join("trackway-metadata.json")).expect("metadata");
    assert!(!meta_text.contains("SECRET"), "no credential may reach the metadata file");
    let paths: Vec<&str> = report.files.iter().map(|f| f.path.as_str()).collect();
    for p in ["diff.patch", "untracked.txt", "code/train.py", "requirements.txt", "trackway-metadata.json"] {
        assert!(paths.contains(&p), "{p} must be reported for upload: {paths:?}");
    }

    let fresh = tmp.path().join("fresh");
    git(tmp.path(), &["clone", "-q", repo.to_str().expect("utf8"), fresh.to_str().expect("utf8")]);
    let src = LocalRunSource::open(&run).expect("source");
    let opts = RestoreOptions { files_out: Some(tmp.path().join("pulled")), ..RestoreOptions::default() };
    let r = restore(&src, &fresh, &opts).expect("restore");
    assert!(r.patch_applied);
    assert_eq!(git(&fresh, &["symbolic-ref", "--short", "HEAD"]), "trackway/abc123");
    assert_eq!(git(&fresh, &["rev-parse", "HEAD"]), head);
    let original = tree(&repo, &[".git", "scratch.txt"]);
    let restored = tree(&fresh, &[".git", "trackway"]);
    assert_eq!(
        original, restored,
        "restored tree must match the run's working tree byte for byte (untracked files excepted)"
    );

    let yaml = fs::read_to_string(fresh.join("trackway/config.yaml")).expect("config.yaml");
    assert!(yaml.contains("\"lr\":\n  value: 0.1\n") && yaml.contains("\"epochs\":\n  value: 3\n"), "{yaml}");
    assert!(yaml.contains("\"model\":\n  value: {\"layers\":4}\n"), "{yaml}");
    let pulled = r.pulled.expect("pulled");
    assert!(pulled.downloaded.contains(&"diff.patch".to_string()));
    assert_eq!(
        fs::read(tmp.path().join("pulled/code/train.py")).expect("pulled code"),
        fs::read(repo.join("train.py")).expect("src")
    );

    // A second restore into the now-modified clone refuses to touch it.
    let again = restore(&src, &fresh, &RestoreOptions::default());
    assert!(matches!(again, Err(CaptureError::Restore(RestoreError::DirtyRepo { .. }))), "{again:?}");
    // pull again: everything unchanged.
    let p2 = trackway_capture::restore::pull(&src, &tmp.path().join("pulled")).expect("pull");
    assert!(p2.downloaded.is_empty() && !p2.unchanged.is_empty());
}

#[test]
fn restore_reports_repo_mismatch_conflicts_and_existing_branch() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = dirty_repo(tmp.path());
    let site = site_packages(tmp.path());
    let run = run_dir(&tmp.path().join("runs"), "r2", process_for(&repo, &site), serde_json::json!({}));
    capture_run(&run, &first_record(&run)).expect("capture");
    let src = LocalRunSource::open(&run).expect("source");

    let other = tmp.path().join("other");
    fs::create_dir_all(&other).expect("mkdir");
    git(&other, &["init", "-q"]);
    write(&other.join("x"), b"x");
    git(&other, &["add", "-A"]);
    git(&other, &["commit", "-q", "-m", "unrelated"]);
    let e = restore(&src, &other, &RestoreOptions::default());
    assert!(matches!(e, Err(CaptureError::Restore(RestoreError::CommitMissing { .. }))), "{e:?}");
    let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("example.com/org/repo.git") && !msg.contains("SECRET"), "{msg}");

    let not_repo = tmp.path().join("plain");
    fs::create_dir_all(&not_repo).expect("mkdir");
    assert!(matches!(
        restore(&src, &not_repo, &RestoreOptions::default()),
        Err(CaptureError::Restore(RestoreError::NotARepo(_)))
    ));

    // Conflict: the patch's context no longer matches.
    let patch_path = run.join("files/diff.patch");
    let patch = fs::read_to_string(&patch_path).expect("patch").replace("-print('v1')", "-print('something else')");
    fs::write(&patch_path, patch).expect("tamper");
    let clone = tmp.path().join("clone");
    git(tmp.path(), &["clone", "-q", repo.to_str().expect("utf8"), clone.to_str().expect("utf8")]);
    let e = restore(&src, &clone, &RestoreOptions::default());
    assert!(matches!(e, Err(CaptureError::Restore(RestoreError::PatchConflict { .. }))), "{e:?}");
    assert_eq!(
        fs::read(clone.join("train.py")).expect("read"),
        b"print('v1')\n",
        "a conflicting patch changes nothing"
    );
    git(&clone, &["checkout", "-q", "main"]);
    let e = restore(&src, &clone, &RestoreOptions::default());
    assert!(matches!(e, Err(CaptureError::Restore(RestoreError::BranchExists(_)))), "{e:?}");
}

#[test]
fn disable_code_records_no_sha_and_no_diff() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = dirty_repo(tmp.path());
    let site = site_packages(tmp.path());
    let run = run_dir(
        &tmp.path().join("runs"),
        "nocode",
        process_for(&repo, &site),
        serde_json::json!({"disable_code": true, "save_code": true}),
    );
    let report = capture_run(&run, &first_record(&run)).expect("capture");
    assert!(report.metadata.git.is_none(), "no git SHA with disable_code");
    for f in ["diff.patch", "untracked.txt", "code"] {
        assert!(!run.join("files").join(f).exists(), "{f} must not be written with disable_code");
    }
    let meta = fs::read_to_string(run.join("files/trackway-metadata.json")).expect("metadata");
    assert!(!meta.contains(&git(&repo, &["rev-parse", "HEAD"])), "the commit SHA must not appear anywhere");
    assert!(run.join("files/requirements.txt").exists(), "requirements are not code");
    let src = LocalRunSource::open(&run).expect("source");
    let e = restore(&src, &repo, &RestoreOptions::default());
    assert!(matches!(e, Err(CaptureError::Restore(RestoreError::NoCommit(_)))), "{e:?}");
    // A second capture (agent restart) reuses the first.
    assert!(capture_run(&run, &first_record(&run)).expect("recapture").reused);
}

#[test]
fn ignore_globs_keep_files_local_but_not_uploaded() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = dirty_repo(tmp.path());
    let site = site_packages(tmp.path());
    let run = run_dir(
        &tmp.path().join("runs"),
        "ign",
        process_for(&repo, &site),
        serde_json::json!({"ignore_globs": "*.patch,requirements.txt"}),
    );
    let report = capture_run(&run, &first_record(&run)).expect("capture");
    assert!(run.join("files/diff.patch").is_file(), "still written locally (restore can use it)");
    let mut files = RunFiles::open(&run, IgnoreGlobs::parse("*.patch,requirements.txt"), Duration::from_millis(50));
    for rec in &report.files {
        files.add(rec).expect("add");
    }
    let due: Vec<String> = files.due(Instant::now(), true).into_iter().map(|u| u.path).collect();
    assert!(!due.contains(&"diff.patch".to_string()) && !due.contains(&"requirements.txt".to_string()), "{due:?}");
    assert!(due.contains(&"trackway-metadata.json".to_string()));
    assert!(!files.should_upload("diff.patch"));
    let _ = FileRecord::new("x", Policy::Now);
}
