//! The server's run-file routes (docs/capture.md section 7) through the one HTTP client,
//! `trackway-client`: `GET /api/v1/runs/{e}/{p}/{id}` (config, metadata), `GET .../files`
//! (list) and `GET .../files/{path}` (download, streamed).
use serde_json::{Map, Value};
use trackway_client::{Client, ClientError, ClientOptions, file_suffix, run_path};

use super::{METADATA, RestoreError, RunFile, RunSource, read_metadata_bytes};
use crate::CaptureError;
use crate::paths::validate_rel_path;

/// Bodies read whole (the run, listings, `diff.patch`, metadata) above this are refused, never
/// cut short; run files of any size are streamed by [`RunSource::download`].
const MAX_WHOLE_BYTES: u64 = 1 << 30;

pub struct HttpRunSource {
    client: Result<Client, String>,
    base: String,
    entity: String,
    project: String,
    run_id: String,
}

impl HttpRunSource {
    pub fn new(base_url: &str, api_key: &str, entity: &str, project: &str, run_id: &str) -> Self {
        HttpRunSource {
            // A bad URL is reported by the first request, as an unreachable server is.
            client: Client::new(base_url, Some(api_key), &ClientOptions::default()).map_err(|e| e.to_string()),
            base: base_url.trim_end_matches('/').to_string(),
            entity: entity.into(),
            project: project.into(),
            run_id: run_id.into(),
        }
    }

    fn path(&self, suffix: &str) -> String {
        run_path((&self.entity, &self.project, &self.run_id), suffix)
    }

    fn client(&self) -> Result<&Client, CaptureError> {
        self.client
            .as_ref()
            .map_err(|message| RestoreError::Unreachable { url: self.base.clone(), message: message.clone() }.into())
    }

    fn get(&self, path: &str) -> Result<Vec<u8>, CaptureError> {
        self.client()?.get_bytes(path, MAX_WHOLE_BYTES).map_err(|e| self.error(path, e))
    }

    fn file_path(&self, path: &str) -> Result<String, CaptureError> {
        Ok(self.path(&file_suffix(&validate_rel_path(path)?)))
    }

    fn run(&self) -> Result<Value, CaptureError> {
        let body = self.get(&self.path(""))?;
        serde_json::from_slice(&body).map_err(|e| CaptureError::Json(e.to_string()))
    }

    /// The client's error as restore reports it: an HTTP status with the server's message, or
    /// an unreachable server.
    fn error(&self, path: &str, e: ClientError) -> CaptureError {
        let url = format!("{}{path}", self.base);
        match e {
            ClientError::Unauthorized { message } => RestoreError::Http { url, status: 401, message },
            ClientError::Permanent { status, message, .. } | ClientError::Retryable { status, message, .. } => {
                RestoreError::Http { url, status, message }
            }
            ClientError::Decode { reason, .. } => RestoreError::Source(format!("{url}: {reason}")),
            other => RestoreError::Unreachable { url, message: other.to_string() },
        }
        .into()
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
        let body = self.get(&self.path("/files"))?;
        #[derive(serde::Deserialize)]
        struct Listing {
            files: Vec<RunFile>,
        }
        let listing: Listing =
            serde_json::from_slice(&body).map_err(|e| CaptureError::Json(format!("file listing: {e}")))?;
        Ok(listing.files)
    }

    fn read_file(&self, path: &str) -> Result<Vec<u8>, CaptureError> {
        self.get(&self.file_path(path)?)
    }

    fn download(&self, path: &str, out: &mut dyn std::io::Write) -> Result<u64, CaptureError> {
        let path = self.file_path(path)?;
        self.client()?.download(&path, out).map_err(|e| self.error(&path, e))
    }
}
