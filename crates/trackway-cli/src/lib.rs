//! The `trackway` command line as a library: the `trackway` binary and the Python package's
//! native module (`trackway._native.cli_main`, behind the `trackway` console script and
//! `python -m trackway`) run the same code, so a wheel needs no second executable.
use std::ffi::OsString;

use clap::{Parser, Subcommand};

pub mod artifact_cache;
mod commands;

#[derive(Debug, Parser)]
#[command(name = "trackway", version, about = "Self-hosted experiment tracking")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the server (embedded store, API and web UI).
    Server(commands::server::Args),
    /// Run trials of a sweep: `trackway agent SWEEP_ID` (without an id: the background
    /// uploader `init()` starts).
    Agent(commands::agent::Args),
    /// Create a sweep from a YAML config (wandb's format); prints ENTITY/PROJECT/ID.
    Sweep(commands::sweep::Args),
    /// Upload offline or unfinished runs.
    Sync(commands::sync::Args),
    /// Store an API key for a server.
    Login(commands::login::Args),
    /// Print the resolved settings and the runs waiting to upload.
    Status(commands::status::Args),
    /// Stream to the server from this directory (alias: `on`).
    #[command(alias = "on")]
    Online,
    /// Log locally only from this directory (alias: `off`).
    #[command(alias = "off")]
    Offline,
    /// Turn tracking off in this directory.
    Disabled,
    /// Turn tracking back on in this directory.
    Enabled,
    /// Inspect local runs.
    Runs(commands::runs::Args),
    /// Restore a run's code, config and files.
    Restore(commands::restore::RestoreArgs),
    /// Download a run's files.
    Pull(commands::restore::PullArgs),
    /// Import TensorBoard logs or MLflow runs as Trackway runs.
    Import(commands::import::Args),
    /// Artifacts: put, get, ls, cache cleanup.
    Artifact(commands::artifact::Args),
    /// Users, teams, API keys and the audit log of a server.
    Admin(commands::admin::Args),
}

/// Runs the command line `args` (the first item is the program name) and returns the process
/// exit status. Usage errors, `--help` and `--version` are printed here and never exit the
/// process, so a host (the Python console script) can exit in its own way.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    match dispatch(cli.command) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Server(a) => commands::server::run(a),
        Command::Agent(a) => commands::agent::run(a),
        Command::Sweep(a) => commands::sweep::run(a),
        Command::Sync(a) => commands::sync::run(a),
        Command::Login(a) => commands::login::run(a),
        Command::Status(a) => commands::status::run(a),
        Command::Online => commands::mode::run(commands::mode::Mode::Online),
        Command::Offline => commands::mode::run(commands::mode::Mode::Offline),
        Command::Disabled => commands::mode::run(commands::mode::Mode::Disabled),
        Command::Enabled => commands::mode::run(commands::mode::Mode::Enabled),
        Command::Runs(a) => commands::runs::run(a),
        Command::Restore(a) => commands::restore::restore(a),
        Command::Pull(a) => commands::restore::pull(a),
        Command::Import(a) => commands::import::run(a),
        Command::Artifact(a) => commands::artifact::run(a),
        Command::Admin(a) => commands::admin::run(a),
    }
}
