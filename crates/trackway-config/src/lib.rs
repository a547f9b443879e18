//! Where Trackway keeps its settings, shared by the SDK, the agent, the CLI and the server.
//!
//! - [`env`]: every setting `FOO` is read from `TRACKWAY_FOO`, then from its alias `WANDB_FOO`, so
//!   scripts written for wandb keep working.
//! - [`config_dir`] and [`Credentials`]: the stored logins (`credentials.json`, mode 0600).
//! - [`read_workspace_settings`] / [`write_workspace_setting`]: the per-directory settings file
//!   written by `trackway offline|online|disabled|enabled`.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The port `trackway server` listens on by default.
pub const DEFAULT_PORT: u16 = 8767;

/// Errors reading or writing Trackway's own files.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

/// Reads setting `name` from `TRACKWAY_<name>`, then `WANDB_<name>`. Empty values count as unset.
#[must_use]
pub fn env(name: &str) -> Option<String> {
    ["TRACKWAY_", "WANDB_"]
        .iter()
        .find_map(|prefix| std::env::var(format!("{prefix}{name}")).ok().filter(|v| !v.trim().is_empty()))
}

/// Parses a boolean setting the way users write them (`true/1/yes/on`, `false/0/no/off`).
#[must_use]
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "y" | "t" => Some(true),
        "0" | "false" | "no" | "off" | "n" | "f" | "" => Some(false),
        _ => None,
    }
}

/// The user's Trackway config directory: `TRACKWAY_CONFIG_DIR`, `WANDB_CONFIG_DIR`, else
/// `$XDG_CONFIG_HOME/trackway` or `~/.config/trackway`.
#[must_use]
pub fn config_dir() -> PathBuf {
    if let Some(dir) = env("CONFIG_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(xdg) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("trackway");
    }
    home_dir().join(".config").join("trackway")
}

fn home_dir() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from)
}

/// Removes trailing slashes so one server has one spelling.
#[must_use]
pub fn normalize_base_url(url: &str) -> String {
    url.trim().trim_end_matches('/').to_owned()
}

/// The key and default entity stored for one server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostCredentials {
    pub api_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
}

/// The stored logins: `<config_dir>/credentials.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    /// The server used when nothing else names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_host: Option<String>,
    #[serde(default)]
    pub hosts: BTreeMap<String, HostCredentials>,
}

impl Credentials {
    /// The file the logins live in.
    #[must_use]
    pub fn path() -> PathBuf {
        config_dir().join("credentials.json")
    }

    /// Loads the stored logins; a missing file is an empty set.
    ///
    /// # Errors
    /// When the file exists but cannot be read or parsed.
    pub fn load() -> Result<Self, ConfigError> {
        Self::load_from(&Self::path())
    }

    /// Loads logins from an explicit file.
    ///
    /// # Errors
    /// When the file exists but cannot be read or parsed.
    pub fn load_from(path: &Path) -> Result<Self, ConfigError> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| ConfigError::Invalid { path: path.to_owned(), reason: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ConfigError::Read { path: path.to_owned(), source }),
        }
    }

    /// Saves the logins atomically with owner-only permissions.
    ///
    /// # Errors
    /// When the config directory or the file cannot be written.
    pub fn save(&self) -> Result<(), ConfigError> {
        self.save_to(&Self::path())
    }

    /// Saves the logins to an explicit file (atomically, mode 0600).
    ///
    /// # Errors
    /// When the directory or the file cannot be written.
    pub fn save_to(&self, path: &Path) -> Result<(), ConfigError> {
        let text = serde_json::to_vec_pretty(self)
            .map_err(|e| ConfigError::Invalid { path: path.to_owned(), reason: e.to_string() })?;
        write_private_atomic(path, &text)
    }

    /// The login stored for a server, matching URLs with and without a trailing slash.
    #[must_use]
    pub fn for_host(&self, base_url: &str) -> Option<&HostCredentials> {
        self.hosts.get(&normalize_base_url(base_url))
    }

    /// Stores (or replaces) the login of a server.
    pub fn set_host(&mut self, base_url: &str, creds: HostCredentials) {
        self.hosts.insert(normalize_base_url(base_url), creds);
    }
}

/// Writes a file readable by its owner only, replacing any old one atomically.
fn write_private_atomic(path: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
    let write_err = |source| ConfigError::Write { path: path.to_owned(), source };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(write_err)?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(write_err)?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(write_err)?;
    fs::rename(&tmp, path).map_err(write_err)
}

/// The run root for a directory: `<dir>/trackway`, where `dir` is the argument, else
/// `TRACKWAY_DIR` / `WANDB_DIR`, else `cwd`.
#[must_use]
pub fn root_dir(dir: Option<&Path>, cwd: &Path) -> PathBuf {
    let base = match dir {
        Some(d) => d.to_owned(),
        None => env("DIR").map_or_else(|| cwd.to_owned(), PathBuf::from),
    };
    let base = if base.is_absolute() { base } else { cwd.join(base) };
    base.join("trackway")
}

const SECTION: &str = "[default]";

/// Reads `<root>/settings` (INI, section `[default]`, `key = value` lines). Missing file = empty.
///
/// # Errors
/// When the file exists but cannot be read.
pub fn read_workspace_settings(root: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let path = root.join("settings");
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let mut in_default = true;
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            in_default = line == SECTION;
            continue;
        }
        if let (true, Some((k, v))) = (in_default, line.split_once('=')) {
            out.insert(k.trim().to_owned(), v.trim().to_owned());
        }
    }
    Ok(out)
}

/// Sets (`Some`) or removes (`None`) one key in `<root>/settings`, keeping the others.
///
/// # Errors
/// When the settings file cannot be read or written.
pub fn write_workspace_setting(root: &Path, key: &str, value: Option<&str>) -> Result<(), ConfigError> {
    let mut settings = read_workspace_settings(root)?;
    match value {
        Some(v) => settings.insert(key.to_owned(), v.to_owned()),
        None => settings.remove(key),
    };
    let mut text = format!("{SECTION}\n");
    for (k, v) in &settings {
        text.push_str(&format!("{k} = {v}\n"));
    }
    let path = root.join("settings");
    let write_err = |source| ConfigError::Write { path: path.clone(), source };
    fs::create_dir_all(root).map_err(write_err)?;
    fs::write(&path, text).map_err(write_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_round_trip_privately() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join("credentials.json");
        assert_eq!(Credentials::load_from(&path).expect("missing is empty"), Credentials::default());
        let mut creds = Credentials::default();
        creds.set_host("http://127.0.0.1:8767/", HostCredentials { api_key: "k".into(), entity: Some("me".into()) });
        creds.default_host = Some("http://127.0.0.1:8767".into());
        creds.save_to(&path).expect("save");
        let back = Credentials::load_from(&path).expect("load");
        assert_eq!(back, creds);
        assert_eq!(back.for_host("http://127.0.0.1:8767").map(|h| h.api_key.as_str()), Some("k"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn corrupt_credentials_are_an_error_not_a_reset() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("credentials.json");
        fs::write(&path, "{not json").expect("write");
        assert!(matches!(Credentials::load_from(&path), Err(ConfigError::Invalid { .. })));
    }

    #[test]
    fn workspace_settings_set_and_clear() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("trackway");
        write_workspace_setting(&root, "mode", Some("offline")).expect("write");
        write_workspace_setting(&root, "project", Some("p")).expect("write");
        let s = read_workspace_settings(&root).expect("read");
        assert_eq!(s.get("mode").map(String::as_str), Some("offline"));
        write_workspace_setting(&root, "mode", None).expect("clear");
        let s = read_workspace_settings(&root).expect("read");
        assert_eq!(s.get("mode"), None);
        assert_eq!(s.get("project").map(String::as_str), Some("p"));
    }

    #[test]
    fn wandb_style_settings_files_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("settings"), "[default]\nmode = dryrun\n[other]\nmode = x\n").expect("write");
        let s = read_workspace_settings(dir.path()).expect("read");
        assert_eq!(s.get("mode").map(String::as_str), Some("dryrun"));
    }

    #[test]
    fn bools_parse_like_users_write_them() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("off"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn root_dir_is_under_the_given_dir() {
        let cwd = Path::new("/work/x");
        assert_eq!(root_dir(Some(Path::new("/data")), cwd), PathBuf::from("/data/trackway"));
        assert_eq!(root_dir(Some(Path::new("rel")), cwd), PathBuf::from("/work/x/rel/trackway"));
    }
}
