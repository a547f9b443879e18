//! Invites, cookie sessions, project visibility and the audit log on PostgreSQL (the second half
//! of [`trackway_store::AccountStore`]; see `accounts`).

use postgres::{GenericClient, Row};
use trackway_store::backend::{generate_key, hash_key};
use trackway_store::{
    AuditEntry, InviteInfo, MAX_AUDIT_PAGE, NewInvite, NewSession, Principal, Result, Role, StoreError, Visibility,
    check_invite_open, invite_keeps_role,
};

use crate::accounts::entity_id;
use crate::meta::auth::{principal, set_member, user_id};
use crate::meta::runs::project_id;
use crate::meta::{PgStore, db, now};

const INVITE_FROM: &str = "SELECT i.id, e.name, i.role, c.username, i.created_at, i.expires_at, a.username, \
     i.revoked_at IS NOT NULL FROM invites i JOIN entities e ON e.id = i.entity_id \
     JOIN users c ON c.id = i.created_by LEFT JOIN users a ON a.id = i.accepted_by";

fn invite_row(r: &Row) -> InviteInfo {
    InviteInfo {
        id: r.get(0),
        entity: r.get(1),
        role: Role::parse(r.get(2)).unwrap_or(Role::Viewer),
        created_by: r.get(3),
        created_at: r.get(4),
        expires_at: r.get(5),
        accepted_by: r.get(6),
        revoked: r.get(7),
    }
}

fn invite_by_hash(c: &mut impl GenericClient, hash: &str) -> Result<Option<InviteInfo>> {
    Ok(c.query_opt(&format!("{INVITE_FROM} WHERE i.hash = $1"), &[&hash]).map_err(db)?.map(|r| invite_row(&r)))
}

fn project_of(c: &mut impl GenericClient, entity: &str, project: &str) -> Result<i64> {
    project_id(c, entity, project)?.ok_or_else(|| StoreError::ProjectNotFound(format!("{entity}/{project}")))
}

impl PgStore {
    pub(crate) fn create_invite_impl(&self, entity: &str, role: Role, by: &str, expires_at: f64) -> Result<NewInvite> {
        let token = generate_key()?;
        let hash = hash_key(&token);
        let info = self.tx(|tx| {
            let (eid, uid) = (entity_id(tx, entity, false)?, user_id(tx, by)?);
            tx.execute(
                "INSERT INTO invites (hash, entity_id, role, created_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&hash, &eid, &role.as_str(), &uid, &now(), &expires_at],
            )
            .map_err(db)?;
            invite_by_hash(tx, &hash)?.ok_or_else(|| StoreError::NotFound("invite".into()))
        })?;
        Ok(NewInvite { token, info })
    }

    pub(crate) fn get_invite_impl(&self, token: &str) -> Result<Option<InviteInfo>> {
        self.tx(|tx| invite_by_hash(tx, &hash_key(token)))
    }

    pub(crate) fn list_invites_impl(&self, entity: &str) -> Result<Vec<InviteInfo>> {
        self.tx(|tx| {
            let eid = entity_id(tx, entity, false)?;
            let sql = format!("{INVITE_FROM} WHERE i.entity_id = $1 ORDER BY i.id DESC");
            Ok(tx.query(&sql, &[&eid]).map_err(db)?.iter().map(invite_row).collect())
        })
    }

    /// The invite's row is locked before it is checked, so of two replicas accepting the same
    /// invite at once, the second finds it used.
    pub(crate) fn accept_invite_impl(&self, token: &str, username: &str, at: f64) -> Result<InviteInfo> {
        let hash = hash_key(token);
        self.tx(|tx| {
            let locked = tx.query_opt("SELECT id FROM invites WHERE hash = $1 FOR UPDATE", &[&hash]).map_err(db)?;
            if locked.is_none() {
                return Err(StoreError::NotFound("invite".into()));
            }
            let invite = invite_by_hash(tx, &hash)?.ok_or_else(|| StoreError::NotFound("invite".into()))?;
            check_invite_open(&invite, at)?;
            let (eid, uid) = (entity_id(tx, &invite.entity, false)?, user_id(tx, username)?);
            tx.execute("UPDATE invites SET accepted_by = $1, accepted_at = $2 WHERE hash = $3", &[&uid, &at, &hash])
                .map_err(db)?;
            let current = tx
                .query_opt("SELECT role FROM memberships WHERE user_id = $1 AND entity_id = $2", &[&uid, &eid])
                .map_err(db)?;
            if !invite_keeps_role(current.as_ref().and_then(|r| Role::parse(r.get(0))), invite.role) {
                set_member(tx, uid, eid, invite.role)?;
            }
            invite_by_hash(tx, &hash)?.ok_or_else(|| StoreError::NotFound("invite".into()))
        })
    }

    pub(crate) fn revoke_invite_impl(&self, entity: &str, id: i64) -> Result<()> {
        self.tx(|tx| {
            let eid = entity_id(tx, entity, false)?;
            let n = tx
                .execute(
                    "UPDATE invites SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND entity_id = $3",
                    &[&now(), &id, &eid],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("invite {id}")));
            }
            Ok(())
        })
    }

    pub(crate) fn create_session_impl(&self, user_id: i64, expires_at: f64) -> Result<NewSession> {
        let (token, csrf) = (generate_key()?, generate_key()?);
        self.tx(|tx| {
            // Expired sessions are swept here, so the table stays bounded by live sessions.
            tx.execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now()]).map_err(db)?;
            tx.execute(
                "INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                &[&hash_key(&token), &user_id, &csrf, &now(), &expires_at],
            )
            .map_err(db)?;
            Ok(())
        })?;
        Ok(NewSession { token, csrf, expires_at })
    }

    pub(crate) fn session_impl(&self, token: &str, at: f64) -> Result<Option<(Principal, String)>> {
        self.tx(|tx| {
            let row = tx
                .query_opt(
                    "SELECT s.user_id, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id \
                     WHERE s.hash = $1 AND s.expires_at > $2 AND u.active",
                    &[&hash_key(token), &at],
                )
                .map_err(db)?;
            row.map(|r| Ok((principal(tx, r.get(0))?, r.get(1)))).transpose()
        })
    }

    pub(crate) fn delete_session_impl(&self, token: &str) -> Result<()> {
        self.tx(|tx| {
            tx.execute("DELETE FROM sessions WHERE hash = $1", &[&hash_key(token)]).map_err(db)?;
            Ok(())
        })
    }

    pub(crate) fn project_visibility_impl(&self, entity: &str, project: &str) -> Result<Option<Visibility>> {
        self.tx(|tx| {
            let row = tx
                .query_opt(
                    "SELECT p.visibility FROM projects p JOIN entities e ON e.id = p.entity_id \
                     WHERE e.name = $1 AND p.name = $2",
                    &[&entity, &project],
                )
                .map_err(db)?;
            Ok(row.map(|r| Visibility::parse(r.get(0)).unwrap_or(Visibility::Private)))
        })
    }

    pub(crate) fn set_visibility_impl(&self, entity: &str, project: &str, visibility: Visibility) -> Result<()> {
        self.tx(|tx| {
            let id = project_of(tx, entity, project)?;
            tx.execute("UPDATE projects SET visibility = $1 WHERE id = $2", &[&visibility.as_str(), &id])
                .map_err(db)?;
            Ok(())
        })
    }

    pub(crate) fn move_project_impl(&self, entity: &str, project: &str, to: &str) -> Result<()> {
        let taken = || StoreError::AlreadyExists(format!("project {to}/{project}"));
        self.tx(|tx| {
            let id = project_of(tx, entity, project)?;
            let target = entity_id(tx, to, false)?;
            if project_id(tx, to, project)?.is_some() {
                return Err(taken());
            }
            // A project created there by another replica meanwhile trips the unique key.
            tx.execute("UPDATE projects SET entity_id = $1 WHERE id = $2", &[&target, &id]).map_err(|e| {
                if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) { taken() } else { db(e) }
            })?;
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
        self.tx(|tx| {
            tx.execute(
                "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
                &[&now(), &actor, &action, &target, &detail],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    pub(crate) fn audit_log_impl(&self, limit: u32, before: Option<i64>) -> Result<Vec<AuditEntry>> {
        let limit = i64::from(limit.min(MAX_AUDIT_PAGE));
        self.tx(|tx| {
            let rows = tx
                .query(
                    "SELECT id, at, actor, action, target, detail FROM audit_log \
                     WHERE $1::bigint IS NULL OR id < $1 ORDER BY id DESC LIMIT $2",
                    &[&before, &limit],
                )
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    Ok(AuditEntry {
                        id: r.get(0),
                        at: r.get(1),
                        actor: r.get(2),
                        action: r.get(3),
                        target: r.get(4),
                        detail: serde_json::from_str(r.get::<_, &str>(5))?,
                    })
                })
                .collect()
        })
    }
}
