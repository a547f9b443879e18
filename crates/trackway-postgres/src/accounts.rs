//! Accounts on the PostgreSQL backend, for now: API keys authenticate against the metadata
//! store's users and keys (what the bootstrap admin and `MetadataStore::create_api_key` write);
//! team management, invites, cookie sessions, visibility changes and the audit log are not yet
//! implemented here and answer a clear error (docs/deploy.md "Current limits"). Every project is
//! private (members only), the safe default.

use std::sync::Arc;

use serde_json::Value as Json;
use trackway_store::{
    AccountStore, ApiKeyInfo, AuditEntry, InviteInfo, MemberInfo, MetadataStore, NewApiKey, NewInvite, NewKey,
    NewSession, NewUser, Principal, Result, Role, StoreError, TeamInfo, UserInfo, UserPatch, Visibility,
};

/// [`AccountStore`] over a metadata store that has users and keys but no account tables.
pub struct KeyOnlyAccounts {
    metadata: Arc<dyn MetadataStore>,
}

impl KeyOnlyAccounts {
    #[must_use]
    pub fn new(metadata: Arc<dyn MetadataStore>) -> Self {
        KeyOnlyAccounts { metadata }
    }
}

fn unsupported<T>(what: &str) -> Result<T> {
    Err(StoreError::Invalid(format!(
        "{what} is not available with the PostgreSQL backend yet (docs/deploy.md, \"Current limits\")"
    )))
}

impl AccountStore for KeyOnlyAccounts {
    fn list_users(&self) -> Result<Vec<UserInfo>> {
        unsupported("listing users")
    }
    fn create_account(&self, _user: &NewUser) -> Result<Principal> {
        unsupported("creating users")
    }
    fn update_user(&self, _username: &str, _patch: &UserPatch) -> Result<UserInfo> {
        unsupported("changing users")
    }
    fn password_login(&self, _username: &str) -> Result<Option<(i64, String)>> {
        Ok(None)
    }
    fn user_by_oidc(&self, _subject: &str) -> Result<Option<String>> {
        Ok(None)
    }
    fn principal_of(&self, _user_id: i64) -> Result<Option<Principal>> {
        Ok(None)
    }
    fn principal_by_name(&self, _username: &str) -> Result<Option<Principal>> {
        Ok(None)
    }
    fn list_teams(&self, _who: &Principal) -> Result<Vec<TeamInfo>> {
        unsupported("listing teams")
    }
    fn list_members(&self, _entity: &str) -> Result<Vec<MemberInfo>> {
        unsupported("listing members")
    }
    fn remove_member(&self, _entity: &str, _username: &str) -> Result<()> {
        unsupported("removing members")
    }
    fn set_role(&self, _entity: &str, _username: &str, _role: Role) -> Result<()> {
        unsupported("changing roles")
    }
    fn create_key(&self, _key: &NewKey) -> Result<NewApiKey> {
        unsupported("creating scoped keys")
    }
    fn list_keys(&self, _username: Option<&str>) -> Result<Vec<ApiKeyInfo>> {
        unsupported("listing keys")
    }
    fn revoke_key(&self, _username: Option<&str>, _id: i64) -> Result<ApiKeyInfo> {
        unsupported("revoking keys")
    }
    fn authenticate_key(&self, key: &str, _now: f64) -> Result<Option<Principal>> {
        self.metadata.authenticate(key)
    }
    fn create_invite(&self, _entity: &str, _role: Role, _by: &str, _expires_at: f64) -> Result<NewInvite> {
        unsupported("invites")
    }
    fn get_invite(&self, _token: &str) -> Result<Option<InviteInfo>> {
        Ok(None)
    }
    fn list_invites(&self, _entity: &str) -> Result<Vec<InviteInfo>> {
        unsupported("invites")
    }
    fn accept_invite(&self, _token: &str, _username: &str, _now: f64) -> Result<InviteInfo> {
        unsupported("invites")
    }
    fn revoke_invite(&self, _entity: &str, _id: i64) -> Result<()> {
        unsupported("invites")
    }
    fn create_session(&self, _user_id: i64, _expires_at: f64) -> Result<NewSession> {
        unsupported("browser sessions")
    }
    fn session(&self, _token: &str, _now: f64) -> Result<Option<(Principal, String)>> {
        Ok(None)
    }
    fn delete_session(&self, _token: &str) -> Result<()> {
        Ok(())
    }
    fn project_visibility(&self, _entity: &str, _project: &str) -> Result<Option<Visibility>> {
        Ok(Some(Visibility::Private))
    }
    fn set_visibility(&self, _entity: &str, _project: &str, _visibility: Visibility) -> Result<()> {
        unsupported("project visibility")
    }
    fn move_project(&self, _entity: &str, _project: &str, _to_entity: &str) -> Result<()> {
        unsupported("moving projects")
    }
    fn audit(&self, actor: Option<&str>, action: &str, target: Option<&str>, _detail: &Json) -> Result<()> {
        // No audit table on this backend yet: the entry goes to the server log instead.
        tracing::info!(actor, action, target, "audit");
        Ok(())
    }
    fn audit_log(&self, _limit: u32, _before: Option<i64>) -> Result<Vec<AuditEntry>> {
        unsupported("the audit log")
    }
}
