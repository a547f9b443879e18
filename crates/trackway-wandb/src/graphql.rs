//! `POST /graphql`: the operations the wandb SDK sends while logging, dispatched by name.
//!
//! The SDK's queries are fixed documents compiled into `wandb-core` (and a few in the Python
//! package), recorded per release in `tests/wandb/fixtures/`. A general GraphQL engine would
//! have to model wandb's whole schema to answer a dozen documents, so this is a typed dispatcher
//! instead: the operation name selects a handler, whose variables are deserialised into a struct
//! and whose answer has exactly the shape that document selects. An operation without a handler
//! gets a GraphQL error (`{"data": null, "errors": [...]}`), which the SDK reports and survives
//! (e.g. artifact mutations: the run goes on, the artifact is not stored); each such name is
//! logged once.

use std::collections::HashSet;
use std::sync::Mutex;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value as Json, json};
use trackway_blob::BlobStore;
use trackway_store::{ArtifactStore, CreateRun, MetadataStore, Principal, ResumeMode, Run, RunKey, StoreError};
use trackway_types::{ConfigRecord, MetaRecord, Record, SummaryRecord};

use crate::pending::Drafts;
use crate::shapes::{config_from_wandb, config_to_wandb, summary_from_wandb};
use crate::token::UrlSigner;
use crate::{DEFAULT_PROJECT, Result, WandbError, filestream, logs};
use crate::{artifacts, public_api};

/// A GraphQL request as the SDK sends it.
#[derive(Debug, Deserialize)]
pub struct Request {
    #[serde(default)]
    pub query: String,
    #[serde(default, rename = "operationName")]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub variables: Option<Json>,
}

impl Request {
    /// The operation's name: `operationName`, else the name after `query`/`mutation`.
    #[must_use]
    pub fn name(&self) -> String {
        if let Some(n) = self.operation_name.as_deref().filter(|n| !n.is_empty()) {
            return n.to_owned();
        }
        // `#` starts a comment to the end of the line (the Python package's `#graphql` tag).
        let text: String =
            self.query.lines().map(|l| l.split('#').next().unwrap_or_default()).collect::<Vec<_>>().join("\n");
        let mut words = text.split(|c: char| c.is_whitespace() || "({".contains(c)).filter(|w| !w.is_empty());
        match words.next() {
            Some("query" | "mutation" | "subscription") => words.next().unwrap_or_default().to_owned(),
            _ => String::new(),
        }
    }
}

/// What a handler needs besides the request.
pub struct Ctx<'a> {
    pub store: &'a dyn MetadataStore,
    /// History rows, for `wandb.Api()`'s history queries.
    pub history: &'a dyn trackway_history::HistoryStore,
    pub artifacts: &'a dyn ArtifactStore,
    pub blobs: &'a dyn BlobStore,
    /// Artifacts being uploaded (`<data dir>/wandb-artifacts`).
    pub drafts: &'a Drafts,
    pub who: &'a Principal,
    /// `http://host:port` the SDK reached this server at: upload URLs point there.
    pub base_url: &'a str,
    pub signer: &'a UrlSigner,
    /// The server's access rule for writing to an entity (creating it for admins).
    pub ensure_writable: &'a dyn Fn(&str) -> Result<()>,
}

/// Names of unsupported operations already logged (bounded: names come from clients).
static LOGGED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
const MAX_LOGGED: usize = 256;

fn log_once(name: &str) {
    let Ok(mut guard) = LOGGED.lock() else { return };
    let seen = guard.get_or_insert_with(HashSet::new);
    if seen.len() < MAX_LOGGED && seen.insert(name.to_owned()) {
        tracing::warn!(operation = name, "wandb GraphQL operation not supported by Trackway; answered with an error");
    }
}

/// A GraphQL error answer (HTTP 200, as GraphQL servers answer query-level errors).
#[must_use]
pub fn error_answer(message: &str) -> Json {
    json!({"data": null, "errors": [{"message": message}]})
}

fn vars<T: DeserializeOwned>(req: &Request) -> Result<T> {
    serde_json::from_value(req.variables.clone().unwrap_or(Json::Null).to_owned())
        .or_else(|_| serde_json::from_value(json!({})))
        .map_err(|e| WandbError::BadRequest(format!("variables: {e}")))
}

/// Executes one request; the answer is a full GraphQL response body.
///
/// # Errors
/// Store errors (the server answers them with its own status codes, so 5xx are retried).
pub fn execute(ctx: &Ctx<'_>, req: &Request) -> Result<Json> {
    let name = req.name();
    tracing::debug!(operation = %name, "wandb GraphQL");
    let data = match name.as_str() {
        "Viewer" => viewer(ctx),
        "ServerFeaturesQuery" => json!({"serverInfo": {"features": []}}),
        "UpsertBucket" => upsert_bucket(ctx, vars(req)?)?,
        "RunResumeStatus" => resume_status(ctx, vars(req)?)?,
        "CreateRunFiles" => create_run_files(ctx, vars(req)?)?,
        "MarkRunFilesUploaded" => json!({"markRunFilesUploaded": {"success": true}}),
        "RunState" | "QueryRunInfo" => run_info(ctx, vars(req)?)?,
        "RunStoppedStatus" => run_stopped(ctx, vars(req)?)?,
        "OrganizationCoreWeaveOrganizationID" => json!({"entity": {"organization": null}}),
        // Tables logged with `run.log` become run artifacts: "no such artifact yet" sends the
        // SDK on to `CreateArtifact` (a new version only if the table changed).
        "ArtifactType" => json!({"project": {"artifact": null}}),
        "CreateArtifact" => artifacts::create(ctx, vars(req)?)?,
        "CreateArtifactManifest" => artifacts::manifest(ctx, "createArtifactManifest", vars(req)?)?,
        "UpdateArtifactManifest" => artifacts::manifest(ctx, "updateArtifactManifest", vars(req)?)?,
        "CreateArtifactFiles" => artifacts::files(ctx, vars(req)?)?,
        "CommitArtifact" => artifacts::commit(ctx, vars(req)?)?,
        "UpdateArtifact" => crate::artifact_ttl::update(ctx, vars(req)?)?,
        "UseArtifact" => artifacts::use_artifact(ctx, artifacts::use_vars(req.variables.clone().unwrap_or_default())?)?,
        "ArtifactMembershipByName" | "ArtifactByName" => artifacts::membership_by_name(ctx, vars(req)?)?,
        "ArtifactByID" => artifacts::by_id(ctx, vars(req)?)?,
        "FetchArtifactManifest" | "ArtifactManifest" => artifacts::fetch_manifest(ctx, vars(req)?)?,
        "GetArtifactMembershipFileUrls" => artifacts::file_urls(ctx, vars(req)?)?,
        "Run" => public_api::run(ctx, vars(req)?)?,
        "Runs" => public_api::runs(ctx, vars(req)?, &req.query)?,
        "RunFullHistory" => {
            let field = if req.query.contains("events(") { "events" } else { "history" };
            public_api::full_history(ctx, vars(req)?, field)?
        }
        "RunSampledHistory" => public_api::sampled_history(ctx, vars(req)?, None)?,
        "SampledHistoryPage" => {
            let spec = req.variables.as_ref().and_then(|v| v.get("spec")).cloned();
            public_api::sampled_history(ctx, vars(req)?, spec)?
        }
        "HistoryPage" => public_api::history_page(ctx, vars(req)?)?,
        "RunParquetHistory" => public_api::parquet_history(ctx, vars(req)?)?,
        "RunHistoryKeys" => public_api::history_keys_query(ctx, vars(req)?)?,
        "RunFiles" => public_api::files(ctx, vars(req)?)?,
        "ClientIDMapping" => artifacts::client_id_mapping(ctx, req.variables.as_ref().unwrap_or(&Json::Null)),
        // Trackway names blobs by SHA-256 and checks wandb's MD5s: the SDK keeps MD5 digests.
        "XXHashDigestsEnabled" => json!({"entity": {"xxhashDigestsEnabled": false}}),
        "FetchArtifactDigestAlgorithm" => json!({"project": {"artifactType": null}}),
        _ => {
            log_once(&name);
            return Ok(error_answer(&format!("Trackway does not support the wandb operation {name:?}")));
        }
    };
    Ok(json!({"data": data}))
}

fn viewer(ctx: &Ctx<'_>) -> Json {
    let who = ctx.who;
    let teams: Vec<Json> = who
        .memberships
        .iter()
        .filter(|(name, _)| *name != who.entity)
        .map(|(name, _)| json!({"node": {"name": name}}))
        .collect();
    json!({"viewer": {"id": format!("user:{}", who.user_id), "entity": who.entity, "username": who.username,
        "email": null, "flags": "{}", "admin": who.admin, "teams": {"edges": teams}}})
}

pub(crate) fn run_key(ctx: &Ctx<'_>, entity: Option<String>, project: Option<String>, run: String) -> RunKey {
    RunKey {
        entity: entity.filter(|e| !e.is_empty()).unwrap_or_else(|| ctx.who.entity.clone()),
        project: project.filter(|p| !p.is_empty()).unwrap_or_else(|| DEFAULT_PROJECT.into()),
        run_id: run,
    }
}

fn find_run(store: &dyn MetadataStore, key: &RunKey) -> Result<Option<Run>> {
    match store.get_run(key) {
        Ok(run) => Ok(Some(run)),
        Err(StoreError::RunNotFound(_) | StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn project_json(key: &RunKey) -> Json {
    json!({"id": format!("project:{}/{}", key.entity, key.project), "name": key.project,
        "entity": {"id": format!("entity:{}", key.entity), "name": key.entity}})
}

/// The bucket (run) fields the SDK's documents select.
fn bucket(store: &dyn MetadataStore, key: &RunKey, run: &Run) -> Result<Json> {
    let line_count = |log| store.ingest_mark(key, log);
    let step = run.last_step.unwrap_or(-1);
    let runtime = run.summary.get("_runtime").cloned().unwrap_or(Json::from(0));
    let tail = if step >= 0 { vec![json!({"_step": step, "_runtime": runtime}).to_string()] } else { Vec::new() };
    Ok(json!({
        "id": format!("run:{key}"), "name": key.run_id, "displayName": run.name, "description": run.notes,
        "notes": run.notes, "tags": run.tags, "state": run.state, "sweepName": null,
        "config": config_to_wandb(&run.config), "summaryMetrics": run.summary.to_string(),
        "project": project_json(key),
        "historyLineCount": line_count(logs::HISTORY)?, "logLineCount": line_count(logs::OUTPUT)?,
        "eventsLineCount": line_count(logs::EVENTS)?,
        "historyTail": serde_json::to_string(&tail).unwrap_or_default(), "eventsTail": "[]",
        // The SDK resumes only runs whose `_wandb` config has `t` (an initialised run).
        "wandbConfig": r#"{"t":{}}"#,
    }))
}

/// `UpsertBucket`'s variables (`core/api/graphql/upsert_bucket.graphql`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpsertVars {
    name: Option<String>,
    project: Option<String>,
    entity: Option<String>,
    group_name: Option<String>,
    display_name: Option<String>,
    notes: Option<String>,
    commit: Option<String>,
    config: Option<String>,
    host: Option<String>,
    program: Option<String>,
    repo: Option<String>,
    job_type: Option<String>,
    tags: Option<Vec<String>>,
    summary_metrics: Option<String>,
}

fn to_json_map(m: &trackway_types::Map) -> serde_json::Map<String, Json> {
    match serde_json::to_value(m) {
        Ok(Json::Object(o)) => o,
        _ => serde_json::Map::new(),
    }
}

/// Create-or-update a run. A new run (or one that is not running: a resume) goes through the
/// store's create-or-resume like `POST /runs`; changes to a running one are `meta`/`config`
/// records on the state log, so they reach the run row through ingest like any other update.
fn upsert_bucket(ctx: &Ctx<'_>, v: UpsertVars) -> Result<Json> {
    let run_id = v
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| WandbError::BadRequest("a run name is required".into()))?;
    let key = run_key(ctx, v.entity.clone(), v.project.clone(), run_id);
    (ctx.ensure_writable)(&key.entity)?;
    let config = v.config.as_deref().map(config_from_wandb).transpose()?;
    let existing = find_run(ctx.store, &key)?;
    let inserted = existing.is_none();
    let mut records = Vec::new();
    match existing.filter(|r| r.state == "running") {
        None => {
            let mut metadata = serde_json::Map::new();
            for (k, val) in [("program", &v.program), ("commit", &v.commit), ("repo", &v.repo)] {
                if let Some(val) = val {
                    metadata.insert(k.into(), Json::from(val.clone()));
                }
            }
            metadata.insert("client".into(), Json::from("wandb"));
            let req = CreateRun {
                key: Some(key.clone()),
                resume: Some(ResumeMode::Allow),
                name: v.display_name,
                tags: v.tags,
                notes: v.notes,
                group: v.group_name,
                job_type: v.job_type,
                host: v.host,
                created_at: None,
                config: config.as_ref().map(to_json_map),
                metadata: Some(metadata),
                log_id: None,
            };
            ctx.store.create_or_resume(&req)?;
        }
        Some(run) => {
            let meta = MetaRecord {
                name: v.display_name,
                tags: v.tags,
                notes: v.notes,
                group: v.group_name,
                job_type: v.job_type,
                ..MetaRecord::default()
            };
            if meta != MetaRecord::default() {
                records.push(Record::Meta(meta));
            }
            if let Some(data) = config {
                // wandb sends the whole config each time: keys it no longer has are removed.
                let remove = run
                    .config
                    .as_object()
                    .map(|o| o.keys().filter(|k| !data.contains_key(*k)).cloned().collect())
                    .unwrap_or_default();
                records.push(Record::Config(ConfigRecord { data, remove }));
            }
        }
    }
    if let Some(text) = v.summary_metrics.as_deref() {
        records
            .push(Record::Summary(SummaryRecord { full: Some(summary_from_wandb(text)?), ..SummaryRecord::default() }));
    }
    filestream::apply_state(ctx.store, &key, records)?;
    let run = ctx.store.get_run(&key)?;
    Ok(json!({"upsertBucket": {"bucket": bucket(ctx.store, &key, &run)?, "inserted": inserted}}))
}

#[derive(Debug, Deserialize)]
struct ResumeVars {
    project: Option<String>,
    entity: Option<String>,
    name: String,
}

fn resume_status(ctx: &Ctx<'_>, v: ResumeVars) -> Result<Json> {
    let key = run_key(ctx, v.entity, v.project, v.name);
    if !ctx.who.can_access(&key.entity, false) {
        return Ok(json!({"model": null}));
    }
    let bucket = find_run(ctx.store, &key)?.map(|run| bucket(ctx.store, &key, &run)).transpose()?;
    let mut model = project_json(&key);
    model["bucket"] = bucket.unwrap_or(Json::Null);
    Ok(json!({"model": model}))
}

#[derive(Debug, Deserialize)]
struct RunVars {
    entity: Option<String>,
    project: Option<String>,
    /// `run` in wandb-core's documents, `name` in the Python package's.
    #[serde(alias = "name", alias = "runName")]
    run: String,
}

fn run_info(ctx: &Ctx<'_>, v: RunVars) -> Result<Json> {
    let key = run_key(ctx, v.entity, v.project, v.run);
    let run = if ctx.who.can_access(&key.entity, false) { find_run(ctx.store, &key)? } else { None };
    let run = run.map(|r| {
        json!({"id": format!("run:{key}"), "state": r.state, "displayName": r.name, "summaryMetrics": r.summary.to_string()})
    });
    Ok(json!({"project": {"run": run}}))
}

/// `RunStoppedStatus`' variables: the stop poll of SDKs before wandb-core took it from the
/// filestream's answer ([`filestream::answer`]).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoppedVars {
    entity_name: Option<String>,
    project_name: Option<String>,
    run_id: String,
}

fn run_stopped(ctx: &Ctx<'_>, v: StoppedVars) -> Result<Json> {
    let key = run_key(ctx, v.entity_name, v.project_name, v.run_id);
    let run = if ctx.who.can_access(&key.entity, false) { find_run(ctx.store, &key)? } else { None };
    let run = run.map(|r| json!({"stopped": r.stop_pending()}));
    Ok(json!({"project": {"run": run}}))
}

#[derive(Debug, Deserialize)]
struct FilesVars {
    entity: Option<String>,
    project: Option<String>,
    run: String,
    files: Vec<String>,
}

/// Characters kept as they are in an upload URL's path; the rest are percent-encoded.
pub(crate) fn url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The upload URL of one run file (served by `PUT /wandb/upload/...`).
#[must_use]
pub fn upload_url(base: &str, signer: &UrlSigner, key: &RunKey, path: &str) -> String {
    format!(
        "{base}/wandb/upload/{}/{}/{}/{}?{}",
        url_path(&key.entity),
        url_path(&key.project),
        url_path(&key.run_id),
        url_path(path),
        signer.sign(key, path)
    )
}

fn create_run_files(ctx: &Ctx<'_>, v: FilesVars) -> Result<Json> {
    let key = run_key(ctx, v.entity, v.project, v.run);
    (ctx.ensure_writable)(&key.entity)?;
    ctx.store.get_run(&key)?;
    let files: Vec<Json> = v
        .files
        .iter()
        .map(|f| json!({"name": f, "uploadUrl": upload_url(ctx.base_url, ctx.signer, &key, f)}))
        .collect();
    Ok(json!({"createRunFiles": {"runID": format!("run:{key}"), "uploadHeaders": [], "files": files}}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operation_name_comes_from_the_request_or_the_document() {
        let named = Request { query: String::new(), operation_name: Some("Viewer".into()), variables: None };
        assert_eq!(named.name(), "Viewer");
        let doc =
            Request { query: "\n mutation UpsertBucket ($id: String) {".into(), operation_name: None, variables: None };
        assert_eq!(doc.name(), "UpsertBucket");
        let tagged =
            Request { query: "#graphql\n  query Run($name: String!) {".into(), operation_name: None, variables: None };
        assert_eq!(tagged.name(), "Run");
        let anon = Request { query: "{ viewer { id } }".into(), operation_name: None, variables: None };
        assert_eq!(anon.name(), "");
    }

    #[test]
    fn upload_urls_encode_their_path() {
        let key = RunKey { entity: "e".into(), project: "p".into(), run_id: "r".into() };
        let url = upload_url("http://h:1", &UrlSigner::new([1; 32]), &key, "media/a b.png");
        assert!(url.starts_with("http://h:1/wandb/upload/e/p/r/media/a%20b.png?expires="), "{url}");
    }
}
