//! [`AccountStore`] for SQLite: users, members and scoped keys here; invites, sessions,
//! visibility and the audit log in `access`.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::auth::{ensure_entity, generate_key, hash_key, key_prefix, principal, user_id, valid_name};
use super::{SqliteStore, now};
use crate::{
    AccountStore, ApiKeyInfo, AuditEntry, InviteInfo, KeyScope, MemberInfo, NewApiKey, NewInvite, NewKey, NewSession,
    NewUser, Principal, Result, Role, StoreError, TeamInfo, UserInfo, UserPatch, Visibility, keep_an_admin,
    last_used_due, scoped_principal,
};

const USER_COLUMNS: &str = "u.username, COALESCE(e.name, u.username), u.admin, u.active, u.service, \
     u.password_hash IS NOT NULL, u.oidc_subject IS NOT NULL, u.created_at";

fn user_row(r: &Row<'_>) -> rusqlite::Result<UserInfo> {
    Ok(UserInfo {
        username: r.get(0)?,
        entity: r.get(1)?,
        admin: r.get(2)?,
        active: r.get(3)?,
        service: r.get(4)?,
        has_password: r.get(5)?,
        sso: r.get(6)?,
        created_at: r.get(7)?,
    })
}

fn user_info(c: &Connection, username: &str) -> Result<UserInfo> {
    let sql =
        format!("SELECT {USER_COLUMNS} FROM users u LEFT JOIN entities e ON e.id = u.entity_id WHERE u.username = ?1");
    c.query_row(&sql, [username], user_row).optional()?.ok_or_else(|| StoreError::NotFound(format!("user {username}")))
}

pub(super) fn entity_id(c: &Connection, entity: &str) -> Result<i64> {
    c.query_row("SELECT id FROM entities WHERE name = ?1", [entity], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("entity {entity}")))
}

const KEY_COLUMNS: &str = "k.id, u.username, k.prefix, k.name, k.created_at, k.expires_at, k.last_used_at, \
     k.revoked_at, k.read_only, k.ingest_only, e.name";

fn key_row(r: &Row<'_>) -> rusqlite::Result<ApiKeyInfo> {
    Ok(ApiKeyInfo {
        id: r.get(0)?,
        username: r.get(1)?,
        prefix: r.get(2)?,
        name: r.get(3)?,
        created_at: r.get(4)?,
        expires_at: r.get(5)?,
        last_used_at: r.get(6)?,
        revoked_at: r.get(7)?,
        scope: KeyScope { read_only: r.get(8)?, ingest_only: r.get(9)?, entity: r.get(10)? },
    })
}

fn key_query(filter: &str) -> String {
    format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k JOIN users u ON u.id = k.user_id \
         LEFT JOIN entities e ON e.id = k.entity_id {filter}"
    )
}

/// Admins an entity has, other than `except` (the user being removed or demoted).
fn other_admins(c: &Connection, entity_id: i64, except: i64) -> Result<i64> {
    Ok(c.query_row(
        "SELECT count(*) FROM memberships WHERE entity_id = ?1 AND role = 'admin' AND user_id != ?2",
        params![entity_id, except],
        |r| r.get(0),
    )?)
}

/// `(key id, user id, read_only, ingest_only, scoped entity, last used)` of a live key.
type KeyRow = (i64, i64, bool, bool, Option<String>, Option<f64>);

impl SqliteStore {
    fn key_principal(c: &Connection, key: &str, at: f64) -> Result<Option<(Principal, i64, Option<f64>)>> {
        let row: Option<KeyRow> = c
            .prepare_cached(
                "SELECT k.id, k.user_id, k.read_only, k.ingest_only, e.name, k.last_used_at FROM api_keys k \
                 JOIN users u ON u.id = k.user_id LEFT JOIN entities e ON e.id = k.entity_id \
                 WHERE k.hash = ?1 AND k.revoked_at IS NULL AND u.active = 1 \
                 AND (k.expires_at IS NULL OR k.expires_at > ?2)",
            )?
            .query_row(params![hash_key(key), at], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
            })
            .optional()?;
        let Some((id, user, read_only, ingest_only, entity, last_used)) = row else { return Ok(None) };
        let who = scoped_principal(principal(c, user)?, KeyScope { read_only, ingest_only, entity });
        Ok(Some((who, id, last_used)))
    }
}

impl AccountStore for SqliteStore {
    fn list_users(&self) -> Result<Vec<UserInfo>> {
        self.read(|c| {
            let sql = format!(
                "SELECT {USER_COLUMNS} FROM users u LEFT JOIN entities e ON e.id = u.entity_id ORDER BY u.username"
            );
            let mut stmt = c.prepare(&sql)?;
            Ok(stmt.query_map([], user_row)?.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn create_account(&self, user: &NewUser) -> Result<Principal> {
        if !valid_name(&user.username) {
            return Err(StoreError::Invalid(format!("invalid user name {:?}", user.username)));
        }
        self.write(|tx| {
            let taken =
                tx.query_row("SELECT 1 FROM entities WHERE name = ?1", [&user.username], |_| Ok(())).optional()?;
            if taken.is_some() {
                return Err(StoreError::AlreadyExists(format!("user or team {}", user.username)));
            }
            let entity_id = ensure_entity(tx, &user.username, "user")?;
            tx.execute(
                "INSERT INTO users (username, admin, entity_id, created_at, service, password_hash, oidc_subject) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    user.username,
                    user.admin,
                    entity_id,
                    now(),
                    user.service,
                    user.password_hash,
                    user.oidc_subject
                ],
            )?;
            let user_id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO memberships (user_id, entity_id, role) VALUES (?1, ?2, 'admin')",
                params![user_id, entity_id],
            )?;
            principal(tx, user_id)
        })
    }

    fn update_user(&self, username: &str, patch: &UserPatch) -> Result<UserInfo> {
        self.write(|tx| {
            let id = user_id(tx, username)?;
            if let Some(active) = patch.active {
                tx.execute("UPDATE users SET active = ?1 WHERE id = ?2", params![active, id])?;
                if !active {
                    tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
                }
            }
            if let Some(admin) = patch.admin {
                tx.execute("UPDATE users SET admin = ?1 WHERE id = ?2", params![admin, id])?;
            }
            if let Some(hash) = &patch.password_hash {
                tx.execute("UPDATE users SET password_hash = ?1 WHERE id = ?2", params![hash, id])?;
            }
            user_info(tx, username)
        })
    }

    fn password_login(&self, username: &str) -> Result<Option<(i64, String)>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT id, password_hash FROM users WHERE username = ?1 AND active = 1 AND service = 0 \
                 AND password_hash IS NOT NULL",
                [username],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })
    }

    fn user_by_oidc(&self, subject: &str) -> Result<Option<String>> {
        self.read(|c| {
            Ok(c.query_row("SELECT username FROM users WHERE oidc_subject = ?1", [subject], |r| r.get(0)).optional()?)
        })
    }

    fn principal_of(&self, user_id: i64) -> Result<Option<Principal>> {
        self.read(|c| {
            let active: Option<bool> =
                c.query_row("SELECT active FROM users WHERE id = ?1", [user_id], |r| r.get(0)).optional()?;
            if active != Some(true) {
                return Ok(None);
            }
            principal(c, user_id).map(Some)
        })
    }

    fn principal_by_name(&self, username: &str) -> Result<Option<Principal>> {
        let id: Option<i64> = self.read(|c| {
            Ok(c.query_row("SELECT id FROM users WHERE username = ?1", [username], |r| r.get(0)).optional()?)
        })?;
        id.map_or(Ok(None), |id| self.principal_of(id))
    }

    fn list_teams(&self, who: &Principal) -> Result<Vec<TeamInfo>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT e.name, e.kind, (SELECT role FROM memberships WHERE entity_id = e.id AND user_id = ?1), \
                 (SELECT count(*) FROM memberships WHERE entity_id = e.id) FROM entities e \
                 WHERE ?2 OR EXISTS (SELECT 1 FROM memberships WHERE entity_id = e.id AND user_id = ?1) ORDER BY e.name",
            )?;
            let rows = stmt.query_map(params![who.user_id, who.admin], |r| {
                let role: Option<String> = r.get(2)?;
                Ok(TeamInfo { name: r.get(0)?, kind: r.get(1)?, role: role.as_deref().and_then(Role::parse), members: r.get::<_, i64>(3)?.unsigned_abs() })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn list_members(&self, entity: &str) -> Result<Vec<MemberInfo>> {
        self.read(|c| {
            let id = entity_id(c, entity)?;
            let mut stmt = c.prepare(
                "SELECT u.username, m.role, u.active FROM memberships m JOIN users u ON u.id = m.user_id \
                 WHERE m.entity_id = ?1 ORDER BY u.username",
            )?;
            let rows = stmt.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (username, role, active) = row?;
                let role = Role::parse(&role).ok_or_else(|| StoreError::Invalid(format!("stored role {role:?}")))?;
                out.push(MemberInfo { username, role, active });
            }
            Ok(out)
        })
    }

    fn remove_member(&self, entity: &str, username: &str) -> Result<()> {
        self.write(|tx| {
            let (eid, uid) = (entity_id(tx, entity)?, user_id(tx, username)?);
            keep_an_admin(other_admins(tx, eid, uid)?, false, entity, username)?;
            let n = tx.execute("DELETE FROM memberships WHERE entity_id = ?1 AND user_id = ?2", params![eid, uid])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("member {username} of {entity}")));
            }
            Ok(())
        })
    }

    fn set_role(&self, entity: &str, username: &str, role: Role) -> Result<()> {
        self.write(|tx| {
            let (eid, uid) = (entity_id(tx, entity)?, user_id(tx, username)?);
            keep_an_admin(other_admins(tx, eid, uid)?, role == Role::Admin, entity, username)?;
            tx.execute(
                "INSERT OR REPLACE INTO memberships (user_id, entity_id, role) VALUES (?1, ?2, ?3)",
                params![uid, eid, role.as_str()],
            )?;
            Ok(())
        })
    }

    fn create_key(&self, key: &NewKey) -> Result<NewApiKey> {
        let plain = generate_key()?;
        let prefix = key_prefix(&plain);
        let id = self.write(|tx| {
            let uid = user_id(tx, &key.username)?;
            let eid = key.scope.entity.as_deref().map(|e| entity_id(tx, e)).transpose()?;
            tx.execute(
                "INSERT INTO api_keys (user_id, hash, prefix, name, created_at, expires_at, read_only, ingest_only, entity_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![uid, hash_key(&plain), prefix, key.name, now(), key.expires_at, key.scope.read_only, key.scope.ingest_only, eid],
            )?;
            Ok(tx.last_insert_rowid())
        })?;
        Ok(NewApiKey { key: plain, prefix, id })
    }

    fn list_keys(&self, username: Option<&str>) -> Result<Vec<ApiKeyInfo>> {
        self.read(|c| {
            let mut stmt = c.prepare(&key_query("WHERE ?1 IS NULL OR u.username = ?1 ORDER BY k.id DESC"))?;
            Ok(stmt.query_map([username], key_row)?.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn revoke_key(&self, username: Option<&str>, id: i64) -> Result<ApiKeyInfo> {
        self.write(|tx| {
            let sql = key_query("WHERE k.id = ?1 AND (?2 IS NULL OR u.username = ?2)");
            let info = tx
                .query_row(&sql, params![id, username], key_row)
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("API key {id}")))?;
            tx.execute("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2", params![now(), id])?;
            Ok(info)
        })
    }

    fn authenticate_key(&self, key: &str, at: f64) -> Result<Option<Principal>> {
        let Some((who, id, last_used)) = self.read(|c| Self::key_principal(c, key, at))? else { return Ok(None) };
        if last_used_due(last_used, at) {
            self.write(|tx| Ok(tx.execute("UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2", params![at, id])?))?;
        }
        Ok(Some(who))
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

    fn accept_invite(&self, token: &str, username: &str, at: f64) -> Result<InviteInfo> {
        self.accept_invite_impl(token, username, at)
    }

    fn revoke_invite(&self, entity: &str, id: i64) -> Result<()> {
        self.revoke_invite_impl(entity, id)
    }

    fn create_session(&self, user_id: i64, expires_at: f64) -> Result<NewSession> {
        self.create_session_impl(user_id, expires_at)
    }

    fn session(&self, token: &str, at: f64) -> Result<Option<(Principal, String)>> {
        self.session_impl(token, at)
    }

    fn delete_session(&self, token: &str) -> Result<()> {
        self.write(|tx| Ok(tx.execute("DELETE FROM sessions WHERE hash = ?1", [hash_key(token)]).map(|_| ())?))
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

    fn audit(&self, actor: Option<&str>, action: &str, target: Option<&str>, detail: &serde_json::Value) -> Result<()> {
        self.audit_impl(actor, action, target, detail)
    }

    fn audit_log(&self, limit: u32, before: Option<i64>) -> Result<Vec<AuditEntry>> {
        self.audit_log_impl(limit, before)
    }
}
