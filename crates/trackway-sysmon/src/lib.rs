//! System metrics for a run, sampled by the agent (never by the training process).
//!
//! The agent owns one [`Sampler`] per live run and calls [`Sampler::tick`] from its loop; there
//! are no threads here. Every `sample_every` (default 2 s) the sampler reads the machine and the
//! training process's whole process tree; every `window` (default 30 s) it returns one
//! [`StatsRecord`] whose values are the window's means (gauges) or last values (counters since
//! the run started). The agent appends it to `<run dir>/system.jsonl` with [`SystemLog`].
//! Keys are documented in `docs/capture.md` ("System metrics").
//!
//! NVIDIA GPUs are read through NVML, which `nvml-wrapper` loads with `dlopen` at run time: on a
//! machine without the driver [`Sampler::gpu_available`] is false and no GPU keys appear.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod config;
mod gpu;
mod host;
mod log;
pub mod proctree;
mod window;

pub use config::{DEFAULT_SAMPLE_SECONDS, DEFAULT_WINDOW_SECONDS, SamplerConfig};
pub use gpu::{GpuDevice, GpuInventory};
pub use log::{SYSTEM_LOG_FILE, SystemLog};

use window::Window;

/// Errors of this crate (only the log writer can fail; sampling degrades to missing keys).
#[derive(Debug, thiserror::Error)]
pub enum SysmonError {
    #[error(transparent)]
    Log(#[from] trackway_runlog::RunlogError),
    #[error("invalid stats setting {name}={value:?}: {reason}")]
    BadSetting { name: String, value: String, reason: String },
    #[error("generating a log id failed: {0}")]
    Random(String),
}

/// One averaged window: `{"t":"stats","ts":..,"samples":N,"window":S,"data":{"system/...":..}}`.
#[derive(Clone, Debug, PartialEq)]
pub struct StatsRecord {
    /// Unix seconds when the window closed.
    pub ts: f64,
    /// How many samples the window averaged.
    pub samples: u32,
    /// Window length in seconds (shorter for the final, flushed window).
    pub window: f64,
    pub data: BTreeMap<String, f64>,
}

impl StatsRecord {
    /// The record as a JSON object (floats always carry a `.`, per run-format section 3; the
    /// sampler never produces NaN or infinities).
    pub fn to_json(&self) -> serde_json::Value {
        let data: serde_json::Map<String, serde_json::Value> = self
            .data
            .iter()
            .filter_map(|(k, v)| serde_json::Number::from_f64(*v).map(|n| (k.clone(), n.into())))
            .collect();
        serde_json::json!({"t": "stats", "ts": self.ts, "samples": self.samples,
                           "window": self.window, "data": data})
    }
}

/// One raw sample: key -> value, plus which keys are counters (reported as their last value).
#[derive(Debug, Default)]
pub struct Sample {
    pub gauges: BTreeMap<String, f64>,
    pub counters: BTreeMap<String, f64>,
}

impl Sample {
    fn gauge(&mut self, key: impl Into<String>, v: f64) {
        if v.is_finite() {
            self.gauges.insert(key.into(), v);
        }
    }
    fn counter(&mut self, key: impl Into<String>, v: f64) {
        if v.is_finite() {
            self.counters.insert(key.into(), v);
        }
    }
}

/// Samples the machine and one process tree on the agent's schedule.
pub struct Sampler {
    cfg: SamplerConfig,
    host: host::HostSource,
    tree: proctree::TreeSource,
    gpu: Option<gpu::GpuSource>,
    window: Window,
    next_sample: Instant,
    window_start: Instant,
}

impl Sampler {
    /// Creates a sampler and takes the baseline readings (CPU deltas, counters since start), so
    /// the first real sample already covers `[now, first tick]`.
    pub fn new(cfg: SamplerConfig, now: Instant) -> Self {
        let gpu = if cfg.gpu { gpu::GpuSource::open() } else { None };
        let mut s = Sampler {
            host: host::HostSource::new(&cfg.disk_paths),
            tree: proctree::TreeSource::new(cfg.root_pid),
            gpu,
            window: Window::default(),
            next_sample: now + cfg.sample_every,
            window_start: now,
            cfg,
        };
        s.tree.sample(now); // baseline for CPU deltas
        s
    }

    pub fn config(&self) -> &SamplerConfig {
        &self.cfg
    }

    /// Whether NVML loaded and reported at least one device.
    pub fn gpu_available(&self) -> bool {
        self.gpu.is_some()
    }

    /// When the agent should call [`tick`](Self::tick) next.
    pub fn next_due(&self) -> Instant {
        self.next_sample
    }

    /// Takes a sample when one is due and returns a record when a window closed. Call it as
    /// often as convenient (every loop iteration); calls before `next_due()` cost nothing.
    pub fn tick(&mut self, now: Instant) -> Option<StatsRecord> {
        if now < self.next_sample {
            return None;
        }
        let sample = self.sample_now(now);
        self.window.add(sample);
        self.next_sample += self.cfg.sample_every;
        if self.next_sample <= now {
            // The agent stalled (suspend, overload): skip missed samples instead of bursting.
            self.next_sample = now + self.cfg.sample_every;
        }
        if now.duration_since(self.window_start) + Duration::from_millis(1) >= self.cfg.window {
            return self.close_window(now);
        }
        None
    }

    /// Closes the current window early (run finished); `None` if it holds no sample.
    pub fn flush(&mut self, now: Instant) -> Option<StatsRecord> {
        self.close_window(now)
    }

    fn close_window(&mut self, now: Instant) -> Option<StatsRecord> {
        let secs = now.duration_since(self.window_start).as_secs_f64();
        self.window_start = now;
        let (samples, data) = self.window.take()?;
        Some(StatsRecord { ts: unix_now(), samples, window: secs, data })
    }

    /// One raw reading of every source (used by `tick`; public for tests and benches).
    pub fn sample_now(&mut self, now: Instant) -> Sample {
        let mut s = Sample::default();
        self.host.sample(&mut s);
        let tree = self.tree.sample(now);
        tree.write_into(&mut s, self.host.total_memory(), self.host.logical_cpus());
        if let Some(gpu) = &self.gpu {
            gpu.sample(&mut s, &tree.pids);
        }
        s
    }

    /// Static GPU facts for run metadata (names, memory, driver and CUDA versions).
    pub fn gpu_inventory(&self) -> Option<GpuInventory> {
        self.gpu.as_ref().map(|g| g.inventory())
    }
}

/// Probes NVML once without creating a sampler (for run metadata).
pub fn probe_gpus() -> Option<GpuInventory> {
    gpu::GpuSource::open().map(|g| g.inventory())
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// Default disk paths whose usage is reported.
pub fn default_disk_paths() -> Vec<PathBuf> {
    vec![PathBuf::from("/")]
}
