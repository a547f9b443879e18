//! Invites, cookie sessions, project visibility and the audit log (SQLite).

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::accounts::entity_id;
use super::auth::{generate_key, hash_key, principal, user_id};
use super::runs::project_id;
use super::{SqliteStore, now};
use crate::{
    AuditEntry, InviteInfo, MAX_AUDIT_PAGE, NewInvite, NewSession, Principal, Result, Role, StoreError, Visibility,
    check_invite_open, invite_keeps_role,
};

const INVITE_FROM: &str = "SELECT i.id, e.name, i.role, c.username, i.created_at, i.expires_at, a.username, \
     i.revoked_at IS NOT NULL FROM invites i JOIN entities e ON e.id = i.entity_id \
     JOIN users c ON c.id = i.created_by LEFT JOIN users a ON a.id = i.accepted_by";

fn invite_row(r: &Row<'_>) -> rusqlite::Result<InviteInfo> {
    let role: String = r.get(2)?;
    Ok(InviteInfo {
        id: r.get(0)?,
        entity: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        created_by: r.get(3)?,
        created_at: r.get(4)?,
        expires_at: r.get(5)?,
        accepted_by: r.get(6)?,
        revoked: r.get(7)?,
    })
}

fn invite_by_hash(c: &Connection, hash: &str) -> Result<Option<InviteInfo>> {
    Ok(c.query_row(&format!("{INVITE_FROM} WHERE i.hash = ?1"), [hash], invite_row).optional()?)
}

impl SqliteStore {
    pub(crate) fn create_invite_impl(&self, entity: &str, role: Role, by: &str, expires_at: f64) -> Result<NewInvite> {
        let token = generate_key()?;
        let hash = hash_key(&token);
        let info = self.write(|tx| {
            let (eid, uid) = (entity_id(tx, entity)?, user_id(tx, by)?);
            tx.execute(
                "INSERT INTO invites (hash, entity_id, role, created_by, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![hash, eid, role.as_str(), uid, now(), expires_at],
            )?;
            invite_by_hash(tx, &hash)?.ok_or_else(|| StoreError::NotFound("invite".into()))
        })?;
        Ok(NewInvite { token, info })
    }

    pub(crate) fn get_invite_impl(&self, token: &str) -> Result<Option<InviteInfo>> {
        self.read(|c| invite_by_hash(c, &hash_key(token)))
    }

    pub(crate) fn list_invites_impl(&self, entity: &str) -> Result<Vec<InviteInfo>> {
        self.read(|c| {
            let eid = entity_id(c, entity)?;
            let mut stmt = c.prepare(&format!("{INVITE_FROM} WHERE i.entity_id = ?1 ORDER BY i.id DESC"))?;
            Ok(stmt.query_map([eid], invite_row)?.collect::<Result<Vec<_>, _>>()?)
        })
    }

    pub(crate) fn accept_invite_impl(&self, token: &str, username: &str, at: f64) -> Result<InviteInfo> {
        let hash = hash_key(token);
        self.write(|tx| {
            let invite = invite_by_hash(tx, &hash)?.ok_or_else(|| StoreError::NotFound("invite".into()))?;
            check_invite_open(&invite, at)?;
            let (eid, uid) = (entity_id(tx, &invite.entity)?, user_id(tx, username)?);
            tx.execute(
                "UPDATE invites SET accepted_by = ?1, accepted_at = ?2 WHERE hash = ?3",
                params![uid, at, hash],
            )?;
            let current: Option<String> = tx
                .query_row(
                    "SELECT role FROM memberships WHERE user_id = ?1 AND entity_id = ?2",
                    params![uid, eid],
                    |r| r.get(0),
                )
                .optional()?;
            if !invite_keeps_role(current.as_deref().and_then(Role::parse), invite.role) {
                tx.execute(
                    "INSERT OR REPLACE INTO memberships (user_id, entity_id, role) VALUES (?1, ?2, ?3)",
                    params![uid, eid, invite.role.as_str()],
                )?;
            }
            invite_by_hash(tx, &hash)?.ok_or_else(|| StoreError::NotFound("invite".into()))
        })
    }

    pub(crate) fn revoke_invite_impl(&self, entity: &str, id: i64) -> Result<()> {
        self.write(|tx| {
            let eid = entity_id(tx, entity)?;
            let n = tx.execute(
                "UPDATE invites SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2 AND entity_id = ?3",
                params![now(), id, eid],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("invite {id}")));
            }
            Ok(())
        })
    }

    pub(crate) fn create_session_impl(&self, user_id: i64, expires_at: f64) -> Result<NewSession> {
        let (token, csrf) = (generate_key()?, generate_key()?);
        self.write(|tx| {
            // Expired sessions are swept here, so the table stays bounded by live sessions.
            tx.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now()])?;
            tx.execute(
                "INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![hash_key(&token), user_id, csrf, now(), expires_at],
            )?;
            Ok(())
        })?;
        Ok(NewSession { token, csrf, expires_at })
    }

    pub(crate) fn session_impl(&self, token: &str, at: f64) -> Result<Option<(Principal, String)>> {
        self.read(|c| {
            let row: Option<(i64, String)> = c
                .query_row(
                    "SELECT s.user_id, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id \
                     WHERE s.hash = ?1 AND s.expires_at > ?2 AND u.active = 1",
                    params![hash_key(token), at],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            row.map(|(uid, csrf)| Ok((principal(c, uid)?, csrf))).transpose()
        })
    }

    pub(crate) fn project_visibility_impl(&self, entity: &str, project: &str) -> Result<Option<Visibility>> {
        self.read(|c| {
            let v: Option<String> = c
                .query_row(
                    "SELECT p.visibility FROM projects p JOIN entities e ON e.id = p.entity_id \
                     WHERE e.name = ?1 AND p.name = ?2",
                    params![entity, project],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(v.as_deref().map(|v| Visibility::parse(v).unwrap_or(Visibility::Private)))
        })
    }

    pub(crate) fn set_visibility_impl(&self, entity: &str, project: &str, visibility: Visibility) -> Result<()> {
        self.write(|tx| {
            let id = project_id(tx, entity, project)?
                .ok_or_else(|| StoreError::ProjectNotFound(format!("{entity}/{project}")))?;
            tx.execute("UPDATE projects SET visibility = ?1 WHERE id = ?2", params![visibility.as_str(), id])?;
            Ok(())
        })
    }

    pub(crate) fn move_project_impl(&self, entity: &str, project: &str, to: &str) -> Result<()> {
        self.write(|tx| {
            let id = project_id(tx, entity, project)?
                .ok_or_else(|| StoreError::ProjectNotFound(format!("{entity}/{project}")))?;
            let target = entity_id(tx, to)?;
            if project_id(tx, to, project)?.is_some() {
                return Err(StoreError::AlreadyExists(format!("project {to}/{project}")));
            }
            tx.execute("UPDATE projects SET entity_id = ?1 WHERE id = ?2", params![target, id])?;
            Ok(())
        })
    }

    pub(crate) fn audit_impl(
        &self,
        actor: Option<&str>,
        action: &str,
        target: Option<&str>,
        detail: &serde_json::Value,
    ) -> Result<()> {
        let detail = serde_json::to_string(detail)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![now(), actor, action, target, detail],
            )?;
            Ok(())
        })
    }

    pub(crate) fn audit_log_impl(&self, limit: u32, before: Option<i64>) -> Result<Vec<AuditEntry>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, at, actor, action, target, detail FROM audit_log WHERE ?1 IS NULL OR id < ?1 \
                 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![before, limit.min(MAX_AUDIT_PAGE)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get::<_, String>(5)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, at, actor, action, target, detail) = row?;
                out.push(AuditEntry { id, at, actor, action, target, detail: serde_json::from_str(&detail)? });
            }
            Ok(out)
        })
    }
}
