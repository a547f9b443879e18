//! The local artifact download cache: its one home. `trackway artifact cache cleanup` and the
//! Python package (`trackway.artifacts._cache`, through `trackway._native`) both call this, so
//! where the cache lives, how sizes are written and which files go first are decided once.
//!
//! Verified blobs live under `$TRACKWAY_CACHE_DIR/artifacts/sha256/ab/cdef...` (alias
//! `WANDB_CACHE_DIR`; default `~/.cache/trackway`). Downloads touch what they reuse, so the least
//! recently modified file is the least recently used one.

use std::path::PathBuf;

use anyhow::{Context, bail};

/// `$TRACKWAY_CACHE_DIR/artifacts/sha256`.
#[must_use]
pub fn cache_dir() -> PathBuf {
    let base = trackway_config::env("CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache").join("trackway"));
    base.join("artifacts").join("sha256")
}

/// `1000`, `10MB`, `2.5GB` (binary units) as bytes.
///
/// # Errors
/// Anything else, with the accepted form.
pub fn parse_size(text: &str) -> anyhow::Result<u64> {
    let s: String = text.trim().to_ascii_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit: u64 = match &s[digits.len()..] {
        "" | "b" => 1,
        "k" | "kb" => 1 << 10,
        "m" | "mb" => 1 << 20,
        "g" | "gb" => 1 << 30,
        other => bail!("invalid size unit {other:?} in {text:?}: use bytes or a number with KB, MB or GB"),
    };
    let n: f64 =
        digits.parse().with_context(|| format!("invalid size {text:?}: use bytes or a number with KB, MB or GB"))?;
    if !n.is_finite() || n < 0.0 {
        bail!("invalid size {text:?}: use bytes or a number with KB, MB or GB");
    }
    Ok((n * unit as f64) as u64)
}

/// Removes least recently used blobs until the cache holds at most `target` bytes; returns
/// the bytes freed.
///
/// # Errors
/// None today (unreadable entries are skipped); kept fallible for callers' sake.
pub fn cleanup(target: u64) -> anyhow::Result<u64> {
    let mut files = Vec::new();
    let mut stack = vec![cache_dir()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for entry in rd.flatten() {
            let p = entry.path();
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(p),
                Ok(m) => files.push((m.modified().ok(), m.len(), p)),
                Err(_) => {}
            }
        }
    }
    files.sort();
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    let mut freed = 0;
    for (_, size, path) in files {
        if total <= target {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= size;
            freed += size;
        }
    }
    Ok(freed)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_in_the_accepted_forms() {
        assert_eq!(parse_size("1000").expect("bytes"), 1000);
        assert_eq!(parse_size("10MB").expect("MB"), 10 << 20);
        assert_eq!(parse_size(" 2 gb ").expect("gb"), 2 << 30);
        assert_eq!(parse_size("1.5k").expect("k"), 1536);
        assert!(parse_size("10TB").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("lots").is_err());
    }
}
