//! NVIDIA GPUs through NVML. `nvml-wrapper` `dlopen`s `libnvidia-ml.so.1` at run time, so the
//! agent binary has no link-time dependency on the driver: without it [`GpuSource::open`] is
//! `None` and no `gpu.*` keys appear. Readings a device does not support (power on some boards,
//! clocks under MIG) are skipped one by one instead of dropping the device.
use nvml_wrapper::enum_wrappers::device::{Clock, TemperatureSensor};
use nvml_wrapper::enums::device::UsedGpuMemory;
use nvml_wrapper::{Device, Nvml};

use crate::Sample;

/// Static facts for run metadata.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GpuInventory {
    pub driver_version: Option<String>,
    /// e.g. "12.4", from the driver's supported CUDA version.
    pub cuda_version: Option<String>,
    pub devices: Vec<GpuDevice>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct GpuDevice {
    pub index: u32,
    pub name: String,
    pub uuid: Option<String>,
    pub memory_total: Option<u64>,
}

pub(crate) struct GpuSource {
    nvml: Nvml,
    count: u32,
}

impl GpuSource {
    /// Loads NVML; `None` (logged at debug) without a driver or without devices.
    pub(crate) fn open() -> Option<Self> {
        let nvml = match Nvml::init() {
            Ok(n) => n,
            Err(first) => match Nvml::builder().lib_path(std::ffi::OsStr::new("libnvidia-ml.so")).init() {
                Ok(n) => n,
                Err(_) => {
                    tracing::debug!(error = %first, "NVML not available; no GPU metrics");
                    return None;
                }
            },
        };
        let count = nvml.device_count().ok().filter(|&c| c > 0)?;
        Some(GpuSource { nvml, count })
    }

    pub(crate) fn inventory(&self) -> GpuInventory {
        let devices = (0..self.count)
            .filter_map(|i| self.nvml.device_by_index(i).ok().map(|d| (i, d)))
            .map(|(index, d)| GpuDevice {
                index,
                name: d.name().unwrap_or_else(|_| "unknown".into()),
                uuid: d.uuid().ok(),
                memory_total: d.memory_info().ok().map(|m| m.total),
            })
            .collect();
        let cuda_version = self.nvml.sys_cuda_driver_version().ok().map(|v| {
            format!("{}.{}", nvml_wrapper::cuda_driver_version_major(v), nvml_wrapper::cuda_driver_version_minor(v))
        });
        GpuInventory { driver_version: self.nvml.sys_driver_version().ok(), cuda_version, devices }
    }

    pub(crate) fn sample(&self, s: &mut Sample, tree_pids: &[u32]) {
        for i in 0..self.count {
            match self.nvml.device_by_index(i) {
                Ok(d) => sample_device(&d, i, s, tree_pids),
                Err(e) => tracing::debug!(gpu = i, error = %e, "NVML device unavailable"),
            }
        }
    }
}

fn sample_device(d: &Device<'_>, i: u32, s: &mut Sample, tree_pids: &[u32]) {
    let p = format!("system/gpu.{i}");
    if let Ok(u) = d.utilization_rates() {
        s.gauge(format!("{p}.gpu"), f64::from(u.gpu));
        s.gauge(format!("{p}.memory"), f64::from(u.memory));
    }
    if let Ok(m) = d.memory_info() {
        s.gauge(format!("{p}.memoryAllocatedBytes"), m.used as f64);
        if m.total > 0 {
            s.gauge(format!("{p}.memoryAllocated"), 100.0 * m.used as f64 / m.total as f64);
        }
    }
    if let Ok(t) = d.temperature(TemperatureSensor::Gpu) {
        s.gauge(format!("{p}.temp"), f64::from(t));
    }
    let power = d.power_usage().ok().map(|mw| f64::from(mw) / 1000.0);
    let limit = d.enforced_power_limit().ok().map(|mw| f64::from(mw) / 1000.0);
    if let Some(w) = power {
        s.gauge(format!("{p}.powerWatts"), w);
    }
    if let Some(l) = limit {
        s.gauge(format!("{p}.enforcedPowerLimitWatts"), l);
        if let (Some(w), true) = (power, l > 0.0) {
            s.gauge(format!("{p}.powerPercent"), 100.0 * w / l);
        }
    }
    for (clock, name) in [(Clock::SM, "smClock"), (Clock::Memory, "memoryClock"), (Clock::Graphics, "graphicsClock")] {
        if let Ok(mhz) = d.clock_info(clock) {
            s.gauge(format!("{p}.{name}"), f64::from(mhz));
        }
    }
    if let Ok(procs) = d.running_compute_processes() {
        // GPU memory held by the run's own process tree (other users' jobs excluded).
        let ours: u64 = procs
            .iter()
            .filter(|pi| tree_pids.contains(&pi.pid))
            .map(|pi| match pi.used_gpu_memory {
                UsedGpuMemory::Used(b) => b,
                UsedGpuMemory::Unavailable => 0,
            })
            .sum();
        if !tree_pids.is_empty() {
            s.gauge(format!("system/gpu.process.{i}.memoryAllocatedBytes"), ours as f64);
        }
    }
}
