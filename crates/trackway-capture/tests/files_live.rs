//! `live` files: three edits -> three versions in the blob store, final content correct;
//! `now`/`end` policies; persisted upload state; path validation of `file` records.
mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use trackway_blob::{BlobStore, MemBlobStore};
use trackway_capture::{FileRecord, IgnoreGlobs, Policy, RunFiles, Upload};

/// Polls `due` (bounded) until it returns something; what an agent loop does every tick.
fn wait_due(files: &mut RunFiles, finishing: bool) -> Vec<Upload> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        let due = files.due(Instant::now(), finishing);
        if !due.is_empty() {
            return due;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Vec::new()
}

fn upload(files: &mut RunFiles, store: &MemBlobStore, ups: Vec<Upload>) -> Vec<String> {
    ups.into_iter()
        .map(|u| {
            let bytes = fs::read(&u.abs_path).expect("read upload");
            let put = store.put(&bytes).expect("put");
            assert_eq!(put.digest.as_str(), u.sha256, "due() reports the digest of what is uploaded");
            files.mark_uploaded(&u.path, &u.sha256).expect("mark");
            u.path
        })
        .collect()
}

/// The way `save()` links a file into the run: `files/<name>` -> the user's file.
fn link_into_run(run: &Path, user_file: &Path, name: &str) {
    std::os::unix::fs::symlink(user_file, run.join("files").join(name)).expect("symlink");
}

#[test]
fn live_file_edited_three_times_gives_three_versions() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("run");
    fs::create_dir_all(run.join("files")).expect("mkdir");
    let user_file = tmp.path().join("work/model.txt");
    common::write(&user_file, b"version 0");
    link_into_run(&run, &user_file, "model.txt");
    let store = MemBlobStore::new();
    let mut files = RunFiles::open(&run, IgnoreGlobs::default(), Duration::from_millis(100));
    files.add(&FileRecord::new("model.txt", Policy::Live)).expect("add");
    // Registration uploads the current content once ...
    let first = wait_due(&mut files, false);
    assert_eq!(upload(&mut files, &store, first), ["model.txt"]);
    let mut digests = BTreeSet::new();
    for v in 1..=3 {
        // ... then every edit (written by rename, as torch.save and editors do) is a new version.
        let tmp_file = user_file.with_extension("tmp");
        fs::write(&tmp_file, format!("version {v}")).expect("write");
        fs::rename(&tmp_file, &user_file).expect("rename");
        let ups = wait_due(&mut files, false);
        assert_eq!(ups.len(), 1, "edit {v} must produce exactly one upload");
        digests.insert(ups[0].sha256.clone());
        upload(&mut files, &store, ups);
    }
    assert_eq!(digests.len(), 3, "three edits, three versions");
    assert_eq!(store.len(), 4, "initial content plus three versions, each stored once");
    let last = digests
        .iter()
        .find(|d| **d == trackway_blob::Digest::of(b"version 3").to_string())
        .expect("final version stored");
    assert_eq!(store.get(&last.parse().expect("digest")).expect("get"), b"version 3");
    // Unchanged content is not uploaded again, even at finish or after a touch.
    fs::write(&user_file, b"version 3").expect("rewrite same");
    std::thread::sleep(Duration::from_millis(300));
    assert!(files.due(Instant::now(), true).is_empty(), "identical content must not be re-uploaded");
}

#[test]
fn now_end_policies_and_persisted_state() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("run");
    common::write(&run.join("files/summary.csv"), b"a,b\n");
    common::write(&run.join("files/final.ckpt"), b"weights");
    let store = MemBlobStore::new();
    {
        let mut files = RunFiles::open(&run, IgnoreGlobs::default(), Duration::from_millis(50));
        files.add(&FileRecord::new("summary.csv", Policy::Now)).expect("add");
        files.add(&FileRecord::new("final.ckpt", Policy::End)).expect("add");
        let due = files.due(Instant::now(), false);
        let now: Vec<String> = upload(&mut files, &store, due);
        assert_eq!(now, ["summary.csv"], "`end` files wait for the finish");
        assert!(files.due(Instant::now(), false).is_empty(), "`now` uploads once");
        assert!(!files.all_uploaded());
        let due = files.due(Instant::now(), true);
        let end = upload(&mut files, &store, due);
        assert_eq!(end, ["final.ckpt"]);
        assert!(files.all_uploaded());
    }
    // A restarted agent reads files-uploaded.json and uploads nothing again.
    let mut files = RunFiles::open(&run, IgnoreGlobs::default(), Duration::from_millis(50));
    files.add(&FileRecord::new("summary.csv", Policy::Now)).expect("add");
    files.add(&FileRecord::new("final.ckpt", Policy::End)).expect("add");
    assert!(files.due(Instant::now(), true).is_empty());
}

#[test]
fn file_records_with_escaping_or_absolute_paths_are_refused() {
    for bad in ["../outside.txt", "/etc/passwd", "a/../../b", "", "a\\b"] {
        let rec = serde_json::json!({"t": "file", "path": bad, "policy": "now"});
        assert!(FileRecord::from_json(&rec).is_err(), "{bad:?} must be refused");
    }
    let ok = FileRecord::from_json(&serde_json::json!({"t": "file", "path": "./ckpt/model.pt", "policy": "live"}))
        .expect("valid");
    assert_eq!(ok, FileRecord::new("ckpt/model.pt", Policy::Live));
    assert!(FileRecord::from_json(&serde_json::json!({"t": "file", "path": "x", "policy": "sometimes"})).is_err());
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut files = RunFiles::open(tmp.path(), IgnoreGlobs::default(), Duration::from_millis(50));
    assert!(files.add(&FileRecord::new("../x", Policy::Now)).is_err());
}

#[test]
fn failed_uploads_are_offered_again_and_finished_runs_settle() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("run");
    common::write(&run.join("files/log.txt"), b"v1");
    let mut files = RunFiles::open(&run, IgnoreGlobs::default(), Duration::from_millis(50));
    files.add(&FileRecord::new("log.txt", Policy::Live)).expect("add");
    files.add(&FileRecord::new("never-written.bin", Policy::End)).expect("add");
    let first = files.due(Instant::now(), false);
    assert_eq!(first.len(), 1);
    // The agent's PUT failed: nothing marked. The same upload is offered again.
    let again = files.due(Instant::now(), false);
    assert_eq!(again, first, "an unconfirmed upload is retried");
    assert!(!files.all_uploaded());
    files.mark_uploaded(&again[0].path, &again[0].sha256).expect("mark");
    assert!(files.due(Instant::now(), false).is_empty());
    // At the end: the live file is checked once (unchanged: nothing to send), the missing `end`
    // file cannot block the run from being done.
    assert!(files.due(Instant::now(), true).is_empty());
    assert!(files.all_uploaded(), "a finished run with everything uploaded is done");
}

/// A second process (restarted agent, second `sync`) registers a `now` file the first one
/// already uploaded: nothing is due, and the run settles without any upload.
#[test]
fn now_file_uploaded_by_an_earlier_process_is_settled() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("run");
    common::write(&run.join("files/meta.json"), b"{}");
    let store = MemBlobStore::new();
    let mut first = RunFiles::open(&run, IgnoreGlobs::default(), Duration::from_millis(50));
    first.set_target("http://a e/p/r1");
    first.add(&FileRecord::new("meta.json", Policy::Now)).expect("add");
    let due = first.due(Instant::now(), false);
    assert_eq!(upload(&mut first, &store, due), ["meta.json"]);
    drop(first);
    let mut again = RunFiles::open(&run, IgnoreGlobs::default(), Duration::from_millis(50));
    again.set_target("http://a e/p/r1");
    again.add(&FileRecord::new("meta.json", Policy::Now)).expect("add");
    assert!(again.due(Instant::now(), true).is_empty(), "already on that server");
    assert!(again.all_uploaded(), "an upload by an earlier process counts");
}

/// Upload state is per server target: a new target gets every file, the old one keeps its state.
#[test]
fn upload_state_is_kept_per_target() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("run");
    common::write(&run.join("files/a.txt"), b"a");
    common::write(&run.join("files/b.txt"), b"b");
    let store = MemBlobStore::new();
    let mut files = RunFiles::open(&run, IgnoreGlobs::default(), Duration::from_millis(50));
    files.add(&FileRecord::new("a.txt", Policy::Now)).expect("add");
    files.add(&FileRecord::new("b.txt", Policy::End)).expect("add");
    files.set_target("http://a e/p/r1");
    let due = files.due(Instant::now(), true);
    let mut got = upload(&mut files, &store, due);
    got.sort();
    assert_eq!(got, ["a.txt", "b.txt"]);
    assert!(files.all_uploaded());
    // The same run synced to another target (`sync --id copy`): everything is due again.
    let mut other = RunFiles::open(&run, IgnoreGlobs::default(), Duration::from_millis(50));
    other.add(&FileRecord::new("a.txt", Policy::Now)).expect("add");
    other.add(&FileRecord::new("b.txt", Policy::End)).expect("add");
    other.set_target("http://a e/p/copy");
    assert!(!other.all_uploaded());
    let due = other.due(Instant::now(), true);
    let mut got = upload(&mut other, &store, due);
    got.sort();
    assert_eq!(got, ["a.txt", "b.txt"], "a new target gets every file");
    assert!(other.all_uploaded());
    // Back on the first target, both are known to be there (state of both targets persisted).
    other.set_target("http://a e/p/r1");
    assert!(other.due(Instant::now(), true).is_empty());
    assert!(other.all_uploaded());
}

/// State written by older agents (a flat path -> sha256 map) still counts for the unnamed target.
#[test]
fn legacy_flat_upload_state_is_read() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("run");
    common::write(&run.join("files/a.txt"), b"a");
    let (sha, _) = trackway_capture::hash_file(&run.join("files/a.txt")).expect("hash");
    fs::write(run.join("files-uploaded.json"), serde_json::json!({"a.txt": sha}).to_string()).expect("state");
    let mut files = RunFiles::open(&run, IgnoreGlobs::default(), Duration::from_millis(50));
    files.add(&FileRecord::new("a.txt", Policy::Now)).expect("add");
    assert!(files.due(Instant::now(), true).is_empty());
    assert!(files.all_uploaded());
}

/// Upload state grows by one appended journal line per upload (linear, not a rewrite of the
/// whole map each time); a restarted agent sees every acknowledged upload, even past a torn line.
#[test]
fn upload_state_is_an_appended_journal_that_survives_restart_and_torn_lines() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("run");
    let n = 3000; // past the compaction threshold, so snapshot + journal are both exercised
    for i in 0..n {
        common::write(&run.join(format!("files/media/{i}.png")), format!("img {i}").as_bytes());
    }
    let mut files = RunFiles::open(&run, IgnoreGlobs::default(), Duration::from_millis(50));
    files.set_target("http://a e/p/r1");
    for i in 0..n {
        files.add(&FileRecord::new(&format!("media/{i}.png"), Policy::Now)).expect("add");
    }
    let due = files.due(Instant::now(), false);
    assert_eq!(due.len(), n);
    for u in &due {
        files.mark_uploaded(&u.path, &u.sha256).expect("mark");
    }
    let snapshot = fs::metadata(run.join("files-uploaded.json")).map(|m| m.len()).unwrap_or(0);
    let journal = fs::metadata(run.join("files-uploaded.jsonl")).expect("journal").len();
    assert!(journal > 0, "recent uploads are in the journal");
    // Linear: everything on disk is bounded by a small multiple of one entry per upload.
    assert!(snapshot + journal < (n as u64) * 200, "snapshot {snapshot} + journal {journal}");
    // A torn last line (agent killed mid-append) costs at most that one entry.
    let mut f = fs::OpenOptions::new().append(true).open(run.join("files-uploaded.jsonl")).expect("open");
    std::io::Write::write_all(&mut f, b"{\"target\":\"http://a e/p/r1\",\"pa").expect("torn");
    drop(f);
    let mut again = RunFiles::open(&run, IgnoreGlobs::default(), Duration::from_millis(50));
    again.set_target("http://a e/p/r1");
    for i in 0..n {
        again.add(&FileRecord::new(&format!("media/{i}.png"), Policy::Now)).expect("add");
    }
    assert!(again.due(Instant::now(), true).is_empty(), "nothing uploaded twice after a restart");
    assert!(again.all_uploaded());
    assert_eq!(fs::metadata(run.join("files-uploaded.jsonl")).expect("journal").len(), 0, "journal folded on open");
}
