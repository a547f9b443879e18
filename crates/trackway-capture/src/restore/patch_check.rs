//! A run's `diff.patch` may create symlinks (`git diff` records them, and `git apply` creates
//! them). One that points outside the repository, into `.git`, or that lies in or points into
//! the area restore writes to (`trackway/`: the config and the downloaded files) would let the
//! run's files land anywhere, so such a patch is refused before anything is applied.
//!
//! The patch is applied to a scratch index (never the working tree) and git itself lists the
//! symlinks it would create, with their targets: no patch parsing of our own.
use std::path::{Component, Path, PathBuf};

use super::RestoreError;
use crate::CaptureError;
use crate::git::git;

/// Refuses `patch` if it creates or retargets a symlink that is unsafe for a restore into
/// `root`; `protected` are directories (relative to `root`) restore writes into.
pub(crate) fn check_patch_symlinks(
    root: &Path,
    git_dir: &Path,
    patch: &Path,
    protected: &[PathBuf],
) -> Result<(), CaptureError> {
    let index = git_dir.join("trackway-restore-check.index");
    let result = symlinks_in_patch(root, &index, patch);
    let _ = std::fs::remove_file(&index);
    for (link, target) in result? {
        if let Some(reason) = unsafe_link(&link, &target, protected) {
            return Err(
                RestoreError::UnsafePatch { link: link.display().to_string(), target, reason: reason.into() }.into()
            );
        }
    }
    Ok(())
}

/// (link path, target) of every symlink the patch adds or changes.
fn symlinks_in_patch(root: &Path, index: &Path, patch: &Path) -> Result<Vec<(PathBuf, String)>, CaptureError> {
    let idx = index.to_string_lossy().to_string();
    let p = patch.to_string_lossy().to_string();
    let with_index = |args: &[&str]| -> Result<std::process::Output, CaptureError> {
        let mut all = vec!["-c", "core.quotepath=off"];
        all.extend_from_slice(args);
        std::process::Command::new("git")
            .current_dir(root)
            .args(&all)
            .env("GIT_INDEX_FILE", &idx)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| CaptureError::GitUnavailable(e.to_string()))
    };
    for args in [&["read-tree", "HEAD"][..], &["apply", "--cached", "--binary", &p][..]] {
        let out = with_index(args)?;
        if !out.status.success() {
            return Err(CaptureError::Git {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&out.stderr).trim().into(),
            });
        }
    }
    let out = with_index(&["diff-index", "--cached", "--no-renames", "-z", "HEAD"])?;
    let mut links = Vec::new();
    // -z raw format: ":old_mode new_mode old_sha new_sha status\0path\0"
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut parts = text.split('\0');
    while let (Some(meta), Some(path)) = (parts.next(), parts.next()) {
        let fields: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        if let [_, "120000", _, sha, _] = fields.as_slice() {
            let blob = git(root, &["cat-file", "blob", sha])?;
            links.push((PathBuf::from(path), String::from_utf8_lossy(&blob.stdout).to_string()));
        }
    }
    Ok(links)
}

/// Why a symlink at `link` (relative to the repository root) pointing at `target` is unsafe.
fn unsafe_link(link: &Path, target: &str, protected: &[PathBuf]) -> Option<&'static str> {
    // The link may not be, or be a parent of, a directory restore writes to.
    if protected.iter().any(|d| link.starts_with(d) || d.starts_with(link)) {
        return Some("the link lies in the directory restore writes to");
    }
    if Path::new(target).is_absolute() {
        return Some("the link points to an absolute path");
    }
    // Resolved lexically from the link's directory; `..` may not climb above the root.
    let mut resolved = PathBuf::new();
    for comp in link.parent().unwrap_or(Path::new("")).join(target).components() {
        match comp {
            Component::Normal(c) => resolved.push(c),
            Component::CurDir => {}
            Component::ParentDir => {
                if !resolved.pop() {
                    return Some("the link points outside the repository");
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Some("the link points to an absolute path");
            }
        }
    }
    if resolved.starts_with(".git") {
        return Some("the link points into .git");
    }
    if protected.iter().any(|d| resolved.starts_with(d)) {
        return Some("the link points into the directory restore writes to");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::unsafe_link;
    use std::path::{Path, PathBuf};

    #[test]
    fn links_out_of_the_tree_or_into_the_download_area_are_unsafe() {
        let prot = [PathBuf::from("trackway")];
        let bad = |l: &str, t: &str| unsafe_link(Path::new(l), t, &prot).is_some();
        assert!(bad("trackway/pulled/r/cfg", "/home/u/.ssh"));
        assert!(bad("trackway", "elsewhere"));
        assert!(bad("src/link", "/etc"));
        assert!(bad("src/link", "../../x"));
        assert!(bad("src/link", "../.git/hooks"));
        assert!(bad("src/link", "../trackway/pulled"));
        assert!(!bad("src/link", "../docs/readme.md"));
        assert!(!bad("a/b/link", "../c"));
    }
}
