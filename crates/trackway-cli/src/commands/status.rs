//! `trackway status`: the settings a run started here would get, and the runs still waiting
//! to upload. Settings come from the SDK's own resolution, so this never disagrees with `init()`.

use std::path::PathBuf;

use anyhow::Context;
use trackway_types::{Map, Value};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory whose `trackway/` root to inspect (default: TRACKWAY_DIR, else cwd).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let cwd = std::env::current_dir().context("current directory")?;
    let mut init_args = Map::new();
    if let Some(d) = &args.dir {
        let abs = if d.is_absolute() { d.clone() } else { cwd.join(d) };
        init_args.insert("dir".into(), Value::Str(abs.to_string_lossy().into_owned()));
    }
    let s = trackway_sdk::settings::resolve(&init_args, &cwd).context("resolve settings")?;
    let base_url = s.base_url.clone().unwrap_or_else(trackway_agent::default_base_url);
    let key = if trackway_config::env("API_KEY").is_some() {
        "yes (environment)"
    } else if s.api_key.is_some() {
        "yes (stored login)"
    } else {
        "no (run `trackway login`)"
    };
    println!("root:      {}", s.root.display());
    println!("mode:      {}", s.mode.as_str());
    println!("project:   {}", s.project);
    println!("entity:    {}", s.entity.as_deref().unwrap_or("(the key's default)"));
    println!("base_url:  {base_url}");
    println!("api key:   {key}");
    println!("logins:    {}", trackway_config::Credentials::path().display());
    println!("agent:     {}", if trackway_agent::agent_lock_held(&s.root) { "running" } else { "not running" });
    let pending =
        trackway_agent::pending_runs(&s.root).with_context(|| format!("list runs in {}", s.root.display()))?;
    if pending.is_empty() {
        println!("pending:   none");
        return Ok(());
    }
    let total: u64 = pending.iter().map(|p| p.unsent_bytes).sum();
    println!("pending:   {} run(s), {total} bytes unsent", pending.len());
    for p in &pending {
        let mode = if p.offline { "  offline (use `trackway sync`)" } else { "" };
        let err = p.error.as_deref().map(|e| format!("  last error: {e}")).unwrap_or_default();
        println!("  {}  {} bytes unsent{mode}{err}", p.dir.display(), p.unsent_bytes);
    }
    Ok(())
}
