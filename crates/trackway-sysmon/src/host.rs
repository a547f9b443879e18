//! Machine-wide readings: CPU (total and per core), memory, filesystem usage, disk I/O and
//! network traffic. CPU and memory come from `sysinfo`; filesystem usage from `statvfs` (fs4);
//! disk I/O from `/proc/diskstats` (whole devices only, so partitions are not counted twice).
use std::fs;
use std::path::PathBuf;

use sysinfo::{Networks, System};

use crate::Sample;

const MIB: f64 = 1024.0 * 1024.0;
const GB: f64 = 1e9;

pub(crate) struct HostSource {
    sys: Option<System>,
    networks: Option<Networks>,
    disk_paths: Vec<PathBuf>,
    /// Counters at sampler start: the record reports traffic since the run started.
    net_base: (u64, u64),
    io_base: (u64, u64),
    logical_cpus: usize,
}

impl HostSource {
    pub(crate) fn new(disk_paths: &[PathBuf]) -> Self {
        let mut sys = System::new().ok();
        if let Some(s) = sys.as_mut() {
            s.refresh_cpu_usage(); // baseline: the first sample then measures a real interval
            s.refresh_memory();
        }
        let logical_cpus = sys.as_ref().map_or(1, |s| s.cpus().len().max(1));
        let networks = Networks::new_with_refreshed_list().ok();
        let net_base = networks.as_ref().map_or((0, 0), net_totals);
        HostSource { sys, networks, disk_paths: disk_paths.to_vec(), net_base, io_base: disk_io(), logical_cpus }
    }

    pub(crate) fn logical_cpus(&self) -> usize {
        self.logical_cpus
    }

    pub(crate) fn total_memory(&self) -> u64 {
        self.sys.as_ref().map_or(0, System::total_memory)
    }

    pub(crate) fn sample(&mut self, s: &mut Sample) {
        self.sample_cpu_mem(s);
        self.sample_disks(s);
        if let Some(n) = self.networks.as_mut() {
            n.refresh(false);
            let (sent, recv) = net_totals(n);
            s.counter("system/network.sent", sent.saturating_sub(self.net_base.0) as f64);
            s.counter("system/network.recv", recv.saturating_sub(self.net_base.1) as f64);
        }
    }

    fn sample_cpu_mem(&mut self, s: &mut Sample) {
        let Some(sys) = self.sys.as_mut() else { return };
        sys.refresh_cpu_usage();
        sys.refresh_memory();
        s.gauge("system/cpu_percent", f64::from(sys.global_cpu_usage()));
        for (i, cpu) in sys.cpus().iter().enumerate() {
            s.gauge(format!("system/cpu.{i}.cpu_percent"), f64::from(cpu.usage()));
        }
        let total = sys.total_memory();
        if total > 0 {
            let avail = sys.available_memory();
            s.gauge("system/memory_percent", 100.0 * total.saturating_sub(avail) as f64 / total as f64);
            s.gauge("system/proc.memory.availableMB", avail as f64 / MIB);
        }
    }

    fn sample_disks(&mut self, s: &mut Sample) {
        for p in &self.disk_paths {
            let Ok(st) = fs4::statvfs(p) else { continue };
            let used = st.total_space().saturating_sub(st.free_space());
            let denom = used + st.available_space();
            let key = p.display();
            if denom > 0 {
                s.gauge(format!("system/disk.{key}.usagePercent"), 100.0 * used as f64 / denom as f64);
            }
            s.gauge(format!("system/disk.{key}.usageGB"), used as f64 / GB);
        }
        let (read, written) = disk_io();
        s.counter("system/disk.in", read.saturating_sub(self.io_base.0) as f64 / MIB);
        s.counter("system/disk.out", written.saturating_sub(self.io_base.1) as f64 / MIB);
    }
}

/// Bytes (sent, received) over all interfaces except loopback.
fn net_totals(n: &Networks) -> (u64, u64) {
    n.iter()
        .filter(|(name, _)| name.to_str() != Some("lo"))
        .fold((0, 0), |(s, r), (_, d)| (s + d.total_transmitted(), r + d.total_received()))
}

/// Bytes (read, written) by whole block devices since boot.
fn disk_io() -> (u64, u64) {
    let Ok(text) = fs::read_to_string("/proc/diskstats") else { return (0, 0) };
    parse_diskstats(&text, |dev| fs::metadata(format!("/sys/block/{dev}")).is_ok())
}

/// Sums sectors read/written (always 512-byte units in this file) of devices `is_whole` accepts,
/// skipping loop and RAM devices.
pub(crate) fn parse_diskstats(text: &str, is_whole: impl Fn(&str) -> bool) -> (u64, u64) {
    let mut read = 0u64;
    let mut written = 0u64;
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let Some(dev) = f.get(2) else { continue };
        if dev.starts_with("loop") || dev.starts_with("ram") || dev.starts_with("zram") || !is_whole(dev) {
            continue;
        }
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        read += num(5) * 512;
        written += num(9) * 512;
    }
    (read, written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diskstats_counts_whole_devices_once() {
        let text = "\
   8       0 sda 100 0 2000 0 50 0 4000 0 0 0 0
   8       1 sda1 90 0 1800 0 40 0 3000 0 0 0 0
   7       0 loop0 5 0 10 0 0 0 0 0 0 0 0
 259       0 nvme0n1 1 0 8 0 1 0 16 0 0 0 0";
        let (r, w) = parse_diskstats(text, |d| d == "sda" || d == "nvme0n1");
        assert_eq!(r, (2000 + 8) * 512);
        assert_eq!(w, (4000 + 16) * 512);
    }
}
