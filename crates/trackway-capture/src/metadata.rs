//! Run metadata (`files/trackway-metadata.json`, and the run's `metadata` on the server).
//!
//! The agent collects it, not the training process. What only the training process knows
//! (argv, the Python interpreter, `sys.path`) travels in the `process` object of the `run`
//! record, which `trackway._files.process_info()` builds:
//! `{"program","code_path","argv","python","executable","cwd","site_packages":[...]}`.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::git::{GitState, git_state};
use crate::settings::CaptureSettings;

/// What the training process reported about itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessInfo {
    /// The program as invoked (`sys.argv[0]`, or `-c`, `<stdin>`, a notebook name).
    pub program: Option<String>,
    /// Absolute path of the main script when it is a file.
    pub code_path: Option<String>,
    #[serde(default)]
    pub argv: Vec<String>,
    /// Interpreter version, e.g. "3.11.7" (any language's runtime version for other SDKs).
    pub python: Option<String>,
    pub executable: Option<String>,
    pub cwd: Option<String>,
    #[serde(default)]
    pub site_packages: Vec<String>,
    #[serde(skip)]
    pub pid: Option<u32>,
    #[serde(skip)]
    pub host: Option<String>,
    #[serde(skip)]
    pub started_at: Option<f64>,
}

impl ProcessInfo {
    /// From the run log's `run` record (`pid`, `host`, `created_at`) and the process facts: the
    /// `process` record `trackway._files.on_init` appends right after it (`process_record`), else
    /// a `process` object inside the run record or its `settings._process`.
    pub fn from_records(run: &Value, process_record: Option<&Value>) -> Self {
        let obj = process_record
            .or_else(|| run.get("process"))
            .or_else(|| run.get("settings").and_then(|s| s.get("_process")));
        let mut info: ProcessInfo = obj.and_then(|o| serde_json::from_value(o.clone()).ok()).unwrap_or_default();
        info.pid = run.get("pid").and_then(Value::as_u64).and_then(|p| u32::try_from(p).ok());
        info.host = run.get("host").and_then(Value::as_str).map(String::from);
        info.started_at = run.get("created_at").and_then(Value::as_f64);
        info
    }

    /// As [`from_records`](Self::from_records) with the run record only.
    pub fn from_run_record(run: &Value) -> Self {
        Self::from_records(run, None)
    }
}

/// How much of the log start is searched for the `process` record (it is the second line in
/// practice; bounded so a huge log is never read here).
const PROCESS_SCAN_BYTES: usize = 1 << 20;

/// The first `process` record of `<run_dir>/run.jsonl`, if any.
pub fn find_process_record(run_dir: &Path) -> Option<Value> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(run_dir.join("run.jsonl")).ok()?.take(PROCESS_SCAN_BYTES as u64).read_to_end(&mut buf).ok()?;
    buf.split(|&b| b == b'\n')
        .filter(|l| l.windows(7).any(|w| w == b"process")) // skip parsing unrelated lines
        .find_map(|l| {
            serde_json::from_slice::<Value>(l).ok().filter(|v| v.get("t").and_then(Value::as_str) == Some("process"))
        })
}

/// Whether the agent should capture the run now: its `process` record is there, or the run is
/// older than `grace_s` (writers other than the Python SDK never write one).
pub fn capture_ready(run_dir: &Path, run: &Value, now_unix: f64, grace_s: f64) -> bool {
    let created = run.get("created_at").and_then(Value::as_f64).unwrap_or(0.0);
    now_unix - created >= grace_s || find_process_record(run_dir).is_some()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuMeta {
    pub name: String,
    pub memory_total: Option<u64>,
    pub uuid: Option<String>,
}

/// The metadata document. Field names follow wandb-metadata.json where one exists.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub host: Option<String>,
    pub os: Option<String>,
    pub kernel: Option<String>,
    pub python: Option<String>,
    pub executable: Option<String>,
    pub program: Option<String>,
    pub code_path: Option<String>,
    pub args: Vec<String>,
    pub cwd: Option<String>,
    pub pid: Option<u32>,
    pub started_at: Option<f64>,
    pub cpu_count: Option<usize>,
    pub cpu_count_logical: Option<usize>,
    pub cpu_brand: Option<String>,
    pub memory_total: Option<u64>,
    pub gpu: Option<String>,
    pub gpu_count: usize,
    pub gpu_devices: Vec<GpuMeta>,
    pub gpu_driver: Option<String>,
    pub cuda_version: Option<String>,
    /// `None` when code capture is disabled or the program is not in a repository.
    pub git: Option<GitState>,
}

/// Collects metadata for a run. Never fails: a missing piece is left empty (and logged).
pub fn collect_metadata(process: &ProcessInfo, settings: &CaptureSettings) -> Metadata {
    let mut m = Metadata {
        host: process.host.clone().or_else(|| sysinfo::System::host_name().ok()),
        os: sysinfo::System::long_os_version().ok(),
        kernel: sysinfo::System::kernel_version().ok(),
        python: process.python.clone(),
        executable: process.executable.clone(),
        program: process.program.clone(),
        code_path: process.code_path.clone(),
        args: process.argv.clone(),
        cwd: process.cwd.clone(),
        pid: process.pid,
        started_at: process.started_at,
        cpu_count: sysinfo::System::physical_core_count().ok(),
        cpu_count_logical: std::thread::available_parallelism().ok().map(usize::from),
        cpu_brand: cpu_brand(),
        memory_total: memory_total(),
        ..Metadata::default()
    };
    if let Some(inv) = trackway_sysmon::probe_gpus() {
        m.gpu = inv.devices.first().map(|d| d.name.clone());
        m.gpu_count = inv.devices.len();
        m.gpu_devices = inv
            .devices
            .iter()
            .map(|d| GpuMeta { name: d.name.clone(), memory_total: d.memory_total, uuid: d.uuid.clone() })
            .collect();
        m.gpu_driver = inv.driver_version;
        m.cuda_version = inv.cuda_version;
    }
    if let Some(v) = cuda_toolkit_version() {
        m.cuda_version = Some(v); // the toolkit the program builds against beats the driver's maximum
    }
    if settings.git_enabled() {
        m.git = git_dir(process).and_then(|d| match git_state(&d, settings.git_remote.as_deref()) {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(error = %e, "reading git state failed");
                None
            }
        });
    }
    m
}

/// Where to look for the repository: the main script's directory, else the working directory.
pub(crate) fn git_dir(process: &ProcessInfo) -> Option<PathBuf> {
    let from_code = process.code_path.as_deref().map(Path::new).and_then(Path::parent).filter(|p| p.is_dir());
    from_code.map(Path::to_path_buf).or_else(|| process.cwd.as_deref().map(PathBuf::from)).filter(|p| p.is_dir())
}

fn cpu_brand() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|r| r.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

fn memory_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 =
        text.lines().find_map(|l| l.strip_prefix("MemTotal:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// `CUDA_HOME`/`/usr/local/cuda` toolkit version from its `version.json` (CUDA >= 11).
fn cuda_toolkit_version() -> Option<String> {
    let home = std::env::var_os("CUDA_HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/local/cuda"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(home.join("version.json")).ok()?).ok()?;
    v.get("cuda")?.get("version")?.as_str().map(String::from)
}
