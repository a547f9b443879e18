//! The server's run-file routes (docs/capture.md section 7): `GET /api/v1/runs/{e}/{p}/{id}`
//! (config, metadata), `GET .../files` (list), `GET .../files/{path}` (download) and
//! `PUT .../files/{path}` (upload, for the agent). Blocking (`ureq`).
use std::io::Read;

use serde_json::{Map, Value};

use super::{METADATA, RestoreError, RunFile, RunSource, read_metadata_bytes};
use crate::CaptureError;
use crate::paths::validate_rel_path;

/// Bodies read whole (the run, listings, `diff.patch`, metadata) above this are refused, never
/// cut short; run files of any size are streamed by [`RunSource::download`].
const MAX_WHOLE_BYTES: u64 = 1 << 30;

pub struct HttpRunSource {
    base: String,
    api_key: String,
    entity: String,
    project: String,
    run_id: String,
    agent: ureq::Agent,
}

impl HttpRunSource {
    pub fn new(base_url: &str, api_key: &str, entity: &str, project: &str, run_id: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        HttpRunSource {
            base: base_url.trim_end_matches('/').to_string(),
            api_key: api_key.to_string(),
            entity: entity.into(),
            project: project.into(),
            run_id: run_id.into(),
            agent,
        }
    }

    fn run_url(&self, suffix: &str) -> String {
        format!(
            "{}/api/v1/runs/{}/{}/{}{suffix}",
            self.base,
            encode(&self.entity),
            encode(&self.project),
            encode(&self.run_id)
        )
    }

    /// A GET whose status is 2xx; other answers become [`RestoreError::Http`].
    fn get_ok(&self, url: &str) -> Result<ureq::http::Response<ureq::Body>, CaptureError> {
        let resp = self
            .agent
            .get(url)
            .header("Authorization", &format!("Bearer {}", self.api_key))
            .call()
            .map_err(|e| RestoreError::Unreachable { url: url.into(), message: e.to_string() })?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(resp);
        }
        let mut body = Vec::new();
        let _ = resp.into_body().into_reader().take(1 << 20).read_to_end(&mut body);
        Err(http_error(url, status, &body).into())
    }

    fn get(&self, url: &str) -> Result<Vec<u8>, CaptureError> {
        let mut body = Vec::new();
        self.get_ok(url)?
            .into_body()
            .into_reader()
            .take(MAX_WHOLE_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| RestoreError::Unreachable { url: url.into(), message: e.to_string() })?;
        if body.len() as u64 > MAX_WHOLE_BYTES {
            return Err(
                RestoreError::Source(format!("{url}: the answer is larger than {MAX_WHOLE_BYTES} bytes")).into()
            );
        }
        Ok(body)
    }

    fn file_url(&self, path: &str) -> Result<String, CaptureError> {
        let rel = validate_rel_path(path)?;
        let enc: Vec<String> = rel.split('/').map(encode).collect();
        Ok(self.run_url(&format!("/files/{}", enc.join("/"))))
    }

    /// Uploads one run file (`PUT .../files/{path}`, body = the bytes, `X-Content-SHA256` =
    /// their digest, which the server checks). Returns the server's answer
    /// (`{"path","sha256","size","version","created"}`).
    pub fn put_file(&self, path: &str, bytes: &[u8], sha256: &str) -> Result<Value, CaptureError> {
        let rel = validate_rel_path(path)?;
        let enc: Vec<String> = rel.split('/').map(encode).collect();
        let url = self.run_url(&format!("/files/{}", enc.join("/")));
        let resp = self
            .agent
            .put(&url)
            .header("Authorization", &format!("Bearer {}", self.api_key))
            .header("X-Content-SHA256", sha256)
            .header("Content-Type", "application/octet-stream")
            .send(bytes)
            .map_err(|e| RestoreError::Unreachable { url: url.clone(), message: e.to_string() })?;
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        resp.into_body()
            .into_reader()
            .take(1 << 20)
            .read_to_end(&mut body)
            .map_err(|e| RestoreError::Unreachable { url: url.clone(), message: e.to_string() })?;
        if !(200..300).contains(&status) {
            return Err(http_error(&url, status, &body).into());
        }
        serde_json::from_slice(&body).map_err(|e| CaptureError::Json(e.to_string()))
    }

    fn run(&self) -> Result<Value, CaptureError> {
        let body = self.get(&self.run_url(""))?;
        serde_json::from_slice(&body).map_err(|e| CaptureError::Json(e.to_string()))
    }
}

impl RunSource for HttpRunSource {
    fn run_id(&self) -> &str {
        &self.run_id
    }

    fn config(&self) -> Result<Map<String, Value>, CaptureError> {
        Ok(self.run()?.get("config").and_then(Value::as_object).cloned().unwrap_or_default())
    }

    /// The run's `metadata` when the server derived it, else the uploaded metadata file.
    fn metadata(&self) -> Result<Value, CaptureError> {
        let meta = self.run()?.get("metadata").cloned().filter(|m| m.get("git").is_some());
        match meta {
            Some(m) => Ok(m),
            None => match self.read_file(METADATA) {
                Ok(b) => Ok(read_metadata_bytes(&b)),
                Err(CaptureError::Restore(RestoreError::Http { status: 404, .. })) => Ok(Value::Object(Map::new())),
                Err(e) => Err(e),
            },
        }
    }

    fn list_files(&self) -> Result<Vec<RunFile>, CaptureError> {
        let body = self.get(&self.run_url("/files"))?;
        #[derive(serde::Deserialize)]
        struct Listing {
            files: Vec<RunFile>,
        }
        let listing: Listing =
            serde_json::from_slice(&body).map_err(|e| CaptureError::Json(format!("file listing: {e}")))?;
        Ok(listing.files)
    }

    fn read_file(&self, path: &str) -> Result<Vec<u8>, CaptureError> {
        self.get(&self.file_url(path)?)
    }

    fn download(&self, path: &str, out: &mut dyn std::io::Write) -> Result<u64, CaptureError> {
        let url = self.file_url(path)?;
        let mut reader = self.get_ok(&url)?.into_body().into_reader();
        std::io::copy(&mut reader, out).map_err(|e| RestoreError::Unreachable { url, message: e.to_string() }.into())
    }
}

/// The API's error shape `{"error":{"code","message"}}`, or the start of the body.
fn http_error(url: &str, status: u16, body: &[u8]) -> RestoreError {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.pointer("/error/message").and_then(Value::as_str).map(String::from))
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect());
    RestoreError::Http { url: url.into(), status, message }
}

/// Percent-encodes one path segment (RFC 3986 unreserved characters stay).
pub fn encode(seg: &str) -> String {
    let mut out = String::with_capacity(seg.len());
    for b in seg.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
