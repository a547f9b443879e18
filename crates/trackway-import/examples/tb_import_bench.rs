//! `make bench`: writes a synthetic TensorBoard log directory (one scalar per event, as
//! `SummaryWriter.add_scalar` writes them; 8 tags per step) of `TB_BENCH_MB` megabytes (default
//! 1024), imports it with `trackway_import::tensorboard::import_run` into a run directory, and
//! prints scalar points per second. Target (issue 12): >= 1 M points/s.

use std::io::Write;
use std::time::Instant;

use prost::Message;
use trackway_import::proto::{Event, Kind, Summary, SummaryValue, What};
use trackway_import::tensorboard::{Target, discover, import_run};
use trackway_import::tfrecord::encode_record;

const TAGS: [&str; 8] =
    ["train/loss", "train/acc", "train/lr", "eval/loss", "eval/acc", "grad_norm", "throughput", "epoch"];

fn event(step: i64, tag: &str, value: f32) -> Vec<u8> {
    let ev = Event {
        wall_time: 1.7e9 + step as f64 * 0.01,
        step,
        what: Some(What::Summary(Summary {
            value: vec![SummaryValue { tag: tag.to_owned(), metadata: None, value: Some(Kind::SimpleValue(value)) }],
        })),
    };
    encode_record(&ev.encode_to_vec())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mb: u64 = std::env::var("TB_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024);
    let tmp = tempfile::tempdir()?;
    let logdir = tmp.path().join("logs");
    let run_dir = logdir.join("run1");
    std::fs::create_dir_all(&run_dir)?;
    let path = run_dir.join("events.out.tfevents.1700000000.bench");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    let (mut bytes, mut points, mut step) = (0u64, 0u64, 0i64);
    let t0 = Instant::now();
    while bytes < mb << 20 {
        for (i, tag) in TAGS.iter().enumerate() {
            let rec = event(step, tag, (step as f32).mul_add(0.001, i as f32));
            bytes += rec.len() as u64;
            out.write_all(&rec)?;
            points += 1;
        }
        step += 1;
    }
    out.flush()?;
    drop(out);
    eprintln!("wrote {mb} MB ({points} points) in {:.1}s", t0.elapsed().as_secs_f64());

    let target = Target { root: tmp.path().join("trackway"), project: "bench".to_owned(), entity: None };
    let t1 = Instant::now();
    let mut imported = 0;
    for run in discover(&logdir)? {
        let (_, written) = import_run(&run, &target, true)?;
        imported += written.points;
    }
    let secs = t1.elapsed().as_secs_f64();
    assert_eq!(imported, points, "every point imported");
    println!(
        "tensorboard import: {mb} MB, {imported} scalar points in {secs:.2}s = {:.2} M points/s \
         ({:.0} MB/s; target >= 1 M points/s)",
        imported as f64 / secs / 1e6,
        mb as f64 / secs
    );
    Ok(())
}
