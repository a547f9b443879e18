//! The `trackway` binary: parses the command line and hands each subcommand to its module.
use clap::{Parser, Subcommand};

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
    /// Background uploader (started by `init()`; not for direct use).
    #[command(hide = true)]
    Agent(commands::agent::Args),
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
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Server(a) => commands::server::run(a),
        Command::Agent(a) => commands::agent::run(a),
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
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
