//! Run-relative file paths: the one check that every path naming a run file goes through, on
//! the client (`files/<path>` in the run directory, restore/pull destinations) and on the server
//! (the `.../files/{path}` routes). Pure string logic, no I/O.

/// Why a run-relative path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid run file path {path:?}: {reason}")]
pub struct PathError {
    pub path: String,
    pub reason: &'static str,
}

/// Checks and normalises a run-relative path: relative, `/`-separated, no `.`/`..`/empty
/// segments, no NUL or backslash, no drive letter. A leading `./` is dropped.
///
/// # Errors
/// [`PathError`] naming the rule the path breaks.
pub fn validate_rel_path(path: &str) -> Result<String, PathError> {
    let bad = |reason: &'static str| PathError { path: path.to_string(), reason };
    if path.is_empty() {
        return Err(bad("empty path"));
    }
    if path.starts_with('/') || path.contains('\\') || path.contains('\0') || path.as_bytes().get(1) == Some(&b':') {
        return Err(bad("must be a relative path with '/' separators"));
    }
    let trimmed = path.strip_prefix("./").unwrap_or(path);
    let mut segs = Vec::new();
    for seg in trimmed.split('/') {
        match seg {
            ".." => return Err(bad("'..' would leave the run's files area")),
            "" | "." => return Err(bad("empty or '.' path segment")),
            s => segs.push(s),
        }
    }
    Ok(segs.join("/"))
}

#[cfg(test)]
mod tests {
    use super::validate_rel_path;

    #[test]
    fn rel_paths_refuse_escapes_and_absolutes() {
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a/..", "a//b", "a\\b", "C:/x", "a/./b", "a\0b"] {
            assert!(validate_rel_path(bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(validate_rel_path("./code/train.py").as_deref(), Ok("code/train.py"));
        assert_eq!(validate_rel_path("..hidden/f").as_deref(), Ok("..hidden/f"), "dots inside a name are fine");
    }
}
