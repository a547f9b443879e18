//! `trackway status`: the resolved settings and the runs still waiting to upload.

use std::path::PathBuf;

use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory whose `trackway/` root to inspect (default: TRACKWAY_DIR, else cwd).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let cwd = std::env::current_dir().context("current directory")?;
    let root = trackway_config::root_dir(args.dir.as_deref(), &cwd);
    let ws = trackway_config::read_workspace_settings(&root).unwrap_or_default();
    let pick = |name: &str, key: &str| trackway_config::env(name).or_else(|| ws.get(key).cloned());
    let base_url = pick("BASE_URL", "base_url").map_or_else(trackway_agent::default_base_url, |u| trackway_config::normalize_base_url(&u));
    let key_source = if trackway_config::env("API_KEY").is_some() {
        "yes (environment)"
    } else if trackway_agent::api_key_for(&base_url).is_some() {
        "yes (stored login)"
    } else {
        "no (run `trackway login`)"
    };
    println!("root:      {}", root.display());
    println!("mode:      {}", pick("MODE", "mode").unwrap_or_else(|| "online".into()));
    println!("project:   {}", pick("PROJECT", "project").unwrap_or_else(|| "(script name / uncategorized)".into()));
    println!("entity:    {}", pick("ENTITY", "entity").unwrap_or_else(|| "(the key's default)".into()));
    println!("base_url:  {base_url}");
    println!("api key:   {key_source}");
    println!("config:    {}", trackway_config::Credentials::path().display());
    println!("agent:     {}", if trackway_agent::agent_lock_held(&root) { "running" } else { "not running" });
    let pending = trackway_agent::pending_runs(&root).with_context(|| format!("list runs in {}", root.display()))?;
    if pending.is_empty() {
        println!("pending:   none");
        return Ok(());
    }
    println!("pending:   {} run(s)", pending.len());
    for p in &pending {
        let mode = if p.offline { " offline" } else { "" };
        let err = p.error.as_deref().map(|e| format!("  last error: {e}")).unwrap_or_default();
        println!("  {}  {} bytes unsent{mode}{err}", p.dir.display(), p.unsent_bytes);
    }
    Ok(())
}
