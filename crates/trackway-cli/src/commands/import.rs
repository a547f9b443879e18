//! `trackway import tensorboard LOGDIR...` and `trackway import mlflow [URI]`: write the runs
//! as ordinary run directories (`trackway-import`), then upload them with `trackway sync`'s
//! path, so re-importing is idempotent end to end (same run ids, same log positions).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use trackway_import::{mlflow, sink::Written, tensorboard};

use super::sync;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub source: Source,
}

#[derive(Debug, clap::Subcommand)]
pub enum Source {
    /// TensorBoard log directories (each directory with event files is one run).
    Tensorboard(TbArgs),
    /// An MLflow tracking store: `mlruns/` directory, `file:` or `sqlite:///` URI.
    Mlflow(MlflowArgs),
}

#[derive(Debug, clap::Args)]
pub struct Common {
    /// Project of the imported runs (TensorBoard default: `uncategorized`; MLflow default: the
    /// experiment name).
    #[arg(long)]
    pub project: Option<String>,
    /// Entity of the imported runs (default: the server's default entity).
    #[arg(long)]
    pub entity: Option<String>,
    /// Run root to write the run directories into (default: the current root, `./trackway`).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Only write the run directories; upload later with `trackway sync`.
    #[arg(long)]
    pub no_sync: bool,
    /// Server to upload to (default: TRACKWAY_BASE_URL, else the stored login).
    #[arg(long)]
    pub host: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct TbArgs {
    /// Log directories (as given to `tensorboard --logdir`).
    #[arg(required = true)]
    pub logdirs: Vec<PathBuf>,
    #[command(flatten)]
    pub common: Common,
    /// Keep importing what the writers append (live sync), every --interval seconds.
    #[arg(long)]
    pub follow: bool,
    /// Seconds between two passes of --follow.
    #[arg(long, default_value_t = 2.0)]
    pub interval: f64,
    /// With --follow: stop (and mark the runs finished) once no new data came for this many
    /// seconds (counted from the first data).
    #[arg(long)]
    pub idle_exit: Option<f64>,
}

#[derive(Debug, clap::Args)]
pub struct MlflowArgs {
    /// Tracking directory, `file:` or `sqlite:///` URI, or a tracking server's `http(s)://`
    /// address (default: MLFLOW_TRACKING_URI, else ./mlruns).
    pub uri: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.source {
        Source::Tensorboard(a) => run_tensorboard(&a),
        Source::Mlflow(a) => run_mlflow(&a),
    }
}

fn root(common: &Common) -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("current directory")?;
    Ok(trackway_config::root_dir(common.dir.as_deref(), &cwd))
}

fn report(path: &Path, w: Written) {
    let dropped = if w.dropped > 0 { format!(", {} dropped (step went back)", w.dropped) } else { String::new() };
    println!("{}: {} rows, {} points, {} files{dropped}", path.display(), w.rows, w.points, w.files);
}

fn tb_pass(a: &TbArgs, target: &tensorboard::Target, finished: bool) -> anyhow::Result<(Vec<PathBuf>, u64)> {
    let mut dirs = Vec::new();
    let mut points = 0;
    for logdir in &a.logdirs {
        if a.follow && !logdir.exists() {
            continue; // the training has not created it yet
        }
        for run in tensorboard::discover(logdir)? {
            let (path, written) = tensorboard::import_run(&run, target, finished)
                .with_context(|| format!("import {}", run.source.display()))?;
            points += written.points + written.files;
            report(&path, written);
            dirs.push(path);
        }
    }
    Ok((dirs, points))
}

fn run_tensorboard(a: &TbArgs) -> anyhow::Result<()> {
    let target = tensorboard::Target {
        root: root(&a.common)?,
        project: a.common.project.clone().unwrap_or_else(|| "uncategorized".to_owned()),
        entity: a.common.entity.clone(),
    };
    if !a.follow {
        let (dirs, _) = tb_pass(a, &target, true)?;
        return upload(&a.common, dirs);
    }
    // The idle clock starts with the first data: a training may take a while to create its
    // log directory.
    let mut last_new: Option<Instant> = None;
    loop {
        let (dirs, points) = tb_pass(a, &target, false)?;
        if points > 0 {
            last_new = Some(Instant::now());
            upload(&a.common, dirs)?;
        }
        let idle = last_new.map(|t| t.elapsed().as_secs_f64());
        if let (Some(limit), Some(idle)) = (a.idle_exit, idle)
            && idle >= limit
        {
            let (dirs, _) = tb_pass(a, &target, true)?;
            return upload(&a.common, dirs);
        }
        std::thread::sleep(Duration::from_secs_f64(a.interval.max(0.05)));
    }
}

fn run_mlflow(a: &MlflowArgs) -> anyhow::Result<()> {
    let uri =
        a.uri.clone().or_else(|| std::env::var("MLFLOW_TRACKING_URI").ok()).unwrap_or_else(|| "mlruns".to_owned());
    let store = mlflow::store(&uri)?;
    let root = root(&a.common)?;
    let mut dirs = Vec::new();
    for run in mlflow::discover(&store).with_context(|| format!("read {uri}"))? {
        let (path, written) = mlflow::import_run(&run, &root, a.common.project.as_deref(), a.common.entity.as_deref())
            .with_context(|| format!("import {}", run.location()))?;
        report(&path, written);
        dirs.push(path);
    }
    upload(&a.common, dirs)
}

fn upload(common: &Common, dirs: Vec<PathBuf>) -> anyhow::Result<()> {
    if common.no_sync || dirs.is_empty() {
        return Ok(());
    }
    sync::run(sync::Args {
        dirs,
        all: None,
        project: None,
        entity: None,
        id: None,
        host: common.host.clone(),
        no_files: false,
        retry_seconds: 30.0,
    })
}
