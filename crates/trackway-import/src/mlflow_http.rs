//! A running MLflow tracking server (`http(s)://host:port`), read through its REST API:
//! `experiments/search` and `runs/search` (paged) find the runs, `metrics/get-history` (paged)
//! their points, `artifacts/list` and `/get-artifact` their files. The server's token, if any,
//! comes from `MLFLOW_TRACKING_TOKEN` (sent as a bearer token, as the mlflow client does).

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::mlflow::{MlflowRun, Point, http_run};
use crate::{ImportError, Result};

/// Page size of every listing (MLflow's maximum for runs/search is 50,000; this keeps each
/// response small).
const PAGE: u32 = 1000;
/// Upper bound on pages followed per listing, so a server that keeps answering with a next
/// page token cannot make the import loop forever.
const MAX_PAGES: usize = 100_000;
/// JSON responses larger than this are refused.
const MAX_JSON_BYTES: u64 = 64 << 20;
/// Artifact files larger than this are refused (each is held in memory once, as the file
/// store importer does).
const MAX_ARTIFACT_BYTES: u64 = 4 << 30;
/// Artifact directory depth followed.
const MAX_DEPTH: usize = 32;

/// A tracking server's REST API.
#[derive(Clone, Debug)]
pub struct Server {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl PartialEq for Server {
    fn eq(&self, other: &Self) -> bool {
        self.base == other.base
    }
}

impl Eq for Server {}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct KeyValue {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// A metric's name in `runs/search` (its value there is only the latest one).
#[derive(Debug, Deserialize)]
struct MetricKey {
    key: String,
}

/// What `runs/search` says of one run, kept for the import.
#[derive(Debug, Default)]
pub(crate) struct RunData {
    pub params: Vec<KeyValue>,
    pub tags: Vec<KeyValue>,
    pub metric_keys: Vec<String>,
}

impl Server {
    #[must_use]
    pub fn new(uri: &str) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .timeout_connect(Some(Duration::from_secs(10)))
            .user_agent(concat!("trackway-import/", env!("CARGO_PKG_VERSION")))
            .build();
        Server {
            base: uri.trim_end_matches('/').to_owned(),
            token: std::env::var("MLFLOW_TRACKING_TOKEN").ok().filter(|t| !t.is_empty()),
            agent: ureq::Agent::new_with_config(config),
        }
    }

    #[must_use]
    pub fn uri(&self) -> &str {
        &self.base
    }

    fn error(&self, path: &str, reason: impl std::fmt::Display) -> ImportError {
        ImportError::Remote { url: format!("{}{path}", self.base), reason: reason.to_string() }
    }

    /// The body of a 2xx answer, at most `limit` bytes; any other status is an error.
    fn read(
        &self,
        path: &str,
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        limit: u64,
    ) -> Result<Vec<u8>> {
        let mut resp = resp.map_err(|e| self.error(path, e))?;
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        resp.body_mut().with_config().limit(limit).reader().read_to_end(&mut body).map_err(|e| self.error(path, e))?;
        if !(200..300).contains(&status) {
            let text = String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned();
            return Err(self.error(path, format!("HTTP {status}: {text}")));
        }
        Ok(body)
    }

    fn post(&self, path: &str, body: &Json) -> Result<Json> {
        let mut req = self.agent.post(&format!("{}{path}", self.base)).header("Content-Type", "application/json");
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        let bytes = self.read(path, req.send(body.to_string().as_bytes()), MAX_JSON_BYTES)?;
        serde_json::from_slice(&bytes).map_err(|e| self.error(path, e))
    }

    fn get(&self, path: &str, query: &[(&str, &str)], limit: u64) -> Result<Vec<u8>> {
        let mut req = self.agent.get(&format!("{}{path}", self.base));
        for (k, v) in query {
            req = req.query(*k, *v);
        }
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        self.read(path, req.call(), limit)
    }

    fn get_json(&self, path: &str, query: &[(&str, &str)]) -> Result<Json> {
        let bytes = self.get(path, query, MAX_JSON_BYTES)?;
        serde_json::from_slice(&bytes).map_err(|e| self.error(path, e))
    }

    /// Every item under `field` of a paged POST listing.
    fn post_pages(&self, path: &str, mut body: Json, field: &str) -> Result<Vec<Json>> {
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = self.post(path, &body)?;
            if let Some(items) = page.get(field).and_then(Json::as_array) {
                out.extend(items.iter().cloned());
            }
            match page.get("next_page_token").and_then(Json::as_str).filter(|t| !t.is_empty()) {
                Some(token) => body["page_token"] = json!(token),
                None => return Ok(out),
            }
        }
        Err(self.error(path, "too many pages"))
    }
}

fn text(v: &Json, key: &str) -> Option<String> {
    v.get(key).and_then(Json::as_str).map(str::to_owned)
}

fn list<T: for<'de> Deserialize<'de>>(v: &Json, key: &str) -> Vec<T> {
    v.get(key).and_then(|x| serde_json::from_value(x.clone()).ok()).unwrap_or_default()
}

/// Every active run of every active experiment on the server.
pub fn discover(server: &Server) -> Result<Vec<MlflowRun>> {
    let body = json!({"max_results": PAGE, "view_type": "ACTIVE_ONLY"});
    let experiments = server.post_pages("/api/2.0/mlflow/experiments/search", body, "experiments")?;
    let mut runs = Vec::new();
    for exp in experiments {
        let (Some(id), Some(experiment)) = (text(&exp, "experiment_id"), text(&exp, "name")) else {
            continue;
        };
        let body = json!({"experiment_ids": [id], "max_results": PAGE, "run_view_type": "ACTIVE_ONLY",
                          "order_by": ["attributes.start_time ASC"]});
        for run in server.post_pages("/api/2.0/mlflow/runs/search", body, "runs")? {
            let info = run.get("info").cloned().unwrap_or_default();
            let data = run.get("data").cloned().unwrap_or_default();
            let Some(run_id) = text(&info, "run_id").or_else(|| text(&info, "run_uuid")) else {
                continue;
            };
            let metrics: Vec<MetricKey> = list(&data, "metrics");
            let run_data = RunData {
                params: list(&data, "params"),
                tags: list(&data, "tags"),
                metric_keys: metrics.into_iter().map(|m| m.key).collect(),
            };
            let finished = matches!(text(&info, "status").as_deref(), Some("FINISHED" | "FAILED" | "KILLED"));
            let times = (millis(&info, "start_time"), millis(&info, "end_time"));
            let spec = (run_id, experiment.clone(), text(&info, "run_name"));
            runs.push(http_run(server, spec, times, finished, run_data));
        }
    }
    Ok(runs)
}

/// MLflow sends int64 fields as JSON numbers or, through its protobuf JSON, as strings.
fn millis(v: &Json, key: &str) -> Option<i64> {
    match v.get(key)? {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Every point of every metric of a run, unordered.
pub(crate) fn points(server: &Server, run_id: &str, keys: &[String]) -> Result<Vec<Point>> {
    let path = "/api/2.0/mlflow/metrics/get-history";
    let page = PAGE.to_string();
    let mut out = Vec::new();
    for key in keys {
        let mut token = String::new();
        for _ in 0..MAX_PAGES {
            let mut query = vec![("run_id", run_id), ("metric_key", key.as_str()), ("max_results", page.as_str())];
            if !token.is_empty() {
                query.push(("page_token", token.as_str()));
            }
            let resp = server.get_json(path, &query)?;
            for m in resp.get("metrics").and_then(Json::as_array).into_iter().flatten() {
                let value = match m.get("value") {
                    Some(Json::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
                    Some(Json::String(s)) => s.parse().unwrap_or(f64::NAN), // "NaN", "Infinity"
                    _ => continue,
                };
                let (ts, step) = (millis(m, "timestamp").unwrap_or(0), millis(m, "step").unwrap_or(0));
                out.push(Point { key: key.clone(), value, ts_ms: ts, step });
            }
            match text(&resp, "next_page_token").filter(|t| !t.is_empty()) {
                Some(t) => token = t,
                None => break,
            }
        }
    }
    Ok(out)
}

/// A run's artifact files as (path, size), depth-bounded.
pub(crate) fn artifact_files(server: &Server, run_id: &str) -> Result<Vec<(String, u64)>> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let mut query = vec![("run_id", run_id)];
        if !dir.is_empty() {
            query.push(("path", dir.as_str()));
        }
        let resp = server.get_json("/api/2.0/mlflow/artifacts/list", &query)?;
        for f in resp.get("files").and_then(Json::as_array).into_iter().flatten() {
            let Some(path) = text(f, "path") else { continue };
            if f.get("is_dir").and_then(Json::as_bool).unwrap_or(false) {
                if depth < MAX_DEPTH {
                    stack.push((path, depth + 1));
                }
            } else {
                out.push((path, millis(f, "file_size").and_then(|n| u64::try_from(n).ok()).unwrap_or(0)));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// One artifact file's bytes.
pub(crate) fn artifact(server: &Server, run_id: &str, path: &str) -> Result<Vec<u8>> {
    server.get("/get-artifact", &[("run_uuid", run_id), ("path", path)], MAX_ARTIFACT_BYTES)
}

/// Params or tags as a map.
pub(crate) fn to_map(items: &[KeyValue]) -> BTreeMap<String, String> {
    items.iter().map(|kv| (kv.key.clone(), kv.value.clone())).collect()
}
