//! `trackway agent SWEEP_ID`: runs trials of a sweep (`commands::sweep`). Without a sweep id:
//! the background uploader `init()` starts (one per root, see `trackway_agent::run_agent`);
//! its logs go to `<root>/agent.log`, since stdio is /dev/null.

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context;

/// Rotate the log at start when it grew past this, so a long-lived workspace stays bounded.
const MAX_LOG_BYTES: u64 = 10 << 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The sweep to run trials of: ENTITY/PROJECT/ID, PROJECT/ID or ID (as `trackway sweep`
    /// printed it). Without it, this is the background uploader `init()` starts.
    pub sweep_id: Option<String>,
    /// Sweep agent: the sweep's project, when the id does not name it.
    #[arg(long)]
    pub project: Option<String>,
    /// Sweep agent: the sweep's entity, when the id does not name it.
    #[arg(long)]
    pub entity: Option<String>,
    /// Sweep agent: stop after this many trials.
    #[arg(long)]
    pub count: Option<u64>,
    /// Uploader: the run root to upload from (default: `<TRACKWAY_DIR or cwd>/trackway`).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Uploader: exit after this many seconds without unsynced online runs
    /// (default: TRACKWAY_AGENT_IDLE_SECONDS, else 60).
    #[arg(long)]
    pub idle_seconds: Option<f64>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(sweep_id) = args.sweep_id {
        let a = super::sweep::AgentArgs { sweep_id, project: args.project, entity: args.entity, count: args.count };
        return super::sweep::run_agent(&a);
    }
    let cwd = std::env::current_dir().context("current directory")?;
    let root = match args.root {
        Some(r) if r.is_absolute() => r,
        Some(r) => cwd.join(r),
        None => trackway_config::root_dir(None, &cwd),
    };
    std::fs::create_dir_all(&root).with_context(|| format!("create {}", root.display()))?;
    init_logging(&root)?;
    let mut opts = trackway_agent::AgentOptions::for_root(&root);
    if let Some(s) = args.idle_seconds.filter(|s| s.is_finite() && *s >= 0.0) {
        opts.idle_exit = std::time::Duration::from_secs_f64(s);
    }
    match trackway_agent::run_agent(&opts)? {
        trackway_agent::AgentExit::AlreadyRunning => {
            tracing::debug!(root = %root.display(), "another agent holds the lock; exiting");
        }
        trackway_agent::AgentExit::Idle => {}
    }
    Ok(())
}

fn init_logging(root: &std::path::Path) -> anyhow::Result<()> {
    let path = root.join("agent.log");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > MAX_LOG_BYTES) {
        let _ = std::fs::rename(&path, root.join("agent.log.1"));
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("open {}", path.display()))?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRACKWAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(Mutex::new(file)).try_init();
    Ok(())
}
