//! Issue 9 item 3: connections that never finish their headers or body, or sit idle, are
//! closed after the (here shortened) timeouts, and the connection cap holds. Real sockets on
//! 127.0.0.1 against `trackway_server::run`.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use trackway_server::{AppState, Limits};

/// A server on a free port with `limits`; returns its address, API key, the temp dir and a
/// sender that stops it.
async fn start(limits: Limits) -> (String, String, tempfile::TempDir, tokio::sync::oneshot::Sender<()>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = AppState::open(dir.path()).expect("open state").with_limits(limits);
    state.store.create_user("alice", true).expect("user");
    let key = state.store.create_api_key("alice", None).expect("key").key;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(trackway_server::run(listener, state, async {
        let _ = rx.await;
    }));
    (addr, key, dir, tx)
}

/// Reads until the server closes the connection; false if it is still open after `cap` (a
/// bound so that a broken server fails the test instead of hanging it).
async fn closed_by_server(stream: &mut TcpStream, cap: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let read_to_eof = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(cap, read_to_eof).await.is_ok()
}

fn short() -> Limits {
    Limits {
        header_read_timeout: Duration::from_millis(300),
        body_read_timeout: Duration::from_millis(300),
        ..Limits::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_and_idle_connections_are_closed_after_the_timeout() {
    let (addr, key, _dir, _stop) = start(short()).await;
    let mut conns = Vec::new();
    for i in 0..60 {
        let mut c = TcpStream::connect(&addr).await.expect("connect");
        let head = match i % 3 {
            // Partial headers: never finished.
            0 => "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n".to_owned(),
            // A body that stalls after 10 of the 100,000 declared bytes.
            1 => format!(
                "POST /api/v1/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
                 Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"run_id\":"
            ),
            // A complete request, then an idle keep-alive connection.
            _ => "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
        };
        c.write_all(head.as_bytes()).await.expect("write");
        conns.push(c);
    }
    let mut closed = 0;
    for c in &mut conns {
        if closed_by_server(c, Duration::from_secs(20)).await {
            closed += 1;
        }
    }
    println!("connections closed after the timeout: {closed} of {}", conns.len());
    assert_eq!(closed, conns.len());
    // The server itself is fine.
    let mut c = TcpStream::connect(&addr).await.expect("connect");
    c.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.expect("write");
    let mut out = String::new();
    c.read_to_string(&mut out).await.expect("read");
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_answered_408() {
    let (addr, key, _dir, _stop) = start(short()).await;
    let mut c = TcpStream::connect(&addr).await.expect("connect");
    let head = format!(
        "POST /api/v1/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Length: 1000\r\n\r\n{{"
    );
    c.write_all(head.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), c.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"request_timeout\""), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let limits = Limits { max_connections: 2, header_read_timeout: Duration::from_secs(60), ..Limits::default() };
    let (addr, _key, _dir, _stop) = start(limits).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(&addr).await.expect("connect");
        c.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
        let mut buf = [0u8; 512];
        assert!(c.read(&mut buf).await.expect("answer") > 0);
        held.push(c); // kept alive: each holds one of the two slots
    }
    let mut third = TcpStream::connect(&addr).await.expect("the kernel accepts into the backlog");
    third.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.expect("write");
    let mut out = String::new();
    let early = tokio::time::timeout(Duration::from_millis(500), third.read_to_string(&mut out)).await;
    assert!(early.is_err() && out.is_empty(), "a third connection was served past the cap: {out}");
    drop(held.pop());
    let served = tokio::time::timeout(Duration::from_secs(20), third.read_to_string(&mut out)).await;
    assert!(served.is_ok() && out.starts_with("HTTP/1.1 200"), "{out}");
}
