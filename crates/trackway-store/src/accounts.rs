//! Accounts: users beyond the first admin, teams and their members, scoped expiring API keys,
//! invites, cookie sessions, project visibility and the audit log (docs/teams.md).
//!
//! [`AccountStore`] is the backend trait (SQLite now; PostgreSQL implements it later), tested by
//! the `accounts` part of the conformance suite. Users, teams and plain keys predate it and stay
//! on [`crate::MetadataStore`] (`create_user`, `create_team`, `add_member`, `create_api_key`).

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::{KeyScope, NewApiKey, Principal, Result, Role};

/// A user as the admin pages list it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UserInfo {
    pub username: String,
    pub entity: String,
    pub admin: bool,
    pub active: bool,
    /// Service accounts have keys only (no password or SSO login).
    pub service: bool,
    pub has_password: bool,
    pub sso: bool,
    pub created_at: f64,
}

/// A new user (the personal entity of the same name and its admin membership come with it).
#[derive(Clone, Debug, Default)]
pub struct NewUser {
    pub username: String,
    pub admin: bool,
    pub service: bool,
    /// An argon2 PHC string (the server hashes; the store never sees a password).
    pub password_hash: Option<String>,
    /// `issuer#subject` of an OpenID Connect login.
    pub oidc_subject: Option<String>,
}

/// Changes to a user; `None` leaves a field alone.
#[derive(Clone, Debug, Default)]
pub struct UserPatch {
    /// `false` deactivates: keys and sessions stop working at once.
    pub active: Option<bool>,
    pub admin: Option<bool>,
    pub password_hash: Option<String>,
}

/// A team (or personal entity) as its members see it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TeamInfo {
    pub name: String,
    /// `team` or `user`.
    pub kind: String,
    /// The caller's role (`None` for a server admin who is not a member).
    pub role: Option<Role>,
    pub members: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberInfo {
    pub username: String,
    pub role: Role,
    pub active: bool,
}

/// A new key: its owner, a name, an optional expiry and scope.
#[derive(Clone, Debug, Default)]
pub struct NewKey {
    pub username: String,
    pub name: Option<String>,
    /// Unix seconds.
    pub expires_at: Option<f64>,
    pub scope: KeyScope,
}

/// A key as listed (never its plaintext).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApiKeyInfo {
    pub id: i64,
    pub username: String,
    pub prefix: String,
    pub name: Option<String>,
    pub created_at: f64,
    pub expires_at: Option<f64>,
    pub last_used_at: Option<f64>,
    pub revoked_at: Option<f64>,
    pub scope: KeyScope,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InviteInfo {
    pub id: i64,
    pub entity: String,
    pub role: Role,
    pub created_by: String,
    pub created_at: f64,
    pub expires_at: f64,
    pub accepted_by: Option<String>,
    pub revoked: bool,
}

impl InviteInfo {
    /// Whether the invite can still be accepted at `now`.
    #[must_use]
    pub fn open(&self, now: f64) -> bool {
        self.accepted_by.is_none() && !self.revoked && self.expires_at > now
    }
}

/// A new invite; `token` is the only copy of the secret (the link carries it).
#[derive(Clone, Debug)]
pub struct NewInvite {
    pub token: String,
    pub info: InviteInfo,
}

/// A new cookie session: the cookie's secret and the CSRF token the UI echoes in a header.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub expires_at: f64,
}

/// Who a project is readable by besides its entity's members.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Members of the project's entity only.
    Private,
    /// Every signed-in user of this server (read-only).
    Team,
    /// Anyone with the link, signed in or not (read-only).
    Public,
}

impl Visibility {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Team => "team",
            Visibility::Public => "public",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Visibility> {
        match s {
            "private" => Some(Visibility::Private),
            "team" => Some(Visibility::Team),
            "public" => Some(Visibility::Public),
            _ => None,
        }
    }
}

/// One security-relevant action.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: f64,
    /// The acting user (`None`: the server itself or an anonymous request).
    pub actor: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: Json,
}

/// The accounts backend. Each method is one transaction.
pub trait AccountStore: Send + Sync + 'static {
    fn list_users(&self) -> Result<Vec<UserInfo>>;
    /// Creates a user with its personal entity.
    fn create_account(&self, user: &NewUser) -> Result<Principal>;
    /// Changes a user; deactivation also ends the user's sessions.
    fn update_user(&self, username: &str, patch: &UserPatch) -> Result<UserInfo>;
    /// The user id and password hash of an active, non-service user with a password.
    fn password_login(&self, username: &str) -> Result<Option<(i64, String)>>;
    /// The user name of an OIDC subject (`issuer#sub`).
    fn user_by_oidc(&self, subject: &str) -> Result<Option<String>>;
    /// The principal of an active user (full rights, as a session has).
    fn principal_of(&self, user_id: i64) -> Result<Option<Principal>>;
    /// [`AccountStore::principal_of`] by user name.
    fn principal_by_name(&self, username: &str) -> Result<Option<Principal>>;

    /// Teams the principal belongs to (every entity for a server admin).
    fn list_teams(&self, who: &Principal) -> Result<Vec<TeamInfo>>;
    /// Members of an entity; `NotFound` when it does not exist.
    fn list_members(&self, entity: &str) -> Result<Vec<MemberInfo>>;
    /// Removes a membership; refuses to remove an entity's last admin.
    fn remove_member(&self, entity: &str, username: &str) -> Result<()>;
    /// Sets a role; refuses to demote an entity's last admin.
    fn set_role(&self, entity: &str, username: &str, role: Role) -> Result<()>;

    fn create_key(&self, key: &NewKey) -> Result<NewApiKey>;
    /// Keys of one user, or of everyone (`None`), newest first.
    fn list_keys(&self, username: Option<&str>) -> Result<Vec<ApiKeyInfo>>;
    /// Revokes key `id`, if it belongs to `username` (`None`: any key). `NotFound` otherwise.
    fn revoke_key(&self, username: Option<&str>, id: i64) -> Result<ApiKeyInfo>;
    /// The principal of a plaintext key at time `now`: `None` when unknown, revoked, expired,
    /// or its user is deactivated. Records the last-used time (at most once a minute per key).
    fn authenticate_key(&self, key: &str, now: f64) -> Result<Option<Principal>>;

    fn create_invite(&self, entity: &str, role: Role, created_by: &str, expires_at: f64) -> Result<NewInvite>;
    fn get_invite(&self, token: &str) -> Result<Option<InviteInfo>>;
    fn list_invites(&self, entity: &str) -> Result<Vec<InviteInfo>>;
    /// Accepts an open invite at `now` for `username`: the membership is added (a stronger
    /// existing role is kept). `Invalid` when the invite is used, revoked or expired.
    fn accept_invite(&self, token: &str, username: &str, now: f64) -> Result<InviteInfo>;
    fn revoke_invite(&self, entity: &str, id: i64) -> Result<()>;

    fn create_session(&self, user_id: i64, expires_at: f64) -> Result<NewSession>;
    /// The principal and CSRF token of a live session of an active user.
    fn session(&self, token: &str, now: f64) -> Result<Option<(Principal, String)>>;
    fn delete_session(&self, token: &str) -> Result<()>;

    fn project_visibility(&self, entity: &str, project: &str) -> Result<Option<Visibility>>;
    fn set_visibility(&self, entity: &str, project: &str, visibility: Visibility) -> Result<()>;
    /// Moves a project and its runs to another entity; `AlreadyExists` when the target has a
    /// project of that name.
    fn move_project(&self, entity: &str, project: &str, to_entity: &str) -> Result<()>;

    fn audit(&self, actor: Option<&str>, action: &str, target: Option<&str>, detail: &Json) -> Result<()>;
    /// The newest entries first, `before` an id (paging), at most `limit`.
    fn audit_log(&self, limit: u32, before: Option<i64>) -> Result<Vec<AuditEntry>>;
}

// --- Rules every backend applies (one home; the SQL around them is the backend's) ------------

/// The last-used time of a key is written at most this often (seconds): a write per request
/// would put every authenticated read on a write path.
pub const LAST_USED_RESOLUTION: f64 = 60.0;

/// Most audit entries one call returns.
pub const MAX_AUDIT_PAGE: u32 = 1000;

/// Whether a key last used at `last_used` should have its last-used time written at `at`.
#[must_use]
pub fn last_used_due(last_used: Option<f64>, at: f64) -> bool {
    last_used.is_none_or(|t| at - t >= LAST_USED_RESOLUTION)
}

/// The principal a key acts as: its user's, narrowed by the key's scope. A scoped key (to an
/// entity, or ingest only) acts as a member, never as the server admin.
#[must_use]
pub fn scoped_principal(mut who: Principal, scope: KeyScope) -> Principal {
    if scope.entity.is_some() || scope.ingest_only {
        who.admin = false;
    }
    who.scope = scope;
    who
}

/// Whether accepting an invite for `invited` leaves the `current` role alone: an invite never
/// downgrades (an admin following a viewer invite stays admin).
#[must_use]
pub fn invite_keeps_role(current: Option<Role>, invited: Role) -> bool {
    current.is_some_and(|r| r <= invited)
}

/// Refuses to leave an entity without an admin: `other_admins` is how many admins it has besides
/// `username`, `stays_admin` whether `username` is still one after the change.
///
/// # Errors
/// `Invalid` when the change would remove the last admin.
pub fn keep_an_admin(other_admins: i64, stays_admin: bool, entity: &str, username: &str) -> Result<()> {
    if other_admins == 0 && !stays_admin {
        return Err(crate::StoreError::Invalid(format!("{username} is the last admin of {entity}")));
    }
    Ok(())
}

/// The error for an invite that can no longer be accepted at `now`.
///
/// # Errors
/// `Invalid` when the invite is used, revoked or expired.
pub fn check_invite_open(invite: &InviteInfo, now: f64) -> Result<()> {
    if !invite.open(now) {
        return Err(crate::StoreError::Invalid("this invite was used, revoked or has expired".into()));
    }
    Ok(())
}
