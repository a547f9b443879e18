//! Saved workspace views ([`crate::ViewStore`]) in the `views` table.

use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteStore, now};
use crate::views::{NewView, SavedView, ViewStore, check_view_count, validate_view};
use crate::{Result, StoreError};

const COLS: &str = "id, entity, project, owner, name, state, shared, is_default, created_at, updated_at";

fn view_row(r: &Row<'_>) -> rusqlite::Result<SavedView> {
    Ok(SavedView {
        id: r.get(0)?,
        entity: r.get(1)?,
        project: r.get(2)?,
        owner: r.get(3)?,
        name: r.get(4)?,
        state: r.get(5)?,
        shared: r.get(6)?,
        default: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

impl ViewStore for SqliteStore {
    fn save_view(&self, v: &NewView) -> Result<SavedView> {
        validate_view(v)?;
        self.write(|tx| {
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT id FROM views WHERE entity = ?1 AND project = ?2 AND owner = ?3 AND name = ?4",
                    params![v.entity, v.project, v.owner, v.name],
                    |r| r.get(0),
                )
                .optional()?;
            if existing.is_none() {
                let n: i64 = tx.query_row(
                    "SELECT count(*) FROM views WHERE entity = ?1 AND project = ?2 AND owner = ?3",
                    params![v.entity, v.project, v.owner],
                    |r| r.get(0),
                )?;
                check_view_count(n.unsigned_abs())?;
            }
            if v.default {
                tx.execute(
                    "UPDATE views SET is_default = 0 WHERE entity = ?1 AND project = ?2",
                    params![v.entity, v.project],
                )?;
            }
            let t = now();
            tx.execute(
                "INSERT INTO views (entity, project, owner, name, state, shared, is_default, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
                 ON CONFLICT (entity, project, owner, name) DO UPDATE SET
                   state = excluded.state, shared = excluded.shared OR views.is_default,
                   is_default = excluded.is_default OR views.is_default, updated_at = excluded.updated_at",
                params![v.entity, v.project, v.owner, v.name, v.state, v.shared || v.default, v.default, t],
            )?;
            let sql =
                format!("SELECT {COLS} FROM views WHERE entity = ?1 AND project = ?2 AND owner = ?3 AND name = ?4");
            Ok(tx.query_row(&sql, params![v.entity, v.project, v.owner, v.name], view_row)?)
        })
    }

    fn list_views(&self, entity: &str, project: &str, viewer: &str) -> Result<Vec<SavedView>> {
        self.read(|c| {
            let sql = format!(
                "SELECT {COLS} FROM views WHERE entity = ?1 AND project = ?2 AND (owner = ?3 OR shared)
                 ORDER BY is_default DESC, name, owner LIMIT 1000"
            );
            let mut st = c.prepare(&sql)?;
            let rows = st.query_map(params![entity, project, viewer], view_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn get_view(&self, entity: &str, project: &str, id: i64, viewer: &str) -> Result<SavedView> {
        self.read(|c| {
            let sql = format!(
                "SELECT {COLS} FROM views WHERE id = ?1 AND entity = ?2 AND project = ?3 AND (owner = ?4 OR shared)"
            );
            c.query_row(&sql, params![id, entity, project, viewer], view_row)
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("view {id}")))
        })
    }

    fn delete_view(&self, entity: &str, project: &str, id: i64, viewer: &str) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute(
                "DELETE FROM views WHERE id = ?1 AND entity = ?2 AND project = ?3 AND owner = ?4",
                params![id, entity, project, viewer],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("view {id}")));
            }
            Ok(())
        })
    }
}
