//! [`AccountStore`] on PostgreSQL: users, members and scoped keys here; invites, sessions,
//! visibility and the audit log in `access`. The tables are the SQLite store's (PostgreSQL
//! migration 0003); the rules (scope narrowing, last-used resolution, the last-admin guard,
//! invites that never downgrade) are `trackway_store`'s, shared with the SQLite store.
//!
//! Replicas write concurrently: changes that check then write (the last-admin guard, accepting
//! an invite) lock the row they check (`FOR UPDATE`) so two replicas cannot both pass the check.

use postgres::{GenericClient, Row};
use serde_json::Value as Json;
use trackway_store::backend::{generate_key, hash_key, key_prefix, valid_name};
use trackway_store::{
    AccountStore, ApiKeyInfo, AuditEntry, InviteInfo, KeyScope, MemberInfo, NewApiKey, NewInvite, NewKey, NewSession,
    NewUser, Principal, Result, Role, StoreError, TeamInfo, UserInfo, UserPatch, Visibility, keep_an_admin,
    last_used_due, scoped_principal,
};

use crate::meta::auth::{ensure_entity, principal, set_member, user_id};
use crate::meta::{PgStore, db, now};

const USER_COLUMNS: &str = "u.username, COALESCE(e.name, u.username), u.admin, u.active, u.service, \
     u.password_hash IS NOT NULL, u.oidc_subject IS NOT NULL, u.created_at";
const USER_FROM: &str = "users u LEFT JOIN entities e ON e.id = u.entity_id";

fn user_row(r: &Row) -> UserInfo {
    UserInfo {
        username: r.get(0),
        entity: r.get(1),
        admin: r.get(2),
        active: r.get(3),
        service: r.get(4),
        has_password: r.get(5),
        sso: r.get(6),
        created_at: r.get(7),
    }
}

fn user_info(c: &mut impl GenericClient, username: &str) -> Result<UserInfo> {
    let sql = format!("SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE u.username = $1");
    c.query_opt(&sql, &[&username])
        .map_err(db)?
        .map(|r| user_row(&r))
        .ok_or_else(|| StoreError::NotFound(format!("user {username}")))
}

/// The id of entity `name`; `lock` holds its row until the transaction ends (serialising
/// membership changes of that entity across replicas).
pub(crate) fn entity_id(c: &mut impl GenericClient, name: &str, lock: bool) -> Result<i64> {
    let sql = if lock {
        "SELECT id FROM entities WHERE name = $1 FOR UPDATE"
    } else {
        "SELECT id FROM entities WHERE name = $1"
    };
    c.query_opt(sql, &[&name])
        .map_err(db)?
        .map(|r| r.get(0))
        .ok_or_else(|| StoreError::NotFound(format!("entity {name}")))
}

const KEY_QUERY: &str = "SELECT k.id, u.username, k.prefix, k.name, k.created_at, k.expires_at, k.last_used_at, \
     k.revoked_at, k.read_only, k.ingest_only, e.name FROM api_keys k JOIN users u ON u.id = k.user_id \
     LEFT JOIN entities e ON e.id = k.entity_id";

fn key_row(r: &Row) -> ApiKeyInfo {
    ApiKeyInfo {
        id: r.get(0),
        username: r.get(1),
        prefix: r.get(2),
        name: r.get(3),
        created_at: r.get(4),
        expires_at: r.get(5),
        last_used_at: r.get(6),
        revoked_at: r.get(7),
        scope: KeyScope { read_only: r.get(8), ingest_only: r.get(9), entity: r.get(10) },
    }
}

/// Admins entity `entity_id` has besides user `except`.
fn other_admins(c: &mut impl GenericClient, entity_id: i64, except: i64) -> Result<i64> {
    Ok(c.query_one(
        "SELECT count(*) FROM memberships WHERE entity_id = $1 AND role = 'admin' AND user_id <> $2",
        &[&entity_id, &except],
    )
    .map_err(db)?
    .get(0))
}

/// The principal of a live key at `at` (scope applied) and whether its last-used time is due.
fn key_principal(c: &mut impl GenericClient, key: &str, at: f64) -> Result<Option<(Principal, i64, bool)>> {
    let row = c
        .query_opt(
            "SELECT k.id, k.user_id, k.read_only, k.ingest_only, e.name, k.last_used_at FROM api_keys k \
             JOIN users u ON u.id = k.user_id LEFT JOIN entities e ON e.id = k.entity_id \
             WHERE k.hash = $1 AND k.revoked_at IS NULL AND u.active \
             AND (k.expires_at IS NULL OR k.expires_at > $2)",
            &[&hash_key(key), &at],
        )
        .map_err(db)?;
    let Some(r) = row else { return Ok(None) };
    let scope = KeyScope { read_only: r.get(2), ingest_only: r.get(3), entity: r.get(4) };
    let who = scoped_principal(principal(c, r.get(1))?, scope);
    Ok(Some((who, r.get(0), last_used_due(r.get(5), at))))
}

impl PgStore {
    fn create_account_impl(&self, user: &NewUser) -> Result<Principal> {
        if !valid_name(&user.username) {
            return Err(StoreError::Invalid(format!("invalid user name {:?}", user.username)));
        }
        let taken = || StoreError::AlreadyExists(format!("user or team {}", user.username));
        self.tx(|tx| {
            if tx.query_opt("SELECT 1 FROM entities WHERE name = $1", &[&user.username]).map_err(db)?.is_some() {
                return Err(taken());
            }
            let entity_id = ensure_entity(tx, &user.username, "user")?;
            let row = tx
                .query_opt(
                    "INSERT INTO users (username, admin, entity_id, created_at, service, password_hash, oidc_subject) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (username) DO NOTHING RETURNING id",
                    &[
                        &user.username,
                        &user.admin,
                        &entity_id,
                        &now(),
                        &user.service,
                        &user.password_hash,
                        &user.oidc_subject,
                    ],
                )
                .map_err(db)?;
            let user_id: i64 = row.ok_or_else(taken)?.get(0);
            set_member(tx, user_id, entity_id, Role::Admin)?;
            principal(tx, user_id)
        })
    }

    fn update_user_impl(&self, username: &str, patch: &UserPatch) -> Result<UserInfo> {
        self.tx(|tx| {
            let id = user_id(tx, username)?;
            if let Some(active) = patch.active {
                tx.execute("UPDATE users SET active = $1 WHERE id = $2", &[&active, &id]).map_err(db)?;
                if !active {
                    tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&id]).map_err(db)?;
                }
            }
            if let Some(admin) = patch.admin {
                tx.execute("UPDATE users SET admin = $1 WHERE id = $2", &[&admin, &id]).map_err(db)?;
            }
            if let Some(hash) = &patch.password_hash {
                tx.execute("UPDATE users SET password_hash = $1 WHERE id = $2", &[hash, &id]).map_err(db)?;
            }
            user_info(tx, username)
        })
    }

    fn list_teams_impl(&self, who: &Principal) -> Result<Vec<TeamInfo>> {
        self.tx(|tx| {
            let rows = tx
                .query(
                    "SELECT e.name, e.kind, (SELECT role FROM memberships WHERE entity_id = e.id AND user_id = $1), \
                     (SELECT count(*) FROM memberships WHERE entity_id = e.id) FROM entities e \
                     WHERE $2 OR EXISTS (SELECT 1 FROM memberships WHERE entity_id = e.id AND user_id = $1) \
                     ORDER BY e.name",
                    &[&who.user_id, &who.admin],
                )
                .map_err(db)?;
            Ok(rows
                .iter()
                .map(|r| TeamInfo {
                    name: r.get(0),
                    kind: r.get(1),
                    role: r.get::<_, Option<&str>>(2).and_then(Role::parse),
                    members: r.get::<_, i64>(3).unsigned_abs(),
                })
                .collect())
        })
    }

    fn list_members_impl(&self, entity: &str) -> Result<Vec<MemberInfo>> {
        self.tx(|tx| {
            let id = entity_id(tx, entity, false)?;
            let rows = tx
                .query(
                    "SELECT u.username, m.role, u.active FROM memberships m JOIN users u ON u.id = m.user_id \
                     WHERE m.entity_id = $1 ORDER BY u.username",
                    &[&id],
                )
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    let role: &str = r.get(1);
                    let role = Role::parse(role).ok_or_else(|| StoreError::Invalid(format!("stored role {role:?}")))?;
                    Ok(MemberInfo { username: r.get(0), role, active: r.get(2) })
                })
                .collect()
        })
    }

    fn change_member(&self, entity: &str, username: &str, role: Option<Role>) -> Result<()> {
        self.tx(|tx| {
            let (eid, uid) = (entity_id(tx, entity, true)?, user_id(tx, username)?);
            keep_an_admin(other_admins(tx, eid, uid)?, role == Some(Role::Admin), entity, username)?;
            let Some(role) = role else {
                let n = tx
                    .execute("DELETE FROM memberships WHERE entity_id = $1 AND user_id = $2", &[&eid, &uid])
                    .map_err(db)?;
                if n == 0 {
                    return Err(StoreError::NotFound(format!("member {username} of {entity}")));
                }
                return Ok(());
            };
            set_member(tx, uid, eid, role)
        })
    }

    fn create_key_impl(&self, key: &NewKey) -> Result<NewApiKey> {
        let plain = generate_key()?;
        let prefix = key_prefix(&plain);
        let id = self.tx(|tx| {
            let uid = user_id(tx, &key.username)?;
            let eid = key.scope.entity.as_deref().map(|e| entity_id(tx, e, false)).transpose()?;
            let row = tx
                .query_one(
                    "INSERT INTO api_keys (user_id, hash, prefix, name, created_at, expires_at, read_only, \
                     ingest_only, entity_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    &[
                        &uid,
                        &hash_key(&plain),
                        &prefix,
                        &key.name,
                        &now(),
                        &key.expires_at,
                        &key.scope.read_only,
                        &key.scope.ingest_only,
                        &eid,
                    ],
                )
                .map_err(db)?;
            Ok(row.get::<_, i64>(0))
        })?;
        Ok(NewApiKey { key: plain, prefix, id })
    }

    fn revoke_key_impl(&self, username: Option<&str>, id: i64) -> Result<ApiKeyInfo> {
        self.tx(|tx| {
            let sql = format!("{KEY_QUERY} WHERE k.id = $1 AND ($2::text IS NULL OR u.username = $2) FOR UPDATE OF k");
            let info = tx
                .query_opt(&sql, &[&id, &username])
                .map_err(db)?
                .map(|r| key_row(&r))
                .ok_or_else(|| StoreError::NotFound(format!("API key {id}")))?;
            tx.execute("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2", &[&now(), &id])
                .map_err(db)?;
            Ok(info)
        })
    }

    fn authenticate_key_impl(&self, key: &str, at: f64) -> Result<Option<Principal>> {
        self.tx(|tx| {
            let Some((who, id, due)) = key_principal(tx, key, at)? else { return Ok(None) };
            if due {
                tx.execute("UPDATE api_keys SET last_used_at = $1 WHERE id = $2", &[&at, &id]).map_err(db)?;
            }
            Ok(Some(who))
        })
    }
}

impl AccountStore for PgStore {
    fn list_users(&self) -> Result<Vec<UserInfo>> {
        self.tx(|tx| {
            let sql = format!("SELECT {USER_COLUMNS} FROM {USER_FROM} ORDER BY u.username");
            Ok(tx.query(&sql, &[]).map_err(db)?.iter().map(user_row).collect())
        })
    }
    fn create_account(&self, user: &NewUser) -> Result<Principal> {
        self.create_account_impl(user)
    }
    fn update_user(&self, username: &str, patch: &UserPatch) -> Result<UserInfo> {
        self.update_user_impl(username, patch)
    }
    fn password_login(&self, username: &str) -> Result<Option<(i64, String)>> {
        self.tx(|tx| {
            let row = tx
                .query_opt(
                    "SELECT id, password_hash FROM users WHERE username = $1 AND active AND NOT service \
                     AND password_hash IS NOT NULL",
                    &[&username],
                )
                .map_err(db)?;
            Ok(row.map(|r| (r.get(0), r.get(1))))
        })
    }
    fn user_by_oidc(&self, subject: &str) -> Result<Option<String>> {
        self.tx(|tx| {
            let row = tx.query_opt("SELECT username FROM users WHERE oidc_subject = $1", &[&subject]).map_err(db)?;
            Ok(row.map(|r| r.get(0)))
        })
    }
    fn principal_of(&self, user_id: i64) -> Result<Option<Principal>> {
        self.tx(|tx| {
            let active = tx.query_opt("SELECT active FROM users WHERE id = $1", &[&user_id]).map_err(db)?;
            if !active.is_some_and(|r| r.get::<_, bool>(0)) {
                return Ok(None);
            }
            principal(tx, user_id).map(Some)
        })
    }
    fn principal_by_name(&self, username: &str) -> Result<Option<Principal>> {
        let id = self.tx(|tx| {
            Ok(tx.query_opt("SELECT id FROM users WHERE username = $1", &[&username]).map_err(db)?.map(|r| r.get(0)))
        })?;
        id.map_or(Ok(None), |id| self.principal_of(id))
    }
    fn list_teams(&self, who: &Principal) -> Result<Vec<TeamInfo>> {
        self.list_teams_impl(who)
    }
    fn list_members(&self, entity: &str) -> Result<Vec<MemberInfo>> {
        self.list_members_impl(entity)
    }
    fn remove_member(&self, entity: &str, username: &str) -> Result<()> {
        self.change_member(entity, username, None)
    }
    fn set_role(&self, entity: &str, username: &str, role: Role) -> Result<()> {
        self.change_member(entity, username, Some(role))
    }
    fn create_key(&self, key: &NewKey) -> Result<NewApiKey> {
        self.create_key_impl(key)
    }
    fn list_keys(&self, username: Option<&str>) -> Result<Vec<ApiKeyInfo>> {
        self.tx(|tx| {
            let sql = format!("{KEY_QUERY} WHERE $1::text IS NULL OR u.username = $1 ORDER BY k.id DESC");
            Ok(tx.query(&sql, &[&username]).map_err(db)?.iter().map(key_row).collect())
        })
    }
    fn revoke_key(&self, username: Option<&str>, id: i64) -> Result<ApiKeyInfo> {
        self.revoke_key_impl(username, id)
    }
    fn authenticate_key(&self, key: &str, now: f64) -> Result<Option<Principal>> {
        self.authenticate_key_impl(key, now)
    }
    fn create_invite(&self, entity: &str, role: Role, created_by: &str, expires_at: f64) -> Result<NewInvite> {
        self.create_invite_impl(entity, role, created_by, expires_at)
    }
    fn get_invite(&self, token: &str) -> Result<Option<InviteInfo>> {
        self.get_invite_impl(token)
    }
    fn list_invites(&self, entity: &str) -> Result<Vec<InviteInfo>> {
        self.list_invites_impl(entity)
    }
    fn accept_invite(&self, token: &str, username: &str, now: f64) -> Result<InviteInfo> {
        self.accept_invite_impl(token, username, now)
    }
    fn revoke_invite(&self, entity: &str, id: i64) -> Result<()> {
        self.revoke_invite_impl(entity, id)
    }
    fn create_session(&self, user_id: i64, expires_at: f64) -> Result<NewSession> {
        self.create_session_impl(user_id, expires_at)
    }
    fn session(&self, token: &str, now: f64) -> Result<Option<(Principal, String)>> {
        self.session_impl(token, now)
    }
    fn delete_session(&self, token: &str) -> Result<()> {
        self.delete_session_impl(token)
    }
    fn project_visibility(&self, entity: &str, project: &str) -> Result<Option<Visibility>> {
        self.project_visibility_impl(entity, project)
    }
    fn set_visibility(&self, entity: &str, project: &str, visibility: Visibility) -> Result<()> {
        self.set_visibility_impl(entity, project, visibility)
    }
    fn move_project(&self, entity: &str, project: &str, to_entity: &str) -> Result<()> {
        self.move_project_impl(entity, project, to_entity)
    }
    fn audit(&self, actor: Option<&str>, action: &str, target: Option<&str>, detail: &Json) -> Result<()> {
        self.audit_impl(actor, action, target, detail)
    }
    fn audit_log(&self, limit: u32, before: Option<i64>) -> Result<Vec<AuditEntry>> {
        self.audit_log_impl(limit, before)
    }
}
