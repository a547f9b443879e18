//! Git state through the `git` command line.
//!
//! Why the CLI and not a library: it is on every machine that has a repository, it honours the
//! user's repository format, worktrees and `safe.directory`, and `git diff --binary` / `git apply`
//! are the exact pair that makes restore byte-for-byte (gix does not apply patches). Every call
//! disables pagers, colour, external diff drivers and prompts, and forces `a/`/`b/` prefixes,
//! so user configuration cannot change the patch format.
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::CaptureError;

/// What a run records about its repository.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GitState {
    pub root: PathBuf,
    /// `None` in a repository without commits.
    pub commit: Option<String>,
    /// `None` when HEAD is detached.
    pub branch: Option<String>,
    pub remote: Option<String>,
    /// The remote's URL with credentials removed ([`strip_credentials`]).
    pub remote_url: Option<String>,
    /// Uncommitted changes to tracked files (staged or not).
    pub dirty: bool,
}

pub(crate) fn git(dir: &Path, args: &[&str]) -> Result<Output, CaptureError> {
    Command::new("git")
        .current_dir(dir)
        .args(["-c", "core.quotepath=off", "-c", "color.ui=false", "-c", "core.pager=cat"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0") // never take index.lock while the user works
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| CaptureError::GitUnavailable(e.to_string()))
}

/// Runs git and returns trimmed stdout, or a `Git` error with its stderr.
pub(crate) fn git_ok(dir: &Path, args: &[&str]) -> Result<String, CaptureError> {
    let out = git(dir, args)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    } else {
        Err(CaptureError::Git { args: args.join(" "), stderr: String::from_utf8_lossy(&out.stderr).trim().to_string() })
    }
}

/// The repository containing `dir`, or `None` when there is none (or git is not installed).
pub fn git_state(dir: &Path, remote: Option<&str>) -> Result<Option<GitState>, CaptureError> {
    let root = match git_ok(dir, &["rev-parse", "--show-toplevel"]) {
        Ok(r) => PathBuf::from(r),
        Err(CaptureError::Git { .. } | CaptureError::GitUnavailable(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let commit = git_ok(&root, &["rev-parse", "--verify", "-q", "HEAD"]).ok().filter(|c| !c.is_empty());
    let branch = git_ok(&root, &["symbolic-ref", "-q", "--short", "HEAD"]).ok().filter(|b| !b.is_empty());
    let remote = remote.map(String::from).or_else(|| default_remote(&root, branch.as_deref()));
    let remote_url =
        remote.as_deref().and_then(|r| git_ok(&root, &["remote", "get-url", r]).ok()).map(|u| strip_credentials(&u));
    let dirty = commit.is_some()
        && !git_ok(&root, &["status", "--porcelain", "--untracked-files=no"]).map(|s| s.is_empty()).unwrap_or(true);
    Ok(Some(GitState { root, commit, branch, remote, remote_url, dirty }))
}

/// The branch's upstream remote, else `origin` when it exists.
fn default_remote(root: &Path, branch: Option<&str>) -> Option<String> {
    let tracked = branch.and_then(|b| git_ok(root, &["config", "--get", &format!("branch.{b}.remote")]).ok());
    let remotes = git_ok(root, &["remote"]).ok()?;
    let names: Vec<&str> = remotes.lines().collect();
    tracked
        .filter(|t| names.contains(&t.as_str()))
        .or_else(|| names.iter().find(|n| **n == "origin").map(|s| s.to_string()))
}

/// `git diff HEAD` of tracked files (staged and unstaged), binary-safe, relative to the root.
pub fn diff_patch(root: &Path) -> Result<Vec<u8>, CaptureError> {
    let args = [
        "diff",
        "--binary",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "HEAD",
        "--",
    ];
    let out = git(root, &args)?;
    if !out.status.success() {
        return Err(CaptureError::Git {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

/// Untracked, not ignored files, relative to the root.
pub fn untracked_files(root: &Path) -> Result<Vec<String>, CaptureError> {
    let out = git_ok(root, &["ls-files", "--others", "--exclude-standard", "-z"])?;
    Ok(out.split('\0').filter(|s| !s.is_empty()).map(String::from).collect())
}

/// Removes credentials from a remote URL: all user info for http(s) (tokens are often passed
/// as the user name) plus any query string; the password part for other schemes. scp-style
/// `git@host:path` has no password and is kept.
pub fn strip_credentials(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_string() };
    let (scheme, rest) = url.split_at(scheme_end + 3);
    let auth_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(auth_end);
    let http = scheme.starts_with("http");
    let host = match authority.rfind('@') {
        Some(at) if http => authority[at + 1..].to_string(),
        Some(at) => {
            let user = authority[..at].split(':').next().unwrap_or("");
            format!("{user}@{}", &authority[at + 1..])
        }
        None => authority.to_string(),
    };
    let path = if http { path.split('?').next().unwrap_or(path) } else { path };
    format!("{scheme}{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::strip_credentials as s;

    #[test]
    fn credentials_are_stripped() {
        assert_eq!(s("https://user:ghp_secret@github.com/o/r.git"), "https://github.com/o/r.git");
        assert_eq!(s("https://oauth2:tok@gitlab.com/o/r.git?private_token=x"), "https://gitlab.com/o/r.git");
        assert_eq!(s("https://ghp_tokenonly@github.com/o/r"), "https://github.com/o/r");
        assert_eq!(s("ssh://git:pw@host:22/o/r.git"), "ssh://git@host:22/o/r.git");
        assert_eq!(s("git@github.com:o/r.git"), "git@github.com:o/r.git");
        assert_eq!(s("https://github.com/o/r.git"), "https://github.com/o/r.git");
        assert_eq!(s("file:///tmp/repo"), "file:///tmp/repo");
    }
}
