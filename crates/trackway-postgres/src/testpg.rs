//! A throwaway PostgreSQL server for tests: `initdb` + `pg_ctl` from the installed binaries
//! (`/usr/lib/postgresql/15/bin`, or `TRACKWAY_PG_BIN`) in a temp dir, on a free port of
//! 127.0.0.1. One server per test process; every caller of [`fresh_database`] gets its own
//! empty database on it. A watchdog shell stops the server and removes the dir when the test
//! process exits (however it exits). As root, the server runs as the `postgres` system user
//! (`initdb` refuses root), through `runuser`.
//!
//! Missing binaries are a test failure with a hint, never a skip: `make setup` installs them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The running server of this test process.
pub struct TestServer {
    pub port: u16,
}

static SERVER: OnceLock<TestServer> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// The PostgreSQL bin directory.
#[must_use]
pub fn bin_dir() -> PathBuf {
    std::env::var_os("TRACKWAY_PG_BIN").map_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"), PathBuf::from)
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The command line prefix that runs a server binary: `runuser -u postgres --` as root.
fn as_server_user() -> Vec<String> {
    if output(Command::new("id").arg("-u")) == "0" {
        vec!["runuser".into(), "-u".into(), "postgres".into(), "--".into()]
    } else {
        Vec::new()
    }
}

fn run(prefix: &[String], program: &Path, args: &[&str]) {
    let mut cmd = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(program);
            c
        }
        None => Command::new(program),
    };
    cmd.args(args).stdin(Stdio::null());
    output(&mut cmd);
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

fn start() -> TestServer {
    let bin = bin_dir();
    assert!(
        bin.join("initdb").exists() && bin.join("pg_ctl").exists(),
        "PostgreSQL server binaries not found in {} (set TRACKWAY_PG_BIN, or run `make setup`, which \
         apt-get installs postgresql)",
        bin.display()
    );
    let dir = tempfile::Builder::new().prefix("trackway-pg-").tempdir().expect("tempdir").keep();
    let prefix = as_server_user();
    if !prefix.is_empty() {
        let uid: u32 = output(Command::new("id").args(["-u", "postgres"])).parse().expect("uid of postgres");
        let gid: u32 = output(Command::new("id").args(["-g", "postgres"])).parse().expect("gid of postgres");
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown the server dir");
    }
    let data = dir.join("data");
    let data_s = data.to_string_lossy().into_owned();
    let dir_s = dir.to_string_lossy().into_owned();
    run(&prefix, &bin.join("initdb"), &["-D", &data_s, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
    let port = free_port();
    let opts = format!("-p {port} -k {dir_s} -c listen_addresses=127.0.0.1 {} -c max_connections=300", durability());
    let log = dir.join("server.log").to_string_lossy().into_owned();
    run(&prefix, &bin.join("pg_ctl"), &["-D", &data_s, "-l", &log, "-w", "-o", &opts, "start"]);
    spawn_watchdog(&prefix, &bin, &data_s, &dir_s);
    TestServer { port }
}

/// Tests need no crash safety, so by default the server skips every flush;
/// `TRACKWAY_PG_DURABLE=1` keeps PostgreSQL's defaults (benchmarks of a durable setup).
fn durability() -> &'static str {
    if durable() { "" } else { "-c fsync=off -c synchronous_commit=off -c full_page_writes=off" }
}

/// Whether `TRACKWAY_PG_DURABLE=1` asked for a server that flushes like a production one.
#[must_use]
pub fn durable() -> bool {
    std::env::var("TRACKWAY_PG_DURABLE").is_ok_and(|v| v == "1")
}

/// Stops the server and removes its dir once this process is gone.
fn spawn_watchdog(prefix: &[String], bin: &Path, data: &str, dir: &str) {
    let pid = std::process::id();
    let stop = format!("{} {}/pg_ctl -D {data} -m immediate stop", prefix.join(" "), bin.display());
    let script = format!("while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}");
    // Deliberately not waited for: it outlives this process to stop the server.
    #[allow(clippy::zombie_processes)]
    let _watchdog = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the PostgreSQL watchdog");
}

/// The server of this test process, started on first use.
pub fn server() -> &'static TestServer {
    SERVER.get_or_init(start)
}

/// A new empty database on the test server; returns its URL.
#[must_use]
pub fn fresh_database() -> String {
    let port = server().port;
    let n = NEXT_DB.fetch_add(1, Ordering::SeqCst);
    let name = format!("t{}_{n}", std::process::id());
    let admin = format!("host=127.0.0.1 port={port} user=postgres dbname=postgres");
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("connect to the test server");
    c.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
    format!("postgres://postgres@127.0.0.1:{port}/{name}")
}
