//! The `trackway` binary: the command line lives in the library (shared with the Python wheel).

fn main() -> std::process::ExitCode {
    let code = trackway_cli::run(std::env::args_os());
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
