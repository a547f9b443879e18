//! `trackway restore` and `trackway pull` argument parsing and run resolution, kept here so
//! the CLI module (`trackway-cli/src/commands/restore.rs`) only prints.
//!
//! RUN is resolved in this order: a path to a run directory (one with `run.jsonl`); a bare run
//! id, looked up among the local runs under `<dir or TRACKWAY_DIR or cwd>/trackway` (the newest
//! attempt); `entity/project/run_id` (or `project/run_id`, entity from the stored login) on the
//! server at `--base-url`/`TRACKWAY_BASE_URL`/the stored default host, authenticated with
//! `TRACKWAY_API_KEY` or the stored key for that host.
use std::path::{Path, PathBuf};

use crate::CaptureError;
use crate::restore::{
    HttpRunSource, LocalRunSource, PullReport, RestoreError, RestoreOptions, RestoreReport, RunSource, pull, restore,
};

#[derive(Debug, Clone, clap::Args)]
pub struct RestoreArgs {
    /// The run: a run directory, a local run id, or entity/project/run_id on the server.
    pub run: String,
    /// A directory inside the repository to restore into.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Check out the commit as a detached HEAD instead of a new branch trackway/<run_id>.
    #[arg(long)]
    pub no_branch: bool,
    /// Restore only the config (and files), not the code.
    #[arg(long)]
    pub no_git: bool,
    /// Do not download the run's files.
    #[arg(long)]
    pub no_files: bool,
    /// Where to write config.yaml (default: <repo root>/trackway/config.yaml).
    #[arg(long)]
    pub config_out: Option<PathBuf>,
    /// Where to download the run's files (default: <repo root>/trackway/pulled/<run_id>).
    #[arg(long)]
    pub files_dir: Option<PathBuf>,
    /// Server URL for entity/project/run_id (default: TRACKWAY_BASE_URL, then the stored login).
    #[arg(long)]
    pub base_url: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct PullArgs {
    /// The run: a run directory, a local run id, or entity/project/run_id on the server.
    pub run: String,
    /// Destination directory (default: ./trackway/pulled/<run_id>).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Server URL (default: TRACKWAY_BASE_URL, then the stored login).
    #[arg(long)]
    pub base_url: Option<String>,
}

/// Finds the run named on the command line.
pub fn resolve_source(run: &str, base_url: Option<&str>, cwd: &Path) -> Result<Box<dyn RunSource>, CaptureError> {
    let as_path = cwd.join(run);
    if as_path.join("run.jsonl").is_file() {
        return Ok(Box::new(LocalRunSource::open(&as_path)?));
    }
    let parts: Vec<&str> = run.split('/').collect();
    match parts.as_slice() {
        [id] => {
            let root = trackway_config::root_dir(None, cwd);
            let dirs = trackway_runlog::find_run_dirs(&root, id).unwrap_or_default();
            let dir = dirs.last().ok_or_else(|| {
                src_err(format!(
                    "no local run {id} under {}; name a run directory or entity/project/{id}",
                    root.display()
                ))
            })?;
            Ok(Box::new(LocalRunSource::open(dir)?))
        }
        [project, id] => server_source(base_url, None, project, id),
        [entity, project, id] => server_source(base_url, Some(entity), project, id),
        _ => Err(src_err(format!(
            "cannot read run {run:?}: expected a run directory, a run id or entity/project/run_id"
        ))),
    }
}

fn server_source(
    base_url: Option<&str>,
    entity: Option<&str>,
    project: &str,
    id: &str,
) -> Result<Box<dyn RunSource>, CaptureError> {
    let creds = trackway_config::Credentials::load().unwrap_or_default();
    let base = base_url
        .map(String::from)
        .or_else(|| trackway_config::env("BASE_URL"))
        .or_else(|| creds.default_host.clone())
        .ok_or_else(|| src_err("no server: pass --base-url, set TRACKWAY_BASE_URL or run `trackway login`".into()))?;
    let stored = creds.for_host(&base);
    let key = trackway_config::env("API_KEY")
        .or_else(|| stored.map(|h| h.api_key.clone()))
        .ok_or_else(|| src_err(format!("no API key for {base}: set TRACKWAY_API_KEY or run `trackway login`")))?;
    let entity = entity
        .map(String::from)
        .or_else(|| trackway_config::env("ENTITY"))
        .or_else(|| stored.and_then(|h| h.entity.clone()))
        .ok_or_else(|| src_err(format!("which entity owns {project}/{id}? use entity/{project}/{id}")))?;
    Ok(Box::new(HttpRunSource::new(&base, &key, &entity, project, id)))
}

fn src_err(msg: String) -> CaptureError {
    RestoreError::Source(msg).into()
}

/// `trackway restore`.
pub fn run_restore(args: &RestoreArgs, cwd: &Path) -> Result<RestoreReport, CaptureError> {
    let src = resolve_source(&args.run, args.base_url.as_deref(), cwd)?;
    let repo = cwd.join(&args.repo);
    let root = crate::git::git_ok(&repo, &["rev-parse", "--show-toplevel"])
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo.clone());
    let files_out = (!args.no_files)
        .then(|| args.files_dir.clone().unwrap_or_else(|| root.join("trackway").join("pulled").join(src.run_id())));
    let opts =
        RestoreOptions { branch: !args.no_branch, git: !args.no_git, config_out: args.config_out.clone(), files_out };
    restore(src.as_ref(), &repo, &opts)
}

/// `trackway pull`; returns the destination and what was downloaded.
pub fn run_pull(args: &PullArgs, cwd: &Path) -> Result<(PathBuf, PullReport), CaptureError> {
    let src = resolve_source(&args.run, args.base_url.as_deref(), cwd)?;
    let dest =
        args.dir.clone().map(|d| cwd.join(d)).unwrap_or_else(|| cwd.join("trackway").join("pulled").join(src.run_id()));
    let report = pull(src.as_ref(), &dest)?;
    Ok((dest, report))
}
