//! Reports ([`crate::ReportStore`]) in the `reports`, `report_versions` and `report_comments`
//! tables.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::{SqliteStore, now};
use crate::reports::{
    MAX_COMMENTS_PER_REPORT, MAX_REPORT_VERSIONS, MAX_REPORTS_PER_ENTITY, NewReport, Report, ReportComment, ReportEdit,
    ReportInfo, ReportStore, ReportVersion, edit_changes, validate_comment, validate_report,
};
use crate::{Result, StoreError, Visibility};

const COLS: &str = "id, entity, title, body, visibility, version, created_by, updated_by, created_at, updated_at";
const INFO_COLS: &str = "id, entity, title, visibility, version, created_by, updated_by, created_at, updated_at";

fn unsigned(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn visibility(r: &Row<'_>, i: usize) -> rusqlite::Result<Visibility> {
    let text: String = r.get(i)?;
    Ok(Visibility::parse(&text).unwrap_or(Visibility::Private))
}

fn report_row(r: &Row<'_>) -> rusqlite::Result<Report> {
    Ok(Report {
        id: r.get(0)?,
        entity: r.get(1)?,
        title: r.get(2)?,
        body: r.get(3)?,
        visibility: visibility(r, 4)?,
        version: unsigned(r.get(5)?),
        created_by: r.get(6)?,
        updated_by: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

fn info_row(r: &Row<'_>) -> rusqlite::Result<ReportInfo> {
    Ok(ReportInfo {
        id: r.get(0)?,
        entity: r.get(1)?,
        title: r.get(2)?,
        visibility: visibility(r, 3)?,
        version: unsigned(r.get(4)?),
        created_by: r.get(5)?,
        updated_by: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound(format!("report {id}"))
}

fn load(c: &rusqlite::Connection, entity: &str, id: i64) -> Result<Report> {
    let sql = format!("SELECT {COLS} FROM reports WHERE id = ?1 AND entity = ?2");
    c.query_row(&sql, params![id, entity], report_row).optional()?.ok_or_else(|| not_found(id))
}

/// Appends version `version` and drops those beyond [`MAX_REPORT_VERSIONS`].
fn add_version(
    tx: &Transaction<'_>,
    id: i64,
    version: u64,
    title: &str,
    body: &str,
    author: &str,
    t: f64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO report_versions (report_id, version, title, body, author, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, signed(version), title, body, author, t],
    )?;
    tx.execute(
        "DELETE FROM report_versions WHERE report_id = ?1 AND version <= ?2",
        params![id, signed(version.saturating_sub(MAX_REPORT_VERSIONS))],
    )?;
    Ok(())
}

impl ReportStore for SqliteStore {
    fn create_report(&self, r: &NewReport) -> Result<Report> {
        validate_report(&r.title, &r.body)?;
        self.write(|tx| {
            let n: i64 = tx.query_row("SELECT count(*) FROM reports WHERE entity = ?1", [&r.entity], |row| row.get(0))?;
            if unsigned(n) >= MAX_REPORTS_PER_ENTITY {
                return Err(StoreError::Limit(format!("an entity holds at most {MAX_REPORTS_PER_ENTITY} reports")));
            }
            let t = now();
            tx.execute(
                "INSERT INTO reports (entity, title, body, visibility, version, created_by, updated_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5, ?6, ?6)",
                params![r.entity, r.title, r.body, r.visibility.as_str(), r.author, t],
            )?;
            let id = tx.last_insert_rowid();
            add_version(tx, id, 1, &r.title, &r.body, &r.author, t)?;
            load(tx, &r.entity, id)
        })
    }

    fn update_report(&self, entity: &str, id: i64, e: &ReportEdit) -> Result<Report> {
        validate_report(&e.title, &e.body)?;
        self.write(|tx| {
            let current = load(tx, entity, id)?;
            if !edit_changes(&current, e)? {
                return Ok(current);
            }
            let (t, version) = (now(), current.version + 1);
            tx.execute(
                "UPDATE reports SET title = ?1, body = ?2, version = ?3, updated_by = ?4, updated_at = ?5 WHERE id = ?6",
                params![e.title, e.body, signed(version), e.author, t, id],
            )?;
            add_version(tx, id, version, &e.title, &e.body, &e.author, t)?;
            load(tx, entity, id)
        })
    }

    fn set_report_visibility(&self, entity: &str, id: i64, v: Visibility) -> Result<Report> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE reports SET visibility = ?1 WHERE id = ?2 AND entity = ?3",
                params![v.as_str(), id, entity],
            )?;
            if n == 0 {
                return Err(not_found(id));
            }
            load(tx, entity, id)
        })
    }

    fn list_reports(&self, entity: &str) -> Result<Vec<ReportInfo>> {
        self.read(|c| {
            let sql = format!("SELECT {INFO_COLS} FROM reports WHERE entity = ?1 ORDER BY updated_at DESC, id DESC");
            let mut st = c.prepare(&sql)?;
            let rows = st.query_map([entity], info_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn get_report(&self, entity: &str, id: i64) -> Result<Report> {
        self.read(|c| load(c, entity, id))
    }

    fn report_versions(&self, entity: &str, id: i64) -> Result<Vec<ReportVersion>> {
        self.read(|c| {
            load(c, entity, id)?;
            let mut st = c.prepare(
                "SELECT version, title, author, created_at FROM report_versions WHERE report_id = ?1 ORDER BY version DESC",
            )?;
            let rows = st.query_map([id], |r| {
                Ok(ReportVersion { version: unsigned(r.get(0)?), title: r.get(1)?, body: String::new(), author: r.get(2)?, created_at: r.get(3)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn report_version(&self, entity: &str, id: i64, version: u64) -> Result<ReportVersion> {
        self.read(|c| {
            load(c, entity, id)?;
            c.query_row(
                "SELECT version, title, body, author, created_at FROM report_versions WHERE report_id = ?1 AND version = ?2",
                params![id, signed(version)],
                |r| Ok(ReportVersion { version: unsigned(r.get(0)?), title: r.get(1)?, body: r.get(2)?, author: r.get(3)?, created_at: r.get(4)? }),
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("version {version} of report {id}")))
        })
    }

    fn delete_report(&self, entity: &str, id: i64) -> Result<()> {
        self.write(|tx| {
            load(tx, entity, id)?;
            tx.execute("DELETE FROM report_comments WHERE report_id = ?1", [id])?;
            tx.execute("DELETE FROM report_versions WHERE report_id = ?1", [id])?;
            tx.execute("DELETE FROM reports WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    fn add_report_comment(&self, entity: &str, id: i64, author: &str, text: &str) -> Result<ReportComment> {
        validate_comment(text)?;
        self.write(|tx| {
            load(tx, entity, id)?;
            let n: i64 =
                tx.query_row("SELECT count(*) FROM report_comments WHERE report_id = ?1", [id], |r| r.get(0))?;
            if unsigned(n) >= MAX_COMMENTS_PER_REPORT {
                return Err(StoreError::Limit(format!("a report holds at most {MAX_COMMENTS_PER_REPORT} comments")));
            }
            let t = now();
            tx.execute(
                "INSERT INTO report_comments (report_id, author, text, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, author, text, t],
            )?;
            Ok(ReportComment {
                id: tx.last_insert_rowid(),
                author: author.to_owned(),
                text: text.to_owned(),
                created_at: t,
            })
        })
    }

    fn report_comments(&self, entity: &str, id: i64) -> Result<Vec<ReportComment>> {
        self.read(|c| {
            load(c, entity, id)?;
            let mut st =
                c.prepare("SELECT id, author, text, created_at FROM report_comments WHERE report_id = ?1 ORDER BY id")?;
            let rows = st.query_map([id], |r| {
                Ok(ReportComment { id: r.get(0)?, author: r.get(1)?, text: r.get(2)?, created_at: r.get(3)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}
