//! Run-relative file paths and ignore globs.
//!
//! Every path that names a run file (`files/<path>` locally, `.../files/{path}` on the server)
//! goes through [`validate_rel_path`], which is `trackway_types::validate_rel_path` (the server
//! applies that same function to route parameters).
//!
//! Ignore globs (`TRACKWAY_IGNORE_GLOBS`/`WANDB_IGNORE_GLOBS`, comma-separated) keep matching
//! files local: they are written to `files/` but never uploaded. Matching, like gitignore: a
//! pattern without `/` matches the file name at any depth (`*.patch` matches `diff.patch` and
//! `code/x.patch`); a pattern with `/` matches the whole run-relative path; `*` and `?` never
//! cross `/`, `**` does, `[abc]`/`[a-z]`/`[!x]` are classes.
use crate::CaptureError;

/// Checks and normalises a run-relative path (a leading `./` is dropped): the rule lives in
/// `trackway-types` so the server applies the very same check without depending on this crate.
pub fn validate_rel_path(path: &str) -> Result<String, CaptureError> {
    trackway_types::validate_rel_path(path)
        .map_err(|e| CaptureError::BadPath { path: e.path, reason: e.reason.to_string() })
}

/// Parsed ignore globs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IgnoreGlobs {
    patterns: Vec<String>,
}

impl IgnoreGlobs {
    /// From the setting's comma-separated text (blank entries dropped).
    pub fn parse(setting: &str) -> Self {
        let patterns = setting.split(',').map(str::trim).filter(|p| !p.is_empty()).map(String::from).collect();
        IgnoreGlobs { patterns }
    }

    /// From the environment (`TRACKWAY_IGNORE_GLOBS`, then `WANDB_IGNORE_GLOBS`).
    pub fn from_env() -> Self {
        trackway_config::env("IGNORE_GLOBS").map(|s| Self::parse(&s)).unwrap_or_default()
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether a run file may be uploaded (false: it matches an ignore glob).
    pub fn should_upload(&self, rel_path: &str) -> bool {
        let name = rel_path.rsplit('/').next().unwrap_or(rel_path);
        !self.patterns.iter().any(|p| {
            let target = if p.contains('/') { rel_path } else { name };
            glob_match(p.as_bytes(), target.as_bytes())
        })
    }
}

/// Glob matching with `*`, `?`, `**` and classes; `*`/`?` do not match `/`.
pub fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    match pat.first() {
        None => s.is_empty(),
        Some(b'*') if pat.get(1) == Some(&b'*') => {
            let rest = pat[2..].strip_prefix(b"/").unwrap_or(&pat[2..]);
            if rest.is_empty() {
                return true; // a trailing `**` matches everything below
            }
            (0..=s.len()).any(|i| (i == 0 || s[i - 1] == b'/') && glob_match(rest, &s[i..]))
                || glob_match(&pat[2..], s) && !pat[2..].is_empty()
        }
        Some(b'*') => (0..=s.len()).take_while(|&i| i == 0 || s[i - 1] != b'/').any(|i| glob_match(&pat[1..], &s[i..])),
        Some(b'?') => s.first().is_some_and(|&c| c != b'/') && glob_match(&pat[1..], &s[1..]),
        Some(b'[') => match (class_match(&pat[1..], s.first().copied()), s.first()) {
            (Some((true, used)), Some(_)) => glob_match(&pat[1 + used..], &s[1..]),
            (Some((false, _)), _) | (_, None) => false,
            (None, Some(&c)) => c == b'[' && glob_match(&pat[1..], &s[1..]), // unclosed: literal
        },
        Some(&c) => s.first() == Some(&c) && glob_match(&pat[1..], &s[1..]),
    }
}

/// Matches one character against a class body (after `[`); returns (matched, bytes consumed
/// including `]`), or `None` when the class is not closed.
fn class_match(body: &[u8], c: Option<u8>) -> Option<(bool, usize)> {
    let c = c?;
    let (negate, start) = if matches!(body.first(), Some(b'!') | Some(b'^')) { (true, 1) } else { (false, 0) };
    let mut i = start;
    let mut hit = false;
    while i < body.len() {
        if body[i] == b']' && i > start {
            return Some((hit != negate && c != b'/', i + 1));
        }
        if body.get(i + 1) == Some(&b'-') && body.get(i + 2).is_some_and(|&e| e != b']') {
            hit |= (body[i]..=body[i + 2]).contains(&c);
            i += 3;
        } else {
            hit |= body[i] == c;
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_gitignore() {
        let g = IgnoreGlobs::parse(" *.patch , media/**, ckpt-?.bin,data/[a-c]*.csv,");
        assert_eq!(g.patterns().len(), 4);
        assert!(!g.should_upload("diff.patch"));
        assert!(!g.should_upload("code/old.patch"), "basename patterns match at any depth");
        assert!(!g.should_upload("media/images/a.png"));
        assert!(!g.should_upload("ckpt-1.bin"));
        assert!(g.should_upload("ckpt-10.bin"));
        assert!(!g.should_upload("data/b1.csv"));
        assert!(g.should_upload("data/d1.csv"));
        assert!(g.should_upload("output.log"));
        assert!(g.should_upload("requirements.txt"));
    }

    #[test]
    fn star_does_not_cross_slash_but_double_star_does() {
        assert!(glob_match(b"a/*.py", b"a/x.py"));
        assert!(!glob_match(b"a/*.py", b"a/b/x.py"));
        assert!(glob_match(b"a/**/x.py", b"a/x.py"));
        assert!(glob_match(b"a/**/x.py", b"a/b/c/x.py"));
        assert!(glob_match(b"**", b"any/thing"));
        assert!(glob_match(b"[!a]b", b"cb"));
        assert!(!glob_match(b"[!a]b", b"ab"));
        assert!(glob_match(b"[b", b"[b"), "an unclosed class is a literal '['");
    }
}
