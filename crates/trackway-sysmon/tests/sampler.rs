//! Sampler behaviour against the real machine: documented keys, cadence, process-tree CPU
//! attribution, the system.jsonl stream, and NVML when a driver is present.
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use trackway_sysmon::{Sampler, SamplerConfig, StatsRecord, SystemLog, proctree};

fn fast_config(root: Option<u32>) -> SamplerConfig {
    let mut cfg = SamplerConfig::new(root);
    cfg.sample_every = Duration::from_millis(50);
    cfg.window = Duration::from_millis(200);
    cfg
}

/// Drives the sampler on a synthetic clock (readings are real, the schedule is exact).
fn records(s: &mut Sampler, start: Instant, n: usize) -> Vec<StatsRecord> {
    let mut out = Vec::new();
    let mut now = start;
    while out.len() < n {
        now += Duration::from_millis(10);
        if let Some(r) = s.tick(now) {
            out.push(r);
        }
    }
    out
}

#[test]
fn records_have_documented_keys_and_cadence() {
    let start = Instant::now();
    let mut s = Sampler::new(fast_config(Some(std::process::id())), start);
    assert_eq!(s.tick(start + Duration::from_millis(40)), None, "nothing before the first sample is due");
    let recs = records(&mut s, start, 3);
    for r in &recs {
        assert_eq!(r.samples, 4, "a 200 ms window of 50 ms samples averages 4 samples");
        for key in [
            "system/cpu_percent",
            "system/cpu.0.cpu_percent",
            "system/memory_percent",
            "system/proc.memory.availableMB",
            "system/cpu",
            "system/proc.cpu.percent",
            "system/proc.cpu.threads",
            "system/proc.count",
            "system/proc.memory.rssMB",
            "system/proc.memory.percent",
            "system/disk./.usagePercent",
            "system/disk./.usageGB",
            "system/disk.in",
            "system/disk.out",
            "system/network.sent",
            "system/network.recv",
        ] {
            assert!(r.data.contains_key(key), "missing {key} in {:?}", r.data.keys().collect::<Vec<_>>());
        }
        assert!(r.data.keys().all(|k| k.starts_with("system/")), "every key is under system/");
        assert!(r.data["system/proc.memory.rssMB"] > 0.5, "this test process has a resident set");
        let json = r.to_json();
        assert_eq!(json["t"], "stats");
    }
    assert!(recs.windows(2).all(|w| w[0].ts <= w[1].ts));
}

#[test]
fn flush_emits_partial_window_and_stalls_do_not_burst() {
    let start = Instant::now();
    let mut s = Sampler::new(fast_config(None), start);
    assert!(s.flush(start).is_none(), "an empty window yields nothing");
    assert!(s.tick(start + Duration::from_millis(60)).is_none());
    let partial = s.flush(start + Duration::from_millis(70)).expect("one sample pending");
    assert_eq!(partial.samples, 1);
    // After a long stall one tick takes one sample, and the schedule restarts from now.
    let late = start + Duration::from_secs(10);
    let _ = s.tick(late);
    assert_eq!(s.next_due(), late + Duration::from_millis(50));
}

/// Spawns `sh` whose child spins: the busy process is a grandchild of nothing we sample
/// directly, exactly like a DataLoader worker.
fn spawn_busy_tree() -> Child {
    Command::new("sh").arg("-c").arg("sh -c 'while :; do :; done' & wait").spawn().expect("spawn sh")
}

fn kill_tree(root: &mut Child) {
    let all = proctree::scan_all();
    for p in proctree::tree_of(root.id(), &all).iter().rev() {
        let _ = Command::new("kill").arg("-9").arg(p.pid.to_string()).status();
    }
    let _ = root.wait();
}

#[test]
fn child_cpu_is_attributed_to_the_process_tree() {
    let mut root = spawn_busy_tree();
    let root_pid = root.id();
    let mut src = proctree::TreeSource::new(Some(root_pid));
    let started = Instant::now();
    let mut last = src.sample(Instant::now());
    // Wait (bounded) until the tree accumulated 0.3 s of CPU; the root shell itself only waits.
    while last.cpu_ticks < 30 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
        last = src.sample(Instant::now());
    }
    let all = proctree::scan_all();
    let root_ticks = all.iter().find(|p| p.pid == root_pid).map_or(0, |p| p.cpu_ticks);
    kill_tree(&mut root);
    assert!(last.pids.len() >= 2, "the busy child must be found in the tree: {:?}", last.pids);
    assert!(last.cpu_ticks >= 30, "tree CPU time must include the busy child (got {} ticks)", last.cpu_ticks);
    assert!(root_ticks < 10, "the root only waits; the CPU came from its child");
    assert!(last.cpu_percent.is_some_and(|p| p > 0.0));
}

#[test]
fn system_log_has_one_header_and_appends_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = StatsRecord { ts: 1.5, samples: 2, window: 30.0, data: [("system/cpu".to_string(), 12.0)].into() };
    {
        let mut log = SystemLog::open(dir.path(), "abc123", Some("9f2c4e1a7b3d5f60")).expect("open");
        log.append(&rec).expect("append");
    }
    let mut log = SystemLog::open(dir.path(), "abc123", None).expect("reopen");
    log.append(&rec).expect("append 2");
    let text = std::fs::read_to_string(SystemLog::path(dir.path())).expect("read");
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["t"], "stream");
    assert_eq!(lines[0]["kind"], "system");
    assert_eq!(lines[0]["run_log_id"], "9f2c4e1a7b3d5f60");
    assert_eq!(lines[1]["t"], "stats");
    assert!(text.lines().nth(1).is_some_and(|l| l.contains("\"system/cpu\":12.0")), "floats keep their '.0'");
}

#[test]
fn gpu_metrics_when_nvml_is_present() {
    let Some(inv) = trackway_sysmon::probe_gpus() else {
        println!("skipped: no NVML (no NVIDIA driver on this machine); GPU keys are not produced");
        return;
    };
    println!("NVML: driver {:?}, CUDA {:?}, devices {:?}", inv.driver_version, inv.cuda_version, inv.devices);
    assert!(!inv.devices.is_empty());
    let start = Instant::now();
    let mut s = Sampler::new(fast_config(Some(std::process::id())), start);
    assert!(s.gpu_available());
    let rec = &records(&mut s, start, 1)[0];
    for key in
        ["system/gpu.0.gpu", "system/gpu.0.memoryAllocated", "system/gpu.0.memoryAllocatedBytes", "system/gpu.0.temp"]
    {
        assert!(rec.data.contains_key(key), "missing {key}");
    }
    let gpu_keys: Vec<_> = rec.data.iter().filter(|(k, _)| k.contains("gpu")).collect();
    println!("GPU sample: {gpu_keys:?}");
}
