//! Throughput of moving a single-node installation up (`trackway admin migrate --from
//! sqlite://DIR --to postgres://... --blobs s3://...`, docs/deploy.md "Moving up"): a data
//! directory with `runs` runs of `steps` history rows (10 float metrics each) and `files` 64 KiB
//! files per run is copied to a throwaway PostgreSQL and SeaweedFS started here, then copied again
//! (the idempotent re-run: nothing written, everything verified).
//!
//! Usage: `cargo run --release -p trackway-server --example migrate_copy_bench -- [runs] [steps] [files]`
//! (defaults 50 2000 4).

use std::sync::Arc;
use std::time::Instant;

use trackway_blob::testweed::{options, start_weed};
use trackway_blob::{BlobStore, S3BlobStore};
use trackway_history::HistoryRow;
use trackway_server::AppState;
use trackway_server::migrate_copy::{Side, copy};
use trackway_store::{CreateRun, RunKey};
use trackway_types::{Map, Value};

fn arg(i: usize, default: u64) -> u64 {
    std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn fill(state: &AppState, runs: u64, steps: u64, files: u64) -> anyhow::Result<()> {
    state.store.create_user("alice", true)?;
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    for r in 0..runs {
        let key = RunKey { entity: "alice".into(), project: "bench".into(), run_id: format!("run-{r:05}") };
        let run = state.store.create_or_resume(&CreateRun { key: Some(key.clone()), ..CreateRun::default() })?.run;
        let rows: Vec<HistoryRow> = (0..steps)
            .map(|step| {
                let data: Map = (0..10)
                    .map(|m| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        (format!("metric/{m}"), Value::Float((seed >> 11) as f64 / (1u64 << 53) as f64))
                    })
                    .collect();
                HistoryRow { step, ts: 1.7e9 + step as f64, rt: step as f64, data }
            })
            .collect();
        for chunk in rows.chunks(1000) {
            state.history.append(run.pk, chunk)?;
        }
        state.history.compact(run.pk)?;
        for f in 0..files {
            let mut bytes = format!("run {r} file {f}\n").into_bytes();
            bytes.extend((0..65_536u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
            let put = state.blobs.put(&bytes)?;
            state.store.put_run_file(&key, &format!("files/f{f}.bin"), put.digest.as_str(), put.size)?;
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let (runs, steps, files) = (arg(1, 50), arg(2, 2000), arg(3, 4));
    let dir = tempfile::tempdir()?;
    fill(&AppState::open(dir.path())?, runs, steps, files)?;
    let weed = start_weed("bench");
    let s3: Arc<dyn BlobStore> = Arc::new(S3BlobStore::open(&options(&weed, "s3://bench/moved"))?);
    let from = Side::sqlite(&format!("sqlite://{}", dir.path().display()))?;
    let to = Side::postgres(&trackway_postgres::testpg::fresh_database(), s3)?;
    let started = Instant::now();
    let report = copy(&from, &to, &mut |_| {})?;
    let first = started.elapsed().as_secs_f64();
    let started = Instant::now();
    copy(&from, &to, &mut |_| {})?;
    let again = started.elapsed().as_secs_f64();
    let rows: u64 = report.tables.iter().map(|t| t.rows).sum();
    let points = report.history.rows * 10;
    println!(
        "migrate copy: {runs} runs, {} history rows ({points} points), {rows} table rows, {} blobs ({} MiB)",
        report.history.rows,
        report.blobs.copied,
        report.blobs.bytes >> 20
    );
    println!(
        "  first copy {first:.2} s ({:.0} points/s, {:.1} MiB/s of blobs, verification included); re-run {again:.2} s ({:.2}x of the first)",
        points as f64 / first,
        report.blobs.bytes as f64 / f64::from(1 << 20) / first,
        again / first
    );
    Ok(())
}
