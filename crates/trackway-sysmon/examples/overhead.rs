//! Overhead of the sampler: CPU time per sample, and what that costs at the default cadence.
//! Run: `cargo run --release -p trackway-sysmon --example overhead [samples]`
//! (bench/sysmon_overhead.py wraps it). Target: <= 1 % of one core at a 2 s cadence.
use std::time::{Duration, Instant};

use trackway_sysmon::{Sampler, SamplerConfig, proctree};

fn self_cpu_seconds() -> f64 {
    let line = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    proctree::parse_stat(&line).map_or(0.0, |p| p.cpu_ticks as f64 / 100.0)
}

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    let start = Instant::now();
    let mut s = Sampler::new(SamplerConfig::new(Some(std::process::id())), start);
    let procs = proctree::scan_all().len();
    let cpu0 = self_cpu_seconds();
    let wall0 = Instant::now();
    let mut keys = 0;
    for i in 0..n {
        let sample = s.sample_now(start + Duration::from_millis(u64::from(i) * 2000));
        keys = sample.gauges.len() + sample.counters.len();
    }
    let cpu = self_cpu_seconds() - cpu0;
    let wall = wall0.elapsed().as_secs_f64();
    let per_sample_ms = 1000.0 * cpu / f64::from(n);
    println!(
        "sysmon overhead: {n} samples, {procs} processes on the machine, {keys} keys per sample, GPU: {}",
        s.gpu_available()
    );
    println!("  CPU per sample: {per_sample_ms:.3} ms (wall {:.3} ms)", 1000.0 * wall / f64::from(n));
    for every in [2.0, 15.0] {
        println!("  at one sample every {every} s: {:.4} % of one core", 100.0 * per_sample_ms / 1000.0 / every);
    }
}
