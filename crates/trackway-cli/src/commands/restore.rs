//! `trackway restore` and `trackway pull`. Argument parsing and the logic live in
//! `trackway_capture::cli` (tested there); this module prints the outcome.
pub use trackway_capture::cli::{PullArgs, RestoreArgs};

pub fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let cwd = std::env::current_dir()?;
    let r = trackway_capture::cli::run_restore(&args, &cwd)?;
    if let Some(commit) = &r.commit {
        println!("checked out {commit} on {}", r.branch.as_deref().unwrap_or("a detached HEAD"));
        if let Some(url) = &r.remote_url {
            println!("  the run's remote: {url}");
        }
    }
    if r.patch_applied {
        println!("applied the run's uncommitted changes (diff.patch)");
    }
    println!("wrote the run's config to {}", r.config_path.display());
    if let Some(p) = &r.pulled {
        println!("downloaded {} run files ({} already up to date)", p.downloaded.len(), p.unchanged.len());
    }
    Ok(())
}

pub fn pull(args: PullArgs) -> anyhow::Result<()> {
    let cwd = std::env::current_dir()?;
    let (dest, report) = trackway_capture::cli::run_pull(&args, &cwd)?;
    for f in &report.downloaded {
        println!("downloaded {f}");
    }
    println!(
        "{} files in {} ({} already up to date)",
        report.downloaded.len() + report.unchanged.len(),
        dest.display(),
        report.unchanged.len()
    );
    Ok(())
}
