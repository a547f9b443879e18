//! A toy training loop logging to Trackway from Rust.
//!
//! ```sh
//! cargo run --release -p trackway-sdk --example train -- /tmp/somewhere
//! trackway runs ls /tmp/somewhere/trackway
//! ```
//! Runs offline unless `TRACKWAY_MODE=online` (then `trackway agent` uploads it).

use std::path::{Path, PathBuf};

use trackway_sdk::{InitOptions, SdkError, Value, map};

/// Trains a fake model for `epochs` epochs of 10 steps; returns the run directory.
pub fn train(dir: &Path, epochs: i64) -> Result<PathBuf, SdkError> {
    let mut run = trackway_sdk::init(InitOptions {
        project: Some("rust-example".into()),
        dir: Some(dir.to_path_buf()),
        mode: Some(std::env::var("TRACKWAY_MODE").unwrap_or_else(|_| "offline".into())),
        config: map! { "lr" => 0.01, "epochs" => epochs, "optimizer" => "sgd" },
        ..Default::default()
    })?;
    run.define_metric("eval/*", Some("epoch"), &["max"], Some("maximize"))?;
    run.define_metric("train/loss", None, &["min", "last"], Some("minimize"))?;
    let mut loss = 2.0_f64;
    for epoch in 0..epochs {
        for _ in 0..10 {
            loss *= 0.95;
            run.log(map! { "train/loss" => loss, "epoch" => epoch })?;
        }
        // An eval metric lands in the same row as the epoch's last step.
        run.log_with(map! { "eval/acc" => 1.0 - loss / 2.0 }, Some(run.step()), None)?;
    }
    run.summary_set("note", Value::from("done"))?;
    let dir = run.dir().map(Path::to_path_buf).unwrap_or_default();
    run.finish(Some(0))?;
    Ok(dir)
}

#[allow(dead_code)] // unused when the test suite includes this file as a module
fn main() -> Result<(), SdkError> {
    let dir = std::env::args().nth(1).map_or_else(|| PathBuf::from("."), PathBuf::from);
    let run_dir = train(&dir, 3)?;
    println!("logged to {}", run_dir.display());
    Ok(())
}
