//! Sampler settings: run settings first, then `TRACKWAY_STATS_*` (or `WANDB_STATS_*`), then
//! defaults (2 s samples averaged over 30 s, the cadence the seed promises).
use std::path::PathBuf;
use std::time::Duration;

use crate::SysmonError;

pub const DEFAULT_SAMPLE_SECONDS: f64 = 2.0;
pub const DEFAULT_WINDOW_SECONDS: f64 = 30.0;
/// Below this a sampler would cost more than the 1 %-of-a-core budget.
const MIN_SAMPLE_SECONDS: f64 = 0.05;

#[derive(Clone, Debug, PartialEq)]
pub struct SamplerConfig {
    pub sample_every: Duration,
    /// Averaging window; never shorter than `sample_every`.
    pub window: Duration,
    /// Paths whose filesystem usage is reported (`system/disk.<path>.usagePercent`).
    pub disk_paths: Vec<PathBuf>,
    /// Try NVML (false skips even the `dlopen`).
    pub gpu: bool,
    /// Root of the process tree to account (the training process's pid); `None` = no `proc.*`.
    pub root_pid: Option<u32>,
}

impl SamplerConfig {
    pub fn new(root_pid: Option<u32>) -> Self {
        SamplerConfig {
            sample_every: Duration::from_secs_f64(DEFAULT_SAMPLE_SECONDS),
            window: Duration::from_secs_f64(DEFAULT_WINDOW_SECONDS),
            disk_paths: crate::default_disk_paths(),
            gpu: true,
            root_pid,
        }
    }

    /// Resolves the config for a run from the `settings` object of its `run` record (keys
    /// `disable_stats`, `stats_sample_seconds`, `stats_window_seconds`, as resolved by the SDK),
    /// falling back to the environment for keys the record lacks. `Ok(None)`: stats disabled.
    pub fn from_settings(
        settings: Option<&serde_json::Map<String, serde_json::Value>>,
        root_pid: Option<u32>,
    ) -> Result<Option<Self>, SysmonError> {
        let get = |key: &str, env_name: &str| -> Option<String> {
            match settings.and_then(|s| s.get(key)) {
                Some(serde_json::Value::Null) | None => trackway_config::env(env_name),
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(v) => Some(v.to_string()),
            }
        };
        if let Some(v) = get("disable_stats", "DISABLE_STATS") {
            let off =
                trackway_config::parse_bool(&v).ok_or_else(|| bad("disable_stats", &v, "expected true or false"))?;
            if off {
                return Ok(None);
            }
        }
        let mut cfg = SamplerConfig::new(root_pid);
        if let Some(v) = get("stats_sample_seconds", "STATS_SAMPLE_SECONDS") {
            cfg.sample_every = seconds("stats_sample_seconds", &v)?;
        }
        if let Some(v) = get("stats_window_seconds", "STATS_WINDOW_SECONDS") {
            cfg.window = seconds("stats_window_seconds", &v)?;
        }
        cfg.window = cfg.window.max(cfg.sample_every);
        Ok(Some(cfg))
    }
}

fn bad(name: &str, value: &str, reason: &str) -> SysmonError {
    SysmonError::BadSetting { name: name.into(), value: value.into(), reason: reason.into() }
}

fn seconds(name: &str, v: &str) -> Result<Duration, SysmonError> {
    let secs: f64 = v.trim().parse().map_err(|_| bad(name, v, "expected a number of seconds"))?;
    if !secs.is_finite() || !(MIN_SAMPLE_SECONDS..=86_400.0).contains(&secs) {
        return Err(bad(name, v, "must be between 0.05 and 86400 seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn settings_override_defaults_and_window_is_at_least_one_sample() {
        let s = settings(serde_json::json!({"stats_sample_seconds": 5, "stats_window_seconds": "1"}));
        let cfg = SamplerConfig::from_settings(Some(&s), Some(1)).expect("valid").expect("enabled");
        assert_eq!(cfg.sample_every, Duration::from_secs(5));
        assert_eq!(cfg.window, Duration::from_secs(5));
    }

    #[test]
    fn disable_and_bad_values() {
        let off = settings(serde_json::json!({"disable_stats": true}));
        assert!(SamplerConfig::from_settings(Some(&off), None).expect("valid").is_none());
        let bad = settings(serde_json::json!({"stats_sample_seconds": "fast"}));
        assert!(SamplerConfig::from_settings(Some(&bad), None).is_err());
        let zero = settings(serde_json::json!({"stats_sample_seconds": 0}));
        assert!(SamplerConfig::from_settings(Some(&zero), None).is_err());
    }
}
