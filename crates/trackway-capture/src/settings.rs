//! Capture settings of one run: the `settings` object of its `run` record (as resolved by the
//! SDK), then the environment (`TRACKWAY_*`, then `WANDB_*`) for keys the record lacks.
use serde_json::{Map, Value};

use crate::paths::IgnoreGlobs;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CaptureSettings {
    /// No git SHA, no diff, no code copy (`DISABLE_CODE`).
    pub disable_code: bool,
    /// No git information at all (`DISABLE_GIT`); the diff needs git, so it goes too.
    pub disable_git: bool,
    /// Copy the main script to `files/code/` (`SAVE_CODE`; off by default, as in wandb).
    pub save_code: bool,
    /// Write `requirements.txt` (`SAVE_REQUIREMENTS`, default on).
    pub save_requirements: bool,
    pub ignore_globs: IgnoreGlobs,
    /// Remote whose URL is recorded (`GIT_REMOTE`; default: the branch's upstream, else origin).
    pub git_remote: Option<String>,
}

impl CaptureSettings {
    pub fn from_settings(settings: Option<&Map<String, Value>>) -> Self {
        let get = |key: &str, env: &str| -> Option<String> {
            match settings.and_then(|s| s.get(key)) {
                None | Some(Value::Null) => trackway_config::env(env),
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Array(items)) => Some(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")),
                Some(v) => Some(v.to_string()),
            }
        };
        let flag = |key: &str, env: &str, default: bool| {
            get(key, env).and_then(|v| trackway_config::parse_bool(&v)).unwrap_or(default)
        };
        CaptureSettings {
            disable_code: flag("disable_code", "DISABLE_CODE", false),
            disable_git: flag("disable_git", "DISABLE_GIT", false),
            save_code: flag("save_code", "SAVE_CODE", false),
            save_requirements: flag("save_requirements", "SAVE_REQUIREMENTS", true),
            ignore_globs: get("ignore_globs", "IGNORE_GLOBS").map(|s| IgnoreGlobs::parse(&s)).unwrap_or_default(),
            git_remote: get("git_remote", "GIT_REMOTE"),
        }
    }

    /// Whether git information (SHA, branch, remote) is recorded.
    pub fn git_enabled(&self) -> bool {
        !self.disable_code && !self.disable_git
    }
}
