//! `trackway sync RUN_DIR... | --all [DIR]`: upload offline or unfinished runs in the foreground.

use std::path::{Path, PathBuf};

use anyhow::Context;
use trackway_agent::{ClientPool, Overrides, SyncOptions, SyncOutcome, sync_run};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run directories (`.../trackway/run-<time>-<id>`) to upload.
    pub dirs: Vec<PathBuf>,
    /// Upload every unsynced run under DIR (a run root, or a directory containing `trackway/`;
    /// default: the current root).
    #[arg(long, num_args = 0..=1, value_name = "DIR")]
    pub all: Option<Option<PathBuf>>,
    /// Upload into this project instead of the run's.
    #[arg(long)]
    pub project: Option<String>,
    /// Upload into this entity instead of the run's.
    #[arg(long)]
    pub entity: Option<String>,
    /// Upload under this run id instead of the run's.
    #[arg(long)]
    pub id: Option<String>,
    /// Server to upload to (default: the run's, else TRACKWAY_BASE_URL, else the stored login).
    #[arg(long)]
    pub host: Option<String>,
    /// Upload only the run log, not the run's files and system metrics.
    #[arg(long)]
    pub no_files: bool,
    /// Give up on a run after its server kept failing this many seconds.
    #[arg(long, default_value_t = 30.0)]
    pub retry_seconds: f64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // Upload problems (a refused file, a retry) are logged as warnings; show them.
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRACKWAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    let dirs = target_dirs(&args)?;
    if dirs.is_empty() {
        println!("nothing to sync");
        return Ok(());
    }
    if args.id.is_some() && dirs.len() > 1 {
        anyhow::bail!("--id names one run; give exactly one run directory");
    }
    let opts = SyncOptions {
        overrides: Overrides {
            project: args.project.clone(),
            entity: args.entity.clone(),
            run_id: args.id.clone(),
            // Only an explicit --host overrides: otherwise the agent's one rule applies (the
            // run's recorded server, else TRACKWAY_BASE_URL, else the stored login).
            base_url: args.host.clone(),
        },
        retry_for: std::time::Duration::from_secs_f64(args.retry_seconds.max(0.0)),
        capture: !args.no_files,
    };
    let mut pool = ClientPool::default();
    let mut failed = 0usize;
    for dir in &dirs {
        let outcome =
            sync_run(dir, &opts, &mut pool).unwrap_or_else(|e| SyncOutcome::Failed { message: e.to_string() });
        failed += usize::from(!outcome.is_ok());
        println!("{}: {}", dir.display(), describe(&outcome));
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} run(s) could not be synced; run `trackway sync` again later", dirs.len());
    }
    Ok(())
}

fn describe(o: &SyncOutcome) -> String {
    let path = |p: &Option<String>| p.clone().unwrap_or_else(|| "?".into());
    match o {
        SyncOutcome::Synced { path: p, records, bytes } => {
            format!("synced to {} ({records} records, {bytes} bytes sent)", path(p))
        }
        SyncOutcome::AlreadySynced => "already synced".into(),
        SyncOutcome::StillRunning { path: p, records, bytes } => {
            format!("uploaded to {} ({records} records, {bytes} bytes); still running, not marked synced", path(p))
        }
        SyncOutcome::Failed { message } => format!("FAILED: {message}"),
    }
}

fn target_dirs(args: &Args) -> anyhow::Result<Vec<PathBuf>> {
    let cwd = std::env::current_dir().context("current directory")?;
    let mut out: Vec<PathBuf> =
        args.dirs.iter().map(|d| if d.is_absolute() { d.clone() } else { cwd.join(d) }).collect();
    if let Some(all) = &args.all {
        let root = match all {
            Some(d) => resolve_root(&if d.is_absolute() { d.clone() } else { cwd.join(d) }),
            None => trackway_config::root_dir(None, &cwd),
        };
        let runs = trackway_agent::pending_runs(&root).with_context(|| format!("list runs in {}", root.display()))?;
        out.extend(runs.into_iter().map(|r| r.dir));
    }
    if out.is_empty() && args.all.is_none() {
        anyhow::bail!("give run directories or --all [DIR]");
    }
    Ok(out)
}

/// Accepts a run root or a directory that holds one (`DIR/trackway`).
fn resolve_root(dir: &Path) -> PathBuf {
    let nested = dir.join("trackway");
    if nested.is_dir() { nested } else { dir.to_path_buf() }
}
