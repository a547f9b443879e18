//! `trackway restore`/`pull` never write outside their destination (issue 9 item 1): a symlink
//! planted by the run's `diff.patch` or already in the destination is refused, never followed;
//! a file that does not match its listed sha256 is not written.
mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use common::{git, write};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use trackway_capture::CaptureError;
use trackway_capture::restore::{RestoreError, RestoreOptions, RunFile, RunSource, pull, restore};

/// A run as a hostile server could present it.
struct Planted {
    commit: String,
    files: BTreeMap<String, Vec<u8>>,
    /// Listed sha256 overrides (a lying listing).
    listed: BTreeMap<String, String>,
}

impl RunSource for Planted {
    fn run_id(&self) -> &str {
        "planted"
    }
    fn config(&self) -> Result<Map<String, Value>, CaptureError> {
        Ok(Map::new())
    }
    fn metadata(&self) -> Result<Value, CaptureError> {
        Ok(json!({"git": {"commit": self.commit}}))
    }
    fn list_files(&self) -> Result<Vec<RunFile>, CaptureError> {
        Ok(self
            .files
            .iter()
            .map(|(p, b)| RunFile {
                path: p.clone(),
                size: b.len() as u64,
                sha256: self.listed.get(p).cloned().unwrap_or_else(|| hex::encode(Sha256::digest(b))),
            })
            .collect())
    }
    fn read_file(&self, path: &str) -> Result<Vec<u8>, CaptureError> {
        Ok(self.files.get(path).cloned().unwrap_or_default())
    }
    fn download(&self, path: &str, out: &mut dyn std::io::Write) -> Result<u64, CaptureError> {
        let b = self.read_file(path)?;
        out.write_all(&b).map_err(|e| CaptureError::Json(e.to_string()))?;
        Ok(b.len() as u64)
    }
}

fn repo(base: &Path) -> (std::path::PathBuf, String) {
    let repo = base.join("repo");
    fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q"]);
    write(&repo.join("train.py"), b"print(1)\n");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "init"]);
    let sha = git(&repo, &["rev-parse", "HEAD"]).trim().to_string();
    (repo, sha)
}

fn symlink_patch(link: &str, target: &str) -> Vec<u8> {
    format!(
        "diff --git a/{link} b/{link}\nnew file mode 120000\nindex 0000000..1111111\n--- /dev/null\n+++ b/{link}\n@@ -0,0 +1 @@\n+{target}\n\\ No newline at end of file\n"
    )
    .into_bytes()
}

#[test]
fn a_patch_planting_a_symlink_into_the_download_area_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (repo, commit) = repo(tmp.path());
    let victim = tmp.path().join("victim-home");
    fs::create_dir_all(&victim).expect("mkdir");
    let victim_s = victim.to_string_lossy().to_string();
    let mut files = BTreeMap::new();
    files.insert("diff.patch".to_string(), symlink_patch("trackway/pulled/planted/cfg", &victim_s));
    files.insert("cfg/authorized_keys".to_string(), b"ssh-ed25519 AAAA attacker".to_vec());
    let src = Planted { commit, files, listed: BTreeMap::new() };
    let opts = RestoreOptions { files_out: Some(repo.join("trackway/pulled/planted")), ..RestoreOptions::default() };
    let err = restore(&src, &repo, &opts).expect_err("must refuse");
    assert!(matches!(err, CaptureError::Restore(RestoreError::UnsafePatch { .. })), "{err}");
    assert!(!victim.join("authorized_keys").exists());
    assert!(fs::symlink_metadata(repo.join("trackway/pulled/planted/cfg")).is_err(), "nothing applied");
}

#[test]
fn pull_never_writes_through_a_symlink_in_the_destination() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dest = tmp.path().join("dest");
    let victim = tmp.path().join("victim-home");
    fs::create_dir_all(&dest).expect("mkdir");
    fs::create_dir_all(&victim).expect("mkdir");
    std::os::unix::fs::symlink(&victim, dest.join("cfg")).expect("symlink");
    let mut files = BTreeMap::new();
    files.insert("cfg/authorized_keys".to_string(), b"ssh-ed25519 AAAA attacker".to_vec());
    let src = Planted { commit: String::new(), files, listed: BTreeMap::new() };
    let err = pull(&src, &dest).expect_err("must refuse");
    assert!(matches!(err, CaptureError::Restore(RestoreError::UnsafePath { .. })), "{err}");
    assert_eq!(fs::read_dir(&victim).expect("read").count(), 0);
}

#[test]
fn pull_refuses_content_that_does_not_match_the_listed_sha256() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dest = tmp.path().join("dest");
    let mut files = BTreeMap::new();
    files.insert("f.txt".to_string(), b"tampered".to_vec());
    files.insert("ok.txt".to_string(), b"fine".to_vec());
    let mut listed = BTreeMap::new();
    listed.insert("f.txt".to_string(), "0".repeat(64));
    let src = Planted { commit: String::new(), files, listed };
    let err = pull(&src, &dest).expect_err("must refuse");
    assert!(matches!(err, CaptureError::Restore(RestoreError::Checksum { .. })), "{err}");
    assert!(!dest.join("f.txt").exists());
    let leftovers: Vec<_> = fs::read_dir(&dest).expect("read").flatten().map(|e| e.file_name()).collect();
    assert!(leftovers.is_empty(), "no temporary file left behind: {leftovers:?}");
}

#[test]
fn a_symlink_at_the_target_is_replaced_not_followed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dest = tmp.path().join("dest");
    let outside = tmp.path().join("outside.txt");
    fs::create_dir_all(&dest).expect("mkdir");
    fs::write(&outside, b"keep me").expect("write");
    std::os::unix::fs::symlink(&outside, dest.join("f.txt")).expect("symlink");
    let mut files = BTreeMap::new();
    files.insert("f.txt".to_string(), b"new content".to_vec());
    let src = Planted { commit: String::new(), files, listed: BTreeMap::new() };
    let report = pull(&src, &dest).expect("pull");
    assert_eq!(report.downloaded, vec!["f.txt".to_string()]);
    assert_eq!(fs::read(&outside).expect("read"), b"keep me");
    assert!(fs::symlink_metadata(dest.join("f.txt")).expect("stat").is_file());
    assert_eq!(fs::read(dest.join("f.txt")).expect("read"), b"new content");
}
