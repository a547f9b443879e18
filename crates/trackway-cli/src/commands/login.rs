//! `trackway login [--host URL] [KEY]`: verify a key against a server and store it.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use trackway_client::{Client, ClientError, ClientOptions};
use trackway_config::{Credentials, HostCredentials};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The API key (default: TRACKWAY_API_KEY, else read from the terminal or stdin).
    pub key: Option<String>,
    /// The server (default: TRACKWAY_BASE_URL, else the stored default, else the local server).
    #[arg(long)]
    pub host: Option<String>,
    /// Store the key without checking it against the server.
    #[arg(long)]
    pub no_verify: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let host = trackway_config::normalize_base_url(&args.host.clone().unwrap_or_else(trackway_agent::default_base_url));
    let key = match args.key.clone().or_else(|| trackway_config::env("API_KEY")) {
        Some(k) => k,
        None => read_key(&host)?,
    };
    let key = key.trim().to_string();
    if key.is_empty() {
        anyhow::bail!("no API key given");
    }
    let mut entity = None;
    if !args.no_verify {
        let client = Client::new(&host, Some(&key), &ClientOptions::default())?;
        let viewer = client.viewer().map_err(|e| match e {
            ClientError::Unauthorized { .. } => anyhow::anyhow!("{host} rejected this API key"),
            other => anyhow::anyhow!("cannot verify the key with {host}: {other}"),
        })?;
        println!("logged in to {host} as {}", viewer.username);
        entity = viewer.entity.or(Some(viewer.username));
    }
    let mut creds = Credentials::load().context("read stored credentials")?;
    creds.set_host(&host, HostCredentials { api_key: key, entity });
    creds.default_host = Some(host.clone());
    creds.save().context("store credentials")?;
    println!("key stored in {} (default server: {host})", Credentials::path().display());
    Ok(())
}

fn read_key(host: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        print!("API key for {host}: ");
        std::io::stdout().flush().ok();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).context("read the key from stdin")?;
    Ok(line)
}
