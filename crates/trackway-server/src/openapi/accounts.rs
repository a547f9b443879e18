//! Schemas of the accounts routes (users, teams, keys, invites, sessions, audit log): described
//! here, serialised by the handlers from `trackway_store`'s account types.

#![allow(dead_code)]

use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

/// A team role.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub(crate) enum RoleName {
    Admin,
    Member,
    Viewer,
}

/// Who a project is readable by besides its entity's members: `private` (members only), `team`
/// (every signed-in user of the server), `public` (anyone with the link, read-only).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub(crate) enum VisibilityName {
    Private,
    Team,
    Public,
}

/// What a key may do (never more than its user): the default is the user's full rights.
#[derive(ToSchema)]
pub(crate) struct KeyScope {
    #[schema(required = false)]
    read_only: bool,
    /// Only logging runs (create/resume, ingest, file uploads): for CI machines.
    #[schema(required = false)]
    ingest_only: bool,
    /// Only this entity.
    entity: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct User {
    username: String,
    entity: String,
    /// Server admin (separate from team roles).
    admin: bool,
    active: bool,
    /// A service account: API keys only.
    service: bool,
    has_password: bool,
    sso: bool,
    created_at: f64,
}

#[derive(ToSchema)]
pub(crate) struct Team {
    name: String,
    /// `team` or `user` (a personal entity).
    kind: String,
    role: Option<RoleName>,
    members: u64,
}

#[derive(ToSchema)]
pub(crate) struct Member {
    username: String,
    role: RoleName,
    active: bool,
}

/// A key as listed: never its secret.
#[derive(ToSchema)]
pub(crate) struct ApiKey {
    id: i64,
    username: String,
    prefix: String,
    name: Option<String>,
    created_at: f64,
    expires_at: Option<f64>,
    last_used_at: Option<f64>,
    revoked_at: Option<f64>,
    scope: KeyScope,
}

/// A new key: `key` is shown this once.
#[derive(ToSchema)]
pub(crate) struct CreatedKey {
    key: String,
    info: ApiKey,
}

#[derive(ToSchema)]
pub(crate) struct Invite {
    id: i64,
    entity: String,
    role: RoleName,
    created_by: String,
    created_at: f64,
    expires_at: f64,
    accepted_by: Option<String>,
    revoked: bool,
}

/// A new invite: `token` and `url` (the link to send) are shown this once.
#[derive(ToSchema)]
pub(crate) struct CreatedInvite {
    token: String,
    url: String,
    info: Invite,
}

/// How this server lets people sign in (for the sign-in page).
#[derive(ToSchema)]
pub(crate) struct AuthConfig {
    password: bool,
    signup: bool,
    /// The SSO button's label, when OpenID Connect is configured.
    oidc: Option<String>,
}

/// A session started: the user and the CSRF token to echo in `X-CSRF-Token`.
#[derive(ToSchema)]
pub(crate) struct SessionStarted {
    username: String,
    csrf: String,
}

#[derive(ToSchema)]
pub(crate) struct AuditEntry {
    id: i64,
    at: f64,
    actor: Option<String>,
    action: String,
    target: Option<String>,
    detail: Map<String, Value>,
}

#[derive(ToSchema)]
pub(crate) struct ProjectVisibility {
    entity: String,
    project: String,
    visibility: VisibilityName,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct TeamPath {
    team: String,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct MemberPath {
    team: String,
    username: String,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct InviteIdPath {
    team: String,
    id: i64,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct TokenPath {
    /// The invite's secret, from its link.
    token: String,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct UserPath {
    username: String,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct KeyPath {
    id: i64,
}
