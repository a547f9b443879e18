//! `trackway artifact put|get|ls|cache cleanup` (docs/artifacts.md). Uploads go through the
//! agent's blob uploader (resumable parts, deduplicated), downloads through the client's
//! verified download; this module parses, wires and prints.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::json;
use trackway_client::{Client, ClientOptions, encode_segment};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Upload a file or directory as a new version of an artifact.
    Put {
        path: PathBuf,
        /// `name`, `project/name` or `entity/project/name`.
        #[arg(long)]
        name: String,
        #[arg(long = "type", default_value = "dataset")]
        kind: String,
        /// Aliases for the version (repeatable; `latest` moves by itself).
        #[arg(long = "alias")]
        aliases: Vec<String>,
        #[arg(long)]
        description: Option<String>,
        /// Project when `--name` has none (default: TRACKWAY_PROJECT).
        #[arg(long)]
        project: Option<String>,
    },
    /// Download a version: `[entity/]project/name[:alias|:vN]`.
    Get {
        path: String,
        /// Where to put the files (default: ./artifacts/<name>:<version>).
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// List a project's artifacts: `[entity/]project`.
    Ls {
        project: String,
        #[arg(long = "type")]
        kind: Option<String>,
    },
    /// The local download cache.
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
}

#[derive(Debug, clap::Subcommand)]
enum CacheCommand {
    /// Remove least recently used files until the cache holds at most SIZE (e.g. 10GB).
    Cleanup { size: String },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Put { path, name, kind, aliases, description, project } => {
            put(&path, &name, &kind, &aliases, description, project)
        }
        Command::Get { path, root } => get(&path, root),
        Command::Ls { project, kind } => ls(&project, kind.as_deref()),
        Command::Cache { command: CacheCommand::Cleanup { size } } => {
            let freed = crate::artifact_cache::cleanup(crate::artifact_cache::parse_size(&size)?)?;
            println!("freed {freed} bytes from {}", crate::artifact_cache::cache_dir().display());
            Ok(())
        }
    }
}

fn client() -> anyhow::Result<Client> {
    let base = trackway_agent::default_base_url();
    let key = trackway_agent::api_key_for(&base);
    let opts = ClientOptions { timeout: std::time::Duration::from_secs(60), ..ClientOptions::default() };
    Ok(Client::new(&base, key.as_deref(), &opts)?)
}

/// `[[entity/]project/]name[:selector]` with defaults from the environment and the server.
fn split(client: &Client, path: &str, project: Option<String>) -> anyhow::Result<(String, String, String, String)> {
    let (body, selector) = path.split_once(':').unwrap_or((path, "latest"));
    let parts: Vec<&str> = body.split('/').collect();
    let (entity, project, name) = match parts.as_slice() {
        [n] => (None, project.or_else(|| trackway_config::env("PROJECT")), *n),
        [p, n] => (None, Some((*p).to_owned()), *n),
        [e, p, n] => (Some((*e).to_owned()), Some((*p).to_owned()), *n),
        _ => bail!(
            "invalid artifact path {path:?}: use name[:alias], project/name[:alias] or entity/project/name[:alias]"
        ),
    };
    let project = project.context("no project: use project/name or set TRACKWAY_PROJECT")?;
    let entity = match entity.or_else(|| trackway_config::env("ENTITY")) {
        Some(e) => e,
        None => client.viewer()?.entity.context("the server names no default entity: use entity/project/name")?,
    };
    Ok((entity, project, name.to_owned(), selector.to_owned()))
}

fn local_files(path: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    if path.is_file() {
        let name = path.file_name().context("a file name")?.to_string_lossy().into_owned();
        return Ok(vec![(name, path.to_path_buf())]);
    }
    if !path.is_dir() {
        bail!("{} is not a file or directory", path.display());
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| dir.display().to_string())? {
            let p = entry?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                let rel = p
                    .strip_prefix(path)?
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, p));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn put(
    path: &Path,
    name: &str,
    kind: &str,
    aliases: &[String],
    description: Option<String>,
    project: Option<String>,
) -> anyhow::Result<()> {
    let client = client()?;
    let (entity, project, name, _) = split(&client, name, project)?;
    let files = local_files(path)?;
    let entries =
        trackway_agent::upload_artifact_files(&client, &entity, &project, &files).map_err(anyhow::Error::msg)?;
    let aliases: Vec<&String> = aliases.iter().filter(|a| a.as_str() != "latest").collect();
    let body = json!({"name": name, "type": kind, "description": description, "aliases": aliases, "entries": entries});
    let at = format!("/api/v1/artifacts/{}/{}", encode_segment(&entity), encode_segment(&project));
    let out = client.request_json("POST", &at, Some(body.to_string().as_bytes()))?;
    let v = &out["artifact"];
    let verb = if out["created"].as_bool() == Some(true) { "created" } else { "unchanged, same content as" };
    println!("{verb} {entity}/{project}/{name}:v{} ({} files)", v["version"], files.len());
    Ok(())
}

fn get(path: &str, root: Option<PathBuf>) -> anyhow::Result<()> {
    let client = client()?;
    let (entity, project, name, selector) = split(&client, path, None)?;
    let url = format!(
        "/api/v1/artifacts/{}/{}/{}/{}",
        encode_segment(&entity),
        encode_segment(&project),
        encode_segment(&name),
        encode_segment(&selector)
    );
    let v = client.get_json(&url)?;
    let root = root.unwrap_or_else(|| PathBuf::from("artifacts").join(format!("{name}:v{}", v["version"])));
    for e in v["entries"].as_array().into_iter().flatten() {
        let (Some(rel), Some(sha)) = (e["path"].as_str(), e["sha256"].as_str()) else { continue };
        let rel = trackway_types::validate_rel_path(rel).map_err(|err| anyhow::anyhow!("{err}"))?;
        let dest = root.join(&rel);
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir)?;
        }
        client.download_blob_to((&entity, &project, sha), &dest).map_err(anyhow::Error::msg)?;
    }
    println!("{}", root.display());
    Ok(())
}

fn ls(project: &str, kind: Option<&str>) -> anyhow::Result<()> {
    let client = client()?;
    let (entity, project, _, _) = split(&client, &format!("{project}/x"), None)?;
    let mut url = format!("/api/v1/artifacts/{}/{}", encode_segment(&entity), encode_segment(&project));
    if let Some(k) = kind {
        url.push_str(&format!("?type={}", encode_segment(k)));
    }
    let out = client.get_json(&url)?;
    println!("{:<12} {:<32} {:>8} {:>14}", "TYPE", "NAME", "VERSIONS", "BYTES");
    for a in out["artifacts"].as_array().into_iter().flatten() {
        let s = |k: &str| a[k].as_str().unwrap_or("").to_owned();
        println!("{:<12} {:<32} {:>8} {:>14}", s("type"), s("name"), a["versions"], a["size"]);
    }
    Ok(())
}
