//! `trackway runs ls [DIR]` and `trackway runs show RUN`: local runs, read from their logs.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;
use trackway_runlog::{RunState, list_runs, load_run_state};
use trackway_types::{Map, Value};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// List the runs under a directory (default: ./trackway, or TRACKWAY_DIR).
    Ls {
        /// A run root (`.../trackway`) or the directory holding it.
        dir: Option<PathBuf>,
        /// Print JSON (one array) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one run: identity, state, rows, config and summary.
    Show {
        /// A run directory, or a run id under ./trackway (its latest attempt).
        run: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Ls { dir, json } => ls(dir, json),
        Command::Show { run, json } => show(&run, json),
    }
}

/// What one run looks like in `--json` output. Values are Trackway JSON (NaN is `{"$f":"NaN"}`).
#[derive(Serialize)]
struct RunView<'a> {
    dir: String,
    run_id: &'a str,
    log_id: &'a str,
    name: Option<&'a str>,
    project: &'a str,
    entity: Option<&'a str>,
    tags: &'a [String],
    notes: Option<&'a str>,
    group: Option<&'a str>,
    job_type: Option<&'a str>,
    mode: Option<&'a str>,
    state: String,
    exit_code: Option<i64>,
    rows: u64,
    last_step: Option<u64>,
    corrupt_lines: u64,
    created_at: Option<f64>,
    synced: bool,
    config: &'a Map,
    summary: &'a Map,
}

fn view<'a>(dir: &Path, st: &'a RunState) -> RunView<'a> {
    RunView {
        dir: dir.display().to_string(),
        run_id: &st.run.run_id,
        log_id: &st.run.log_id,
        name: st.name.as_deref(),
        project: st.run.project.as_deref().unwrap_or("uncategorized"),
        entity: st.run.entity.as_deref(),
        tags: &st.tags,
        notes: st.notes.as_deref(),
        group: st.group.as_deref(),
        job_type: st.job_type.as_deref(),
        mode: st.run.mode.as_deref(),
        state: state_of(st),
        exit_code: st.exit_code,
        rows: st.row_count,
        last_step: st.last_step,
        corrupt_lines: st.corrupt_lines,
        created_at: st.run.created_at,
        synced: dir.join(trackway_runlog::SYNCED_MARKER).exists(),
        config: &st.config,
        summary: &st.summary,
    }
}

/// finished | failed | crashed | running | unfinished (writer gone, agent not yet noticed).
fn state_of(st: &RunState) -> String {
    if st.finished {
        return match (st.crashed, st.exit_code) {
            (true, _) => "crashed".into(),
            (false, Some(0) | None) => "finished".into(),
            (false, Some(_)) => "failed".into(),
        };
    }
    let same_host = st.run.host.as_deref().is_some_and(|h| Some(h) == this_host().as_deref());
    let alive = st.run.pid.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
    if same_host && alive { "running".into() } else { "unfinished".into() }
}

fn this_host() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|s| s.trim().to_owned())
}

/// The run root for a user-given directory: itself when it holds run directories, else its
/// `trackway/` child.
fn resolve_root(dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("no current directory")?;
    let Some(dir) = dir else {
        return Ok(trackway_config::root_dir(None, &cwd));
    };
    let nested = dir.join("trackway");
    if nested.is_dir() && !list_runs(&nested)?.is_empty() {
        return Ok(nested);
    }
    Ok(dir)
}

fn ls(dir: Option<PathBuf>, json: bool) -> anyhow::Result<()> {
    let root = resolve_root(dir)?;
    let runs = list_runs(&root)?;
    let mut states = Vec::new();
    for r in &runs {
        match load_run_state(&r.path) {
            Ok(st) => states.push((r.path.clone(), st)),
            Err(e) => eprintln!("skipping {}: {e}", r.path.display()),
        }
    }
    if json {
        let views: Vec<RunView<'_>> = states.iter().map(|(p, st)| view(p, st)).collect();
        println!("{}", serde_json::to_string_pretty(&views)?);
        return Ok(());
    }
    if states.is_empty() {
        println!("no runs under {}", root.display());
        return Ok(());
    }
    println!("{:<12} {:<20} {:<16} {:<10} {:>7} {:>9}  DIR", "ID", "NAME", "PROJECT", "STATE", "ROWS", "LAST STEP");
    for (path, st) in &states {
        let v = view(path, st);
        let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        println!(
            "{:<12} {:<20} {:<16} {:<10} {:>7} {:>9}  {}",
            v.run_id,
            v.name.unwrap_or("-"),
            v.project,
            v.state,
            v.rows,
            v.last_step.map_or_else(|| "-".to_owned(), |s| s.to_string()),
            name
        );
    }
    Ok(())
}

/// A run directory path, or a run id (latest attempt under the current root).
fn find_run(run: &str) -> anyhow::Result<PathBuf> {
    let p = PathBuf::from(run);
    if p.join(trackway_runlog::LOG_FILE).is_file() {
        return Ok(p);
    }
    let cwd = std::env::current_dir().context("no current directory")?;
    let root = trackway_config::root_dir(None, &cwd);
    match trackway_runlog::find_run_dirs(&root, run)?.pop() {
        Some(dir) => Ok(dir),
        None => bail!("{run} is neither a run directory nor a run id under {}", root.display()),
    }
}

fn show(run: &str, json: bool) -> anyhow::Result<()> {
    let dir = find_run(run)?;
    let st = load_run_state(&dir).with_context(|| format!("reading {}", dir.display()))?;
    let v = view(&dir, &st);
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("run       {}", v.run_id);
    println!("name      {}", v.name.unwrap_or("-"));
    println!("project   {}", v.project);
    if let Some(e) = v.entity {
        println!("entity    {e}");
    }
    if !v.tags.is_empty() {
        println!("tags      {}", v.tags.join(", "));
    }
    let exit = v.exit_code.map_or_else(String::new, |c| format!(" (exit code {c})"));
    println!("state     {}{exit}{}", v.state, if v.synced { ", synced" } else { "" });
    let last = v.last_step.map_or_else(|| "-".to_owned(), |s| s.to_string());
    println!("rows      {} (last step {last})", v.rows);
    if v.corrupt_lines > 0 {
        println!("corrupt   {} line(s) skipped", v.corrupt_lines);
    }
    println!("dir       {}", v.dir);
    print_map("config", v.config);
    print_map("summary", v.summary);
    Ok(())
}

fn print_map(title: &str, m: &Map) {
    println!("{title}:");
    if m.is_empty() {
        println!("  (empty)");
    }
    for (k, v) in m {
        println!("  {k}: {}", display(v));
    }
}

/// Human display: plain numbers, NaN/inf as words, nested values as Trackway JSON.
fn display(v: &Value) -> String {
    match v {
        Value::Float(f) if !f.is_finite() => f.to_string(),
        Value::Str(s) => s.clone(),
        other => trackway_types::to_json(other),
    }
}
