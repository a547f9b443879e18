//! Captures a run directory the way the agent does (metadata, diff.patch, requirements, code),
//! for debugging and end-to-end checks before the agent is wired:
//! `cargo run --release -p trackway-capture --example capture_run_dir -- <run dir>`
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: capture_run_dir <run dir>")?);
    let text = std::fs::read_to_string(dir.join("run.jsonl"))?;
    let run: serde_json::Value = serde_json::from_str(text.lines().next().ok_or("empty run log")?)?;
    let report = trackway_capture::capture_run(&dir, &run)?;
    for f in &report.files {
        println!("{} ({:?})", f.path, f.policy);
    }
    Ok(())
}
