//! [`ViewStore`] on PostgreSQL (table `views`, migration 0003): the SQLite store's rules
//! (`trackway_store::views`: name and size checks, the per-user cap) around PostgreSQL SQL.
//!
//! Several replicas may save views of one project at once: each save takes a transaction-level
//! advisory lock on the project, so the per-user cap and the single project default hold across
//! replicas (the partial unique index on the default is the backstop).

use postgres::{GenericClient, Row};
use trackway_store::views::{NewView, SavedView, ViewStore, check_view_count, validate_view};
use trackway_store::{Result, StoreError};

use crate::meta::{PgStore, db, now};

const COLS: &str = "id, entity, project, owner, name, state, shared, is_default, created_at, updated_at";

fn view_row(r: &Row) -> SavedView {
    SavedView {
        id: r.get(0),
        entity: r.get(1),
        project: r.get(2),
        owner: r.get(3),
        name: r.get(4),
        state: r.get(5),
        shared: r.get(6),
        default: r.get(7),
        created_at: r.get(8),
        updated_at: r.get(9),
    }
}

/// Serialises view writes of one project across connections and replicas until commit.
fn lock_project(c: &mut impl GenericClient, entity: &str, project: &str) -> Result<()> {
    c.execute("SELECT pg_advisory_xact_lock(hashtextextended($1::text || '/' || $2::text, 6))", &[&entity, &project])
        .map_err(db)?;
    Ok(())
}

impl ViewStore for PgStore {
    fn save_view(&self, v: &NewView) -> Result<SavedView> {
        validate_view(v)?;
        self.tx(|tx| {
            lock_project(tx, &v.entity, &v.project)?;
            let existing = tx
                .query_opt(
                    "SELECT id FROM views WHERE entity = $1 AND project = $2 AND owner = $3 AND name = $4",
                    &[&v.entity, &v.project, &v.owner, &v.name],
                )
                .map_err(db)?;
            if existing.is_none() {
                let n: i64 = tx
                    .query_one(
                        "SELECT count(*) FROM views WHERE entity = $1 AND project = $2 AND owner = $3",
                        &[&v.entity, &v.project, &v.owner],
                    )
                    .map_err(db)?
                    .get(0);
                check_view_count(n.unsigned_abs())?;
            }
            if v.default {
                tx.execute(
                    "UPDATE views SET is_default = FALSE WHERE entity = $1 AND project = $2 AND is_default",
                    &[&v.entity, &v.project],
                )
                .map_err(db)?;
            }
            let sql = format!(
                "INSERT INTO views (entity, project, owner, name, state, shared, is_default, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                 ON CONFLICT (entity, project, owner, name) DO UPDATE SET \
                   state = excluded.state, shared = excluded.shared OR views.is_default, \
                   is_default = excluded.is_default OR views.is_default, updated_at = excluded.updated_at \
                 RETURNING {COLS}"
            );
            let row = tx
                .query_one(
                    &sql,
                    &[&v.entity, &v.project, &v.owner, &v.name, &v.state, &(v.shared || v.default), &v.default, &now()],
                )
                .map_err(db)?;
            Ok(view_row(&row))
        })
    }

    fn list_views(&self, entity: &str, project: &str, viewer: &str) -> Result<Vec<SavedView>> {
        self.tx(|tx| {
            let sql = format!(
                "SELECT {COLS} FROM views WHERE entity = $1 AND project = $2 AND (owner = $3 OR shared) \
                 ORDER BY is_default DESC, name, owner LIMIT 1000"
            );
            Ok(tx.query(&sql, &[&entity, &project, &viewer]).map_err(db)?.iter().map(view_row).collect())
        })
    }

    fn get_view(&self, entity: &str, project: &str, id: i64, viewer: &str) -> Result<SavedView> {
        self.tx(|tx| {
            let sql = format!(
                "SELECT {COLS} FROM views WHERE id = $1 AND entity = $2 AND project = $3 AND (owner = $4 OR shared)"
            );
            tx.query_opt(&sql, &[&id, &entity, &project, &viewer])
                .map_err(db)?
                .map(|r| view_row(&r))
                .ok_or_else(|| StoreError::NotFound(format!("view {id}")))
        })
    }

    fn delete_view(&self, entity: &str, project: &str, id: i64, viewer: &str) -> Result<()> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "DELETE FROM views WHERE id = $1 AND entity = $2 AND project = $3 AND owner = $4",
                    &[&id, &entity, &project, &viewer],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("view {id}")));
            }
            Ok(())
        })
    }
}
