//! `requirements.txt` from the installed distributions of the training process's environment,
//! read from `*.dist-info/METADATA` and `*.egg-info/PKG-INFO` in its site-packages directories
//! (the agent never imports or spawns pip: it is a different process, maybe another Python).
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// `(name, version)` of every distribution found; the first directory wins for duplicates, as
/// on `sys.path`. Sorted by normalised name.
pub fn installed_distributions(site_dirs: &[PathBuf]) -> Vec<(String, String)> {
    let mut found: BTreeMap<String, (String, String)> = BTreeMap::new();
    for dir in site_dirs {
        let Ok(entries) = fs::read_dir(dir) else { continue };
        let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        names.sort();
        for path in names {
            let Some((name, version)) = read_distribution(&path) else { continue };
            found.entry(normalize(&name)).or_insert((name, version));
        }
    }
    found.into_values().collect()
}

/// The file's lines: `name==version`.
pub fn requirements_txt(dists: &[(String, String)]) -> String {
    dists.iter().map(|(n, v)| format!("{n}=={v}\n")).collect()
}

fn read_distribution(path: &Path) -> Option<(String, String)> {
    let file_name = path.file_name()?.to_str()?;
    let meta = if file_name.ends_with(".dist-info") {
        path.join("METADATA")
    } else if file_name.ends_with(".egg-info") {
        if path.is_dir() { path.join("PKG-INFO") } else { path.to_path_buf() }
    } else {
        return None;
    };
    parse_metadata(&fs::read_to_string(meta).ok()?)
}

/// `Name:` and `Version:` from the RFC 822 header block of a core-metadata file.
pub fn parse_metadata(text: &str) -> Option<(String, String)> {
    let mut name = None;
    let mut version = None;
    for line in text.lines() {
        if line.is_empty() {
            break; // the header block ends; the description follows
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version = Some(v.trim().to_string());
        }
    }
    Some((name.filter(|n| !n.is_empty())?, version.filter(|v| !v.is_empty())?))
}

/// PEP 503 normalisation: lowercase, runs of `-_.` become `-`.
fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dist_info_and_egg_info_first_dir_wins() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        let write = |dir: &Path, sub: &str, file: &str, text: &str| {
            fs::create_dir_all(dir.join(sub)).expect("mkdir");
            fs::write(dir.join(sub).join(file), text).expect("write");
        };
        write(
            a.path(),
            "numpy-2.1.0.dist-info",
            "METADATA",
            "Metadata-Version: 2.1\nName: numpy\nVersion: 2.1.0\n\nName: not-this\n",
        );
        write(a.path(), "Old_Pkg.egg-info", "PKG-INFO", "Name: Old_Pkg\nVersion: 0.3\n");
        write(b.path(), "numpy-1.0.dist-info", "METADATA", "Name: numpy\nVersion: 1.0\n");
        write(b.path(), "broken.dist-info", "METADATA", "Name: broken\n");
        let d = installed_distributions(&[a.path().to_path_buf(), b.path().to_path_buf()]);
        assert_eq!(requirements_txt(&d), "numpy==2.1.0\nOld_Pkg==0.3\n");
    }
}
