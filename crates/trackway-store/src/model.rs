//! Plain data types spoken by [`crate::MetadataStore`]. `Run` serialises exactly as the API's
//! `Run` object (docs/api.md), except `url`, which the server adds.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::filter::Filter;

/// A run's address: `{entity}/{project}/{run_id}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunKey {
    pub entity: String,
    pub project: String,
    pub run_id: String,
}

impl std::fmt::Display for RunKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.entity, self.project, self.run_id)
    }
}

/// A team role, from most to least powerful. `admin` manages the team (members, invites,
/// visibility); `member` writes runs; `viewer` reads. Stored rows of the older name `owner`
/// are team admins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[serde(alias = "owner")]
    Admin,
    Member,
    Viewer,
}

impl Role {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" | "owner" => Some(Role::Admin),
            "member" => Some(Role::Member),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    /// Whether this role may write runs.
    #[must_use]
    pub fn can_write(self) -> bool {
        matches!(self, Role::Admin | Role::Member)
    }
}

/// What an API key may do beyond its user's rights (a key never adds rights). The default
/// (all false, no entity) is the user's full rights. Cookie sessions are always full.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyScope {
    /// Reads only: every write is refused.
    #[serde(default)]
    pub read_only: bool,
    /// Only what logging a run needs (create/resume runs, ingest, file uploads), for CI machines.
    #[serde(default)]
    pub ingest_only: bool,
    /// Only this entity (a scoped key of a server admin is not an admin key).
    #[serde(default)]
    pub entity: Option<String>,
}

/// Who an API key or session belongs to, and what they may touch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Principal {
    /// 0 for [`Principal::anonymous`].
    pub user_id: i64,
    pub username: String,
    /// The user's default (personal) entity.
    pub entity: String,
    /// Server admin (separate from team roles). False for scoped keys.
    pub admin: bool,
    pub memberships: Vec<(String, Role)>,
    /// The key's scope (full for sessions).
    pub scope: KeyScope,
}

impl Principal {
    /// A request without credentials, let through only to routes readable by anyone (public
    /// projects); every check refuses it with `401`.
    #[must_use]
    pub fn anonymous() -> Principal {
        Principal {
            user_id: 0,
            username: String::new(),
            entity: String::new(),
            admin: false,
            memberships: Vec::new(),
            scope: KeyScope { read_only: true, ingest_only: false, entity: None },
        }
    }

    #[must_use]
    pub fn is_anonymous(&self) -> bool {
        self.user_id == 0
    }

    /// The principal's role in `entity`, if a member (and the key's scope allows the entity).
    #[must_use]
    pub fn role_in(&self, entity: &str) -> Option<Role> {
        if self.scope.entity.as_deref().is_some_and(|e| e != entity) {
            return None;
        }
        self.memberships.iter().find(|(name, _)| name == entity).map(|(_, role)| *role)
    }

    /// Whether the principal may read (`write == false`) or write runs of `entity` through its
    /// memberships (project visibility can grant more reads; see the server's `auth`).
    #[must_use]
    pub fn can_access(&self, entity: &str, write: bool) -> bool {
        if write && self.scope.read_only {
            return false;
        }
        if self.scope.entity.as_deref().is_some_and(|e| e != entity) {
            return false;
        }
        if self.admin {
            return true;
        }
        self.role_in(entity).is_some_and(|role| !write || role.can_write())
    }
}

/// A freshly created API key; `key` is the only copy of the plaintext.
#[derive(Clone, Debug)]
pub struct NewApiKey {
    pub key: String,
    pub prefix: String,
    /// The key's id (for listing and revoking).
    pub id: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProjectInfo {
    pub entity: String,
    pub name: String,
    pub run_count: u64,
    pub last_run_at: Option<f64>,
}

/// One run as stored; serialises as the API's `Run` minus `url`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Run {
    pub entity: String,
    pub project: String,
    pub run_id: String,
    pub name: Option<String>,
    pub state: String,
    pub created_at: f64,
    pub updated_at: f64,
    pub heartbeat_at: Option<f64>,
    pub exit_code: Option<i64>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub group: Option<String>,
    pub job_type: Option<String>,
    pub host: Option<String>,
    pub config: Json,
    pub summary: Json,
    pub metadata: Json,
    pub last_step: Option<i64>,
    pub row_count: i64,
    /// The store's integer key of the run (the history store's run key); not part of the API.
    #[serde(skip)]
    pub pk: i64,
    /// When a stop was requested (`MetadataStore::request_stop`): while the run is `running`
    /// its clients are told to stop; a finish after it makes the run `killed`.
    pub stop_requested_at: Option<f64>,
}

impl Run {
    #[must_use]
    pub fn key(&self) -> RunKey {
        RunKey { entity: self.entity.clone(), project: self.project.clone(), run_id: self.run_id.clone() }
    }
}

impl Run {
    /// Whether the run's writer should stop: see [`stop_pending`].
    #[must_use]
    pub fn stop_pending(&self) -> bool {
        stop_pending(self.stop_requested_at, &self.state)
    }
}

/// The stop rule: a stop was requested and the run still runs (a run that ended, or a new
/// attempt, which clears the request, has nothing to stop).
#[must_use]
pub fn stop_pending(stop_requested_at: Option<f64>, state: &str) -> bool {
    stop_requested_at.is_some() && state == "running"
}

/// The answer to a stop request for a run that is not running (every backend's).
#[must_use]
pub fn stop_conflict(run: &Run) -> crate::StoreError {
    crate::StoreError::Conflict(format!("run {} is {}: only a running run can be stopped", run.key(), run.state))
}

/// `resume` of `POST /api/v1/runs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResumeMode {
    Allow,
    Must,
    Never,
    Auto,
}

/// A create-or-resume request: the run record's fields plus `resume`.
#[derive(Clone, Debug, Default)]
pub struct CreateRun {
    pub key: Option<RunKey>,
    pub resume: Option<ResumeMode>,
    pub name: Option<String>,
    pub tags: Option<Vec<String>>,
    pub notes: Option<String>,
    pub group: Option<String>,
    pub job_type: Option<String>,
    pub host: Option<String>,
    pub created_at: Option<f64>,
    /// Initial config (Trackway JSON object); merged top-level into an existing run's config.
    pub config: Option<serde_json::Map<String, Json>>,
    /// Extra metadata (settings, pid, ...), merged top-level.
    pub metadata: Option<serde_json::Map<String, Json>>,
    /// The run log this attempt writes. A create with `resume: never` repeated by the same log
    /// (an uploader retrying after losing the first answer) is not a conflict.
    pub log_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CreateOutcome {
    pub run: Run,
    pub resumed: bool,
    pub last_step: Option<i64>,
}

/// `PATCH /api/v1/runs/...`: only the present fields change.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RunPatch {
    pub name: Option<String>,
    pub notes: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// Sort direction of the run table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// One page request of the run table.
#[derive(Clone, Debug)]
pub struct RunQuery {
    pub entity: String,
    pub project: String,
    pub filter: Option<Filter>,
    /// A field as in filters (`created_at`, `config.lr`, `summary_metrics.acc`, ...).
    pub order_by: String,
    pub direction: Direction,
    pub limit: usize,
    /// Opaque cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Whether to count all matching runs (one more query).
    pub with_total: bool,
}

impl RunQuery {
    /// Parses `-created_at` / `+config.lr` / `name` into field and direction.
    #[must_use]
    pub fn parse_order(order: &str) -> (String, Direction) {
        if let Some(rest) = order.strip_prefix('-') {
            (rest.to_owned(), Direction::Desc)
        } else {
            (order.strip_prefix('+').unwrap_or(order).to_owned(), Direction::Asc)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunPage {
    pub runs: Vec<Run>,
    pub next_cursor: Option<String>,
    pub total: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupCount {
    pub value: Json,
    pub count: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProjectKeys {
    pub config: Vec<String>,
    pub summary: Vec<String>,
    pub history: Vec<String>,
}

/// One ingest request (docs/api.md "Ingest"): the complete records in `[from, to)` of one log.
#[derive(Clone, Debug)]
pub struct IngestBatch {
    pub key: RunKey,
    pub log_id: String,
    pub from: u64,
    pub to: u64,
    /// `(position, record)` in increasing position order, all within `[from, to)`.
    pub records: Vec<(u64, trackway_types::Record)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IngestOutcome {
    /// Everything before this position is durable.
    pub acked: u64,
    /// How many records were applied (the rest were already below the mark).
    pub applied: usize,
    /// Whether the run row was created by this batch (a log replayed without `POST /runs`).
    pub created_run: bool,
    /// History records dropped because their step was not above the run's last step, written
    /// by another attempt (history never goes back; the writer is warned).
    pub dropped_rows: usize,
    /// A stop was requested for the run and it is still running: its writer should stop.
    pub stop_requested: bool,
}

/// One stored version of a run file (docs/capture.md section 7).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunFileVersion {
    pub path: String,
    /// 1 for the first upload of a path, +1 for every upload of different content.
    pub version: u64,
    /// Lowercase hex SHA-256 of the content: its name in the blob store.
    pub sha256: String,
    pub size: u64,
    pub created_at: f64,
}

/// What recording an upload did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PutFileOutcome {
    pub file: RunFileVersion,
    /// False when the content equals the latest version (nothing was recorded).
    pub created: bool,
}

/// The latest version of a path, with how many versions it has.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunFileEntry {
    #[serde(flatten)]
    pub latest: RunFileVersion,
    pub versions: u64,
}

/// One console line of a run (`output` records, docs/capture.md section 1).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutputLine {
    /// Run-wide line number (a resumed attempt continues after the previous attempt's lines).
    pub line: u64,
    /// `out` or `err`.
    pub stream: String,
    pub text: String,
    pub ts: Option<f64>,
}

/// A page request of console lines.
#[derive(Clone, Debug, Default)]
pub struct OutputQuery {
    /// Only lines after this one (the last line the client already has).
    pub after_line: Option<u64>,
    pub limit: usize,
    /// Only lines containing this substring (case-sensitive).
    pub contains: Option<String>,
}
