//! Schemas of the bodies that handlers build with `json!` (and of store types that do not derive
//! `ToSchema`): the document describes them from these types, and the schemathesis run of
//! `make test` checks every response of the running server against them.

// Described, never built: the handlers serialise the same fields from the store's types.
#![allow(dead_code)]

use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

type Object = Map<String, Value>;

/// `{entity}/{project}` of the project routes.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ProjectPath {
    entity: String,
    project: String,
}

/// `{entity}/{project}/{run_id}` of the run routes.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct RunPath {
    entity: String,
    project: String,
    run_id: String,
}

/// A run file's route: the run plus the file's run-relative path (it may contain `/`).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct FilePath {
    entity: String,
    project: String,
    run_id: String,
    /// Run-relative path, `/`-separated; no `..`, no leading `/`, no `\` or NUL.
    path: String,
}

#[derive(ToSchema)]
pub(crate) struct Health {
    /// Always `ok` when the server answers.
    status: String,
    version: String,
}

#[derive(ToSchema)]
pub(crate) struct Membership {
    entity: String,
    #[schema(inline)]
    role: Role,
}

#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Role {
    Admin,
    Member,
    Viewer,
}

#[derive(ToSchema)]
pub(crate) struct Viewer {
    username: String,
    entity: String,
    admin: bool,
    memberships: Vec<Membership>,
}

#[derive(ToSchema)]
pub(crate) struct Entity {
    name: String,
}

#[derive(ToSchema)]
pub(crate) struct Project {
    entity: String,
    name: String,
    run_count: u64,
    last_run_at: Option<f64>,
}

/// A run. `config`, `summary` and `metadata` hold Trackway JSON.
#[derive(ToSchema)]
pub(crate) struct Run {
    entity: String,
    project: String,
    run_id: String,
    name: Option<String>,
    /// `running`, `finished`, `failed`, `crashed` or `killed` (finished after a stop request).
    state: String,
    created_at: f64,
    updated_at: f64,
    heartbeat_at: Option<f64>,
    exit_code: Option<i64>,
    tags: Vec<String>,
    notes: Option<String>,
    group: Option<String>,
    job_type: Option<String>,
    host: Option<String>,
    config: Object,
    summary: Object,
    metadata: Object,
    last_step: Option<i64>,
    row_count: i64,
    /// When a stop was requested (`POST .../stop`); null when none. A running run with a stop
    /// request is being stopped.
    stop_requested_at: Option<f64>,
    /// The run's page in the web UI.
    url: String,
    /// The sweep this run is a trial of (the run list and the run's own read say; null when
    /// none).
    sweep: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct RunPage {
    runs: Vec<Run>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
    /// Runs matching the filter, when `total` was not false.
    total: Option<u64>,
}

#[derive(ToSchema)]
pub(crate) struct CreatedRun {
    run: Run,
    resumed: bool,
    last_step: Option<i64>,
}

/// `PATCH` body: only the present fields change.
#[derive(ToSchema)]
pub(crate) struct RunPatch {
    name: Option<String>,
    notes: Option<String>,
    tags: Option<Vec<String>>,
}

#[derive(ToSchema)]
pub(crate) struct ProjectKeys {
    config: Vec<String>,
    summary: Vec<String>,
    history: Vec<String>,
}

#[derive(ToSchema)]
pub(crate) struct GroupCount {
    /// The key's value (Trackway JSON; null when the run has none).
    value: Value,
    count: u64,
}

#[derive(ToSchema)]
pub(crate) struct Groups {
    groups: Vec<GroupCount>,
}

#[derive(ToSchema)]
pub(crate) struct HistoryPage {
    /// `_step`, `_runtime`, `_timestamp` and the logged keys (Trackway JSON values).
    rows: Vec<Object>,
    next_cursor: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct HistoryKeys {
    keys: Vec<String>,
}

#[derive(ToSchema)]
pub(crate) struct ChartSeries {
    entity: String,
    project: String,
    run_id: String,
    x: Vec<Option<f64>>,
    min: Vec<Option<f64>>,
    max: Vec<Option<f64>>,
    last: Vec<Option<f64>>,
    mean: Vec<Option<f64>>,
    count: Vec<u64>,
    nonfinite: Vec<u64>,
    /// True when every point is a raw row (no bucketing).
    exact: bool,
}

#[derive(ToSchema)]
pub(crate) struct ChartResponse {
    series: Vec<ChartSeries>,
}

/// A batch of one run log's records, `[from, to)` (docs/api.md "Ingest").
#[derive(ToSchema)]
pub(crate) struct IngestRequest {
    entity: Option<String>,
    project: Option<String>,
    run_id: String,
    log_id: String,
    from: u64,
    to: u64,
    /// `[position, record]` pairs of docs/run-format.md.
    records: Vec<(u64, Object)>,
}

#[derive(ToSchema)]
pub(crate) struct IngestAck {
    /// Every record before this position is durable.
    acked: u64,
    /// Records applied by this request (the rest were already below the mark).
    applied: u64,
    /// History records refused because another attempt of the run already wrote those steps.
    dropped: u64,
    /// A stop was requested for the run (`POST .../stop`) and it is still running: the writer
    /// should stop (Trackway's agent interrupts the training process with SIGINT).
    stop_requested: bool,
}

#[derive(ToSchema)]
pub(crate) struct RunFileVersion {
    path: String,
    version: u64,
    /// Lowercase hex SHA-256 of the content.
    sha256: String,
    size: u64,
    created_at: f64,
}

/// The latest version of a path, with how many versions it has.
#[derive(ToSchema)]
pub(crate) struct RunFile {
    path: String,
    version: u64,
    versions: u64,
    sha256: String,
    size: u64,
    updated_at: f64,
}

/// `files`: [`RunFile`]s, or every [`RunFileVersion`] with `all=true`.
#[derive(ToSchema)]
pub(crate) struct FileList {
    files: Vec<FileListItem>,
}

#[derive(ToSchema)]
#[serde(untagged)]
pub(crate) enum FileListItem {
    Latest(RunFile),
    Version(RunFileVersion),
}

#[derive(ToSchema)]
pub(crate) struct FileUpload {
    path: String,
    sha256: String,
    size: u64,
    version: u64,
    /// False when the content equals the latest version (nothing recorded).
    created: bool,
    created_at: f64,
}

#[derive(ToSchema)]
pub(crate) struct OutputLine {
    line: u64,
    /// `out` or `err`.
    stream: String,
    text: String,
    ts: Option<f64>,
}

#[derive(ToSchema)]
pub(crate) struct OutputPage {
    lines: Vec<OutputLine>,
    /// Pass as `after_line` to poll for newer lines.
    after_line: Option<u64>,
    more: bool,
}

/// `resume` of `POST /runs`: wandb's values, `true` for `allow`, `false`/null for none.
pub(crate) fn resume_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["allow", "must", "never", "auto"])))
        .item(ObjectBuilder::new().schema_type(Type::Boolean))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// A saved workspace view (`/projects/{entity}/{project}/views`).
#[derive(ToSchema)]
pub(crate) struct View {
    id: i64,
    entity: String,
    project: String,
    /// The user who saved it; only they can change or delete it.
    owner: String,
    name: String,
    /// The workspace state (its URL query string).
    state: String,
    shared: bool,
    /// The project's default view.
    default: bool,
    created_at: f64,
    updated_at: f64,
}

#[derive(ToSchema)]
pub(crate) struct ViewList {
    views: Vec<View>,
}

#[derive(ToSchema)]
pub(crate) struct Deleted {
    deleted: bool,
}

/// `{entity}/{project}/{id}` of one saved view.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ViewPath {
    entity: String,
    project: String,
    /// The view's id.
    id: i64,
}

/// `DELETE` of a run: the deleted run's `entity/project/run_id`.
#[derive(ToSchema)]
pub(crate) struct RunDeleted {
    deleted: Vec<String>,
    /// How many blobs of the run's files were removed from the blob store (those that no other
    /// run file or artifact entry references).
    blobs_freed: u64,
}

/// A bulk edit's outcome: the run ids changed, and those that name no run of the project.
#[derive(ToSchema)]
pub(crate) struct BulkResult {
    changed: Vec<String>,
    missing: Vec<String>,
}
