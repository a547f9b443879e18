//! Prints one averaged system-metrics record (as written to system.jsonl) for this process's
//! tree, plus the GPU inventory: `cargo run --release -p trackway-sysmon --example sample`.
//! Used by python/tests/test_capture_gpu.py on machines with an NVIDIA driver.
use std::time::{Duration, Instant};

use trackway_sysmon::{Sampler, SamplerConfig};

fn main() {
    let mut cfg = SamplerConfig::new(Some(std::process::id()));
    cfg.sample_every = Duration::from_millis(200);
    cfg.window = Duration::from_millis(600);
    let start = Instant::now();
    let mut s = Sampler::new(cfg, start);
    let inventory = s.gpu_inventory();
    let record = loop {
        std::thread::sleep(Duration::from_millis(50));
        if let Some(r) = s.tick(Instant::now()) {
            break r;
        }
    };
    let gpus: Vec<serde_json::Value> = inventory
        .iter()
        .flat_map(|i| &i.devices)
        .map(|d| serde_json::json!({"index": d.index, "name": d.name, "memory_total": d.memory_total}))
        .collect();
    let cuda = inventory.as_ref().and_then(|i| i.cuda_version.clone());
    println!("{}", serde_json::json!({"gpus": gpus, "cuda_version": cuda, "record": record.to_json()}));
}
