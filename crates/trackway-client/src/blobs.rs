//! Artifact blobs (docs/artifacts.md): resumable part-wise uploads and streamed, verified
//! downloads.

use std::io::{Read, Write};

use sha2::{Digest as _, Sha256};

use crate::{Client, ClientError, Result, encode_segment};

/// Where a blob upload stands on the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobState {
    /// The blob is stored: nothing (more) to send.
    pub stored: bool,
    /// Bytes the server holds; the next part starts here.
    pub offset: u64,
}

fn blob_path(entity: &str, project: &str, sha256: &str) -> String {
    format!("/api/v1/artifact-blobs/{}/{}/{}", encode_segment(entity), encode_segment(project), encode_segment(sha256))
}

fn state_of(v: &serde_json::Value) -> BlobState {
    BlobState {
        stored: v.get("stored").and_then(serde_json::Value::as_bool).unwrap_or(false),
        offset: v.get("offset").and_then(serde_json::Value::as_u64).unwrap_or(0),
    }
}

impl Client {
    /// `GET .../upload`: whether the server has the blob, or how much of it.
    pub fn blob_upload_state(&self, entity: &str, project: &str, sha256: &str) -> Result<BlobState> {
        Ok(state_of(&self.get_json(&format!("{}/upload", blob_path(entity, project, sha256)))?))
    }

    /// `PUT ...?offset=&size=`: one part of a blob of `size` bytes starting at `offset`. An
    /// `OffsetGap` error names where the server wants the next part to start.
    pub fn put_blob_part(&self, at: (&str, &str, &str), offset: u64, size: u64, part: &[u8]) -> Result<BlobState> {
        let path = format!("{}?offset={offset}&size={size}", blob_path(at.0, at.1, at.2));
        let mut req = self.agent.put(&self.url(&path)).header("Content-Type", "application/octet-stream");
        if let Some(k) = &self.api_key {
            req = req.header("Authorization", &format!("Bearer {k}"));
        }
        let resp = req.send(part).map_err(|e| self.net_err(e))?;
        Ok(state_of(&self.finish(&path, resp)?))
    }

    /// Streams a blob into `out` while hashing it; `Decode` when the bytes do not hash to
    /// `sha256` (the caller discards what it wrote). No whole-request timeout: a large blob
    /// takes as long as it takes, the connect timeout still applies.
    pub fn download_blob(&self, at: (&str, &str, &str), out: &mut dyn Write) -> Result<u64> {
        let path = blob_path(at.0, at.1, at.2);
        let mut req = self.agent.get(&self.url(&path)).config().timeout_global(None).build();
        if let Some(k) = &self.api_key {
            req = req.header("Authorization", &format!("Bearer {k}"));
        }
        let mut resp = req.call().map_err(|e| self.net_err(e))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let mut body = Vec::new();
            let _ = resp.body_mut().as_reader().take(64 * 1024).read_to_end(&mut body);
            return Err(ClientError::from_response(status, None, &body));
        }
        let mut reader = resp.body_mut().with_config().limit(u64::MAX).reader();
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ClientError::Unreachable { url: self.url(&path), reason: e.to_string() }),
            };
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(|e| ClientError::Decode { url: self.url(&path), reason: e.to_string() })?;
            total += n as u64;
        }
        let actual = hex::encode(hasher.finalize());
        if !actual.eq_ignore_ascii_case(at.2) {
            return Err(ClientError::Decode {
                url: self.url(&path),
                reason: format!("the downloaded bytes hash to {actual}, not {}", at.2),
            });
        }
        Ok(total)
    }
}

/// How often a blob whose bytes do not match its digest is fetched again.
pub const DOWNLOAD_ATTEMPTS: u32 = 3;

impl Client {
    /// Downloads a blob to `dest`: streamed into a temporary file beside it while hashing,
    /// fetched again (up to [`DOWNLOAD_ATTEMPTS`]) when the bytes do not hash to its name, fsynced
    /// and renamed into place only when they do, so `dest` is never half-written.
    pub fn download_blob_to(&self, at: (&str, &str, &str), dest: &std::path::Path) -> Result<u64, String> {
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dest.with_file_name(format!(".{name}.part-{}", std::process::id()));
        let mut last = String::new();
        for _ in 0..DOWNLOAD_ATTEMPTS {
            let attempt = (|| -> Result<u64, String> {
                let mut file = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
                let n = self.download_blob(at, &mut file).map_err(|e| e.to_string())?;
                file.sync_all().map_err(|e| format!("{}: {e}", tmp.display()))?;
                std::fs::rename(&tmp, dest).map_err(|e| format!("{}: {e}", dest.display()))?;
                Ok(n)
            })();
            match attempt {
                Ok(n) => return Ok(n),
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    tracing::warn!(sha256 = at.2, error = %e, "artifact download failed");
                    last = e;
                }
            }
        }
        Err(format!("downloading blob {} failed {DOWNLOAD_ATTEMPTS} times: {last}", at.2))
    }
}
