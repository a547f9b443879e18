//! A small blocking client of the Trackway HTTP API (`docs/api.md`).
//!
//! Blocking on purpose: the agent is a single-threaded loop that talks to one server and must
//! stay within a few MiB of RSS and a few percent of a core, so an async runtime would only add
//! weight. Every call has a timeout; every failure is a [`ClientError`] whose variant tells the
//! caller whether to retry, rewind (offset gap) or give up.

mod blobs;
mod error;

use std::io::{Read, Write};
use std::time::Duration;

use serde::Deserialize;

pub use blobs::BlobState;
pub use error::ClientError;

/// Result of a client call.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// zstd level for request bodies: level 1 compresses run-log JSON ~8x at several hundred MB/s,
/// higher levels cost CPU in the agent for little gain on a LAN.
const ZSTD_LEVEL: i32 = 1;
/// Responses are small JSON documents except history pages; cap what we read.
const MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;

/// Timeouts of a [`Client`].
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Whole-request limit (connect, send, receive).
    pub timeout: Duration,
    /// Connection limit, kept short so an unreachable host does not stall the agent loop.
    pub connect_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions { timeout: Duration::from_secs(60), connect_timeout: Duration::from_secs(5) }
    }
}

/// The answer to one ingest request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngestAck {
    /// Every position below this is durable on the server.
    pub acked: u64,
    /// History records refused because their steps were already written by another attempt.
    pub dropped: u64,
    /// The run was asked to stop (`POST .../stop`) and is still running.
    pub stop_requested: bool,
}

/// The key's user, from `GET /api/v1/viewer`.
#[derive(Clone, Debug, Deserialize)]
pub struct Viewer {
    pub username: String,
    #[serde(default)]
    pub entity: Option<String>,
    #[serde(default)]
    pub admin: bool,
}

/// The address part of a server `Run`; other fields are kept in `raw`.
#[derive(Clone, Debug)]
pub struct RunRef {
    pub entity: String,
    pub project: String,
    pub run_id: String,
    pub raw: serde_json::Value,
}

/// Answer of `POST /api/v1/runs`.
#[derive(Clone, Debug)]
pub struct CreatedRun {
    pub run: RunRef,
    pub resumed: bool,
    pub last_step: Option<u64>,
}

/// A blocking API client bound to one server and key.
#[derive(Clone)]
pub struct Client {
    base_url: String,
    api_key: Option<String>,
    agent: ureq::Agent,
    /// The whole-request limit, reused as the response-header limit of streamed downloads.
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    // Never print the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base_url", &self.base_url).field("has_key", &self.api_key.is_some()).finish()
    }
}

impl Client {
    /// A client for `base_url` (e.g. `http://127.0.0.1:8767`; a trailing `/` is ignored).
    pub fn new(base_url: &str, api_key: Option<&str>, opts: &ClientOptions) -> Result<Client> {
        let base = base_url.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::BadUrl {
                url: base_url.to_string(),
                reason: "must start with http:// or https://".into(),
            });
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(opts.timeout))
            .timeout_connect(Some(opts.connect_timeout))
            .user_agent(concat!("trackway/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Client {
            base_url: base,
            api_key: api_key.filter(|k| !k.is_empty()).map(str::to_string),
            agent: ureq::Agent::new_with_config(config),
            timeout: opts.timeout,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn has_key(&self) -> bool {
        self.api_key.is_some()
    }

    /// `GET /api/v1/health` (no auth).
    pub fn health(&self) -> Result<serde_json::Value> {
        self.get_json("/api/v1/health")
    }

    /// `GET /api/v1/viewer`: verifies the key.
    pub fn viewer(&self) -> Result<Viewer> {
        let v = self.get_json("/api/v1/viewer")?;
        serde_json::from_value(v).map_err(|e| self.decode_err("/api/v1/viewer", e))
    }

    /// `POST /api/v1/runs` with the run record's fields (create or resume).
    pub fn create_run(&self, body: &serde_json::Value) -> Result<CreatedRun> {
        let bytes = serde_json::to_vec(body).map_err(|e| self.decode_err("/api/v1/runs", e))?;
        let v = self.post("/api/v1/runs", &bytes)?;
        let run = v.get("run").cloned().unwrap_or(serde_json::Value::Null);
        let field = |k: &str| run.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let (Some(entity), Some(project), Some(run_id)) = (field("entity"), field("project"), field("run_id")) else {
            return Err(ClientError::Decode {
                url: self.url("/api/v1/runs"),
                reason: "response lacks run.entity/project/run_id".into(),
            });
        };
        Ok(CreatedRun {
            run: RunRef { entity, project, run_id, raw: run },
            resumed: v.get("resumed").and_then(|x| x.as_bool()).unwrap_or(false),
            last_step: v.get("last_step").and_then(|x| x.as_u64()),
        })
    }

    /// `POST /api/v1/ingest` with an already-encoded JSON body (the agent splices raw log
    /// lines into it). The body is sent zstd-compressed. Returns the acknowledged position.
    pub fn ingest_raw(&self, json_body: &[u8]) -> Result<u64> {
        self.ingest_packed(&self.pack(json_body)?)
    }

    /// Compresses a request body as [`Self::ingest_packed`] sends it, so a caller can do it
    /// ahead of time (the agent packs the next batch while the current one is in flight).
    pub fn pack(&self, json_body: &[u8]) -> Result<Vec<u8>> {
        zstd::bulk::compress(json_body, ZSTD_LEVEL)
            .map_err(|e| ClientError::Decode { url: self.url("/api/v1/ingest"), reason: format!("zstd: {e}") })
    }

    /// `POST /api/v1/ingest` with a body already compressed by [`Self::pack`].
    pub fn ingest_packed(&self, packed: &[u8]) -> Result<u64> {
        self.ingest_packed_ack(packed).map(|a| a.acked)
    }

    /// [`Self::ingest_packed`], with the history records the server dropped (steps another
    /// attempt of the run had already written).
    pub fn ingest_packed_ack(&self, packed: &[u8]) -> Result<IngestAck> {
        let v = self.send_packed("/api/v1/ingest", packed)?;
        let acked = v.get("acked").and_then(|x| x.as_u64()).ok_or_else(|| ClientError::Decode {
            url: self.url("/api/v1/ingest"),
            reason: "response lacks `acked`".into(),
        })?;
        let dropped = v.get("dropped").and_then(serde_json::Value::as_u64).unwrap_or(0);
        let stop_requested = v.get("stop_requested").and_then(serde_json::Value::as_bool).unwrap_or(false);
        Ok(IngestAck { acked, dropped, stop_requested })
    }

    /// `PUT /api/v1/runs/{e}/{p}/{id}/files/{path}`: one run file, checked by its SHA-256.
    pub fn put_file(
        &self,
        run: (&str, &str, &str),
        path: &str,
        bytes: &[u8],
        sha256: &str,
    ) -> Result<serde_json::Value> {
        let rel = run_path(run, &file_suffix(path));
        let mut req = self
            .agent
            .put(&self.url(&rel))
            .header("Content-Type", "application/octet-stream")
            .header("X-Content-SHA256", sha256);
        if let Some(k) = &self.api_key {
            req = req.header("Authorization", &format!("Bearer {k}"));
        }
        let resp = req.send(bytes).map_err(|e| self.net_err(e))?;
        self.finish(&rel, resp)
    }

    /// Any JSON call of the API (`GET`, `POST`, `PATCH`, `PUT`, `DELETE`; `path` starts with
    /// `/api/v1/` and carries its query string), decoded as JSON: the one HTTP client that the
    /// Python read API uses too (through `trackway._native.api_request`).
    pub fn request_json(&self, method: &str, path: &str, body: Option<&[u8]>) -> Result<serde_json::Value> {
        let url = self.url(path);
        let auth = self.api_key.as_ref().map(|k| format!("Bearer {k}"));
        let with_auth = |r: ureq::RequestBuilder<ureq::typestate::WithBody>| match &auth {
            Some(a) => r.header("Authorization", a),
            None => r,
        };
        let resp = match method {
            "GET" | "DELETE" => {
                let r = if method == "GET" { self.agent.get(&url) } else { self.agent.delete(&url) };
                let r = r.header("Accept", "application/json");
                let r = match &auth {
                    Some(a) => r.header("Authorization", a),
                    None => r,
                };
                r.call()
            }
            "POST" | "PATCH" | "PUT" => {
                let r = match method {
                    "POST" => self.agent.post(&url),
                    "PATCH" => self.agent.patch(&url),
                    _ => self.agent.put(&url),
                };
                with_auth(r.header("Content-Type", "application/json").header("Accept", "application/json"))
                    .send(body.unwrap_or(b"{}"))
            }
            other => {
                return Err(ClientError::BadUrl { url, reason: format!("unsupported method {other}") });
            }
        };
        let resp = resp.map_err(|e| self.net_err(e))?;
        self.finish(path, resp)
    }

    /// `GET` of any API path (starting with `/api/v1/`), decoded as JSON.
    pub fn get_json(&self, path: &str) -> Result<serde_json::Value> {
        let url = self.url(path);
        let mut req = self.agent.get(&url).header("Accept", "application/json");
        if let Some(k) = &self.api_key {
            req = req.header("Authorization", &format!("Bearer {k}"));
        }
        let resp = req.call().map_err(|e| self.net_err(e))?;
        self.finish(path, resp)
    }

    /// `GET` of any API path whose body is not JSON (a run file, a patch), read whole up to
    /// `limit` bytes: a larger answer is an error, never cut short.
    pub fn get_bytes(&self, path: &str, limit: u64) -> Result<Vec<u8>> {
        let resp = self.get_ok(path, true)?;
        let mut body = Vec::new();
        resp.into_body()
            .into_with_config()
            .limit(limit.saturating_add(1))
            .reader()
            .read_to_end(&mut body)
            .map_err(|e| ClientError::Unreachable { url: self.url(path), reason: e.to_string() })?;
        if body.len() as u64 > limit {
            return Err(self.decode_err(path, format!("the answer is larger than {limit} bytes")));
        }
        Ok(body)
    }

    /// `GET` of any API path streamed into `out` (run files of any size): no whole-request
    /// timeout, which would cut a large download, only the connect and response-header ones.
    pub fn download(&self, path: &str, out: &mut dyn Write) -> Result<u64> {
        let resp = self.get_ok(path, false)?;
        let mut reader = resp.into_body().into_with_config().limit(u64::MAX).reader();
        std::io::copy(&mut reader, out)
            .map_err(|e| ClientError::Unreachable { url: self.url(path), reason: e.to_string() })
    }

    /// A `GET` answered 2xx; any other status becomes its [`ClientError`].
    fn get_ok(&self, path: &str, timed: bool) -> Result<ureq::http::Response<ureq::Body>> {
        let mut req = self.agent.get(&self.url(path));
        if let Some(k) = &self.api_key {
            req = req.header("Authorization", &format!("Bearer {k}"));
        }
        if !timed {
            req = req.config().timeout_global(None).timeout_recv_response(Some(self.timeout)).build();
        }
        let mut resp = req.call().map_err(|e| self.net_err(e))?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(resp);
        }
        let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut body = Vec::new();
        let _ = resp.body_mut().with_config().limit(1 << 20).reader().read_to_end(&mut body);
        Err(ClientError::from_response(status, retry_after.as_deref(), &body))
    }

    fn send_packed(&self, path: &str, packed: &[u8]) -> Result<serde_json::Value> {
        let url = self.url(path);
        let mut req =
            self.agent.post(&url).header("Content-Type", "application/json").header("Content-Encoding", "zstd");
        if let Some(k) = &self.api_key {
            req = req.header("Authorization", &format!("Bearer {k}"));
        }
        let resp = req.send(packed).map_err(|e| self.net_err(e))?;
        self.finish(path, resp)
    }

    fn post(&self, path: &str, body: &[u8]) -> Result<serde_json::Value> {
        let url = self.url(path);
        let mut req = self.agent.post(&url).header("Content-Type", "application/json");
        if let Some(k) = &self.api_key {
            req = req.header("Authorization", &format!("Bearer {k}"));
        }
        let resp = req.send(body).map_err(|e| self.net_err(e))?;
        self.finish(path, resp)
    }

    fn finish(&self, path: &str, mut resp: ureq::http::Response<ureq::Body>) -> Result<serde_json::Value> {
        let status = resp.status().as_u16();
        let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut body = Vec::new();
        resp.body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .reader()
            .read_to_end(&mut body)
            .map_err(|e| ClientError::Unreachable { url: self.url(path), reason: e.to_string() })?;
        if !(200..300).contains(&status) {
            return Err(ClientError::from_response(status, retry_after.as_deref(), &body));
        }
        if body.is_empty() {
            // 204 No Content (a deletion).
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&body).map_err(|e| self.decode_err(path, e))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    fn net_err(&self, e: ureq::Error) -> ClientError {
        match e {
            ureq::Error::BadUri(reason) => ClientError::BadUrl { url: self.base_url.clone(), reason },
            other => ClientError::Unreachable { url: self.base_url.clone(), reason: other.to_string() },
        }
    }

    fn decode_err(&self, path: &str, e: impl std::fmt::Display) -> ClientError {
        ClientError::Decode { url: self.url(path), reason: e.to_string() }
    }
}

/// The API path of a run (`/api/v1/runs/{e}/{p}/{id}`) followed by `suffix` (e.g. `/files`).
pub fn run_path(run: (&str, &str, &str), suffix: &str) -> String {
    let (entity, project, run_id) = run;
    format!("/api/v1/runs/{}/{}/{}{suffix}", encode_segment(entity), encode_segment(project), encode_segment(run_id))
}

/// `/files/{path}` with each segment of the run file's `/`-separated path encoded.
pub fn file_suffix(path: &str) -> String {
    format!("/files/{}", path.split('/').map(encode_segment).collect::<Vec<_>>().join("/"))
}

/// Percent-encodes one path segment (RFC 3986 unreserved characters stay as they are).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_path_segments() {
        assert_eq!(encode_segment("a b/ü%.txt"), "a%20b%2F%C3%BC%25.txt");
        assert_eq!(encode_segment("code-1_x~"), "code-1_x~");
    }

    #[test]
    fn rejects_bad_urls() {
        let opts = ClientOptions::default();
        assert!(matches!(Client::new("localhost:8767", None, &opts), Err(ClientError::BadUrl { .. })));
        let c = Client::new("http://127.0.0.1:1/", Some(""), &opts).expect("valid url");
        assert_eq!(c.base_url(), "http://127.0.0.1:1");
        assert!(!c.has_key());
        assert!(!format!("{c:?}").contains("Bearer"));
    }

    #[test]
    fn unreachable_server_is_retryable() {
        // Port 1 on localhost is closed: the connect is refused at once.
        let opts = ClientOptions { timeout: Duration::from_secs(2), connect_timeout: Duration::from_secs(1) };
        let c = Client::new("http://127.0.0.1:1", Some("k"), &opts).expect("valid url");
        let err = c.health().expect_err("nothing listens on port 1");
        assert!(matches!(err, ClientError::Unreachable { .. }), "{err:?}");
        assert!(err.is_retryable());
    }
}
