//! Reports ([`ReportStore`]) on PostgreSQL: the SQLite store's tables (migrations/0003_reports.sql)
//! and the same backend-neutral checks (`trackway_store::reports`), passing the same conformance
//! suite. The report row is locked (`FOR UPDATE`) before an edit reads its version, so two
//! replicas saving at once cannot both build on the same version.

use postgres::{GenericClient, Row};
use trackway_store::reports::{
    MAX_COMMENTS_PER_REPORT, MAX_REPORT_VERSIONS, MAX_REPORTS_PER_ENTITY, edit_changes, validate_comment,
    validate_report,
};
use trackway_store::{
    NewReport, Report, ReportComment, ReportEdit, ReportInfo, ReportStore, ReportVersion, Result, StoreError,
    Visibility,
};

use crate::PgStore;
use crate::meta::{db, now};

const COLS: &str = "id, entity, title, body, visibility, version, created_by, updated_by, created_at, updated_at";
const INFO_COLS: &str = "id, entity, title, visibility, version, created_by, updated_by, created_at, updated_at";

fn version(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn vis(text: &str) -> Visibility {
    Visibility::parse(text).unwrap_or(Visibility::Private)
}

fn report_row(r: &Row) -> Report {
    Report {
        id: r.get(0),
        entity: r.get(1),
        title: r.get(2),
        body: r.get(3),
        visibility: vis(r.get(4)),
        version: version(r.get(5)),
        created_by: r.get(6),
        updated_by: r.get(7),
        created_at: r.get(8),
        updated_at: r.get(9),
    }
}

fn info_row(r: &Row) -> ReportInfo {
    ReportInfo {
        id: r.get(0),
        entity: r.get(1),
        title: r.get(2),
        visibility: vis(r.get(3)),
        version: version(r.get(4)),
        created_by: r.get(5),
        updated_by: r.get(6),
        created_at: r.get(7),
        updated_at: r.get(8),
    }
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound(format!("report {id}"))
}

/// The report, locked for this transaction when `lock`.
fn load(c: &mut impl GenericClient, entity: &str, id: i64, lock: bool) -> Result<Report> {
    let sql =
        format!("SELECT {COLS} FROM reports WHERE id = $1 AND entity = $2{}", if lock { " FOR UPDATE" } else { "" });
    c.query_opt(&sql, &[&id, &entity]).map_err(db)?.map(|r| report_row(&r)).ok_or_else(|| not_found(id))
}

fn add_version(
    c: &mut impl GenericClient,
    id: i64,
    v: u64,
    title: &str,
    body: &str,
    author: &str,
    t: f64,
) -> Result<()> {
    c.execute(
        "INSERT INTO report_versions (report_id, version, title, body, author, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&id, &signed(v), &title, &body, &author, &t],
    )
    .map_err(db)?;
    let oldest_dropped = signed(v.saturating_sub(MAX_REPORT_VERSIONS));
    c.execute("DELETE FROM report_versions WHERE report_id = $1 AND version <= $2", &[&id, &oldest_dropped])
        .map_err(db)?;
    Ok(())
}

fn version_row(r: &Row, with_body: bool) -> ReportVersion {
    ReportVersion {
        version: version(r.get("version")),
        title: r.get("title"),
        body: if with_body { r.get("body") } else { String::new() },
        author: r.get("author"),
        created_at: r.get("created_at"),
    }
}

impl ReportStore for PgStore {
    fn create_report(&self, r: &NewReport) -> Result<Report> {
        validate_report(&r.title, &r.body)?;
        self.tx(|tx| {
            let n: i64 = tx.query_one("SELECT count(*) FROM reports WHERE entity = $1", &[&r.entity]).map_err(db)?.get(0);
            if version(n) >= MAX_REPORTS_PER_ENTITY {
                return Err(StoreError::Limit(format!("an entity holds at most {MAX_REPORTS_PER_ENTITY} reports")));
            }
            let t = now();
            let id: i64 = tx
                .query_one(
                    "INSERT INTO reports (entity, title, body, visibility, version, created_by, updated_by, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, 1, $5, $5, $6, $6) RETURNING id",
                    &[&r.entity, &r.title, &r.body, &r.visibility.as_str(), &r.author, &t],
                )
                .map_err(db)?
                .get(0);
            add_version(tx, id, 1, &r.title, &r.body, &r.author, t)?;
            load(tx, &r.entity, id, false)
        })
    }

    fn update_report(&self, entity: &str, id: i64, e: &ReportEdit) -> Result<Report> {
        validate_report(&e.title, &e.body)?;
        self.tx(|tx| {
            let current = load(tx, entity, id, true)?;
            if !edit_changes(&current, e)? {
                return Ok(current);
            }
            let (t, v) = (now(), current.version + 1);
            tx.execute(
                "UPDATE reports SET title = $1, body = $2, version = $3, updated_by = $4, updated_at = $5 WHERE id = $6",
                &[&e.title, &e.body, &signed(v), &e.author, &t, &id],
            )
            .map_err(db)?;
            add_version(tx, id, v, &e.title, &e.body, &e.author, t)?;
            load(tx, entity, id, false)
        })
    }

    fn set_report_visibility(&self, entity: &str, id: i64, v: Visibility) -> Result<Report> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE reports SET visibility = $1 WHERE id = $2 AND entity = $3",
                    &[&v.as_str(), &id, &entity],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(not_found(id));
            }
            load(tx, entity, id, false)
        })
    }

    fn list_reports(&self, entity: &str) -> Result<Vec<ReportInfo>> {
        self.tx(|tx| {
            let sql = format!("SELECT {INFO_COLS} FROM reports WHERE entity = $1 ORDER BY updated_at DESC, id DESC");
            Ok(tx.query(&sql, &[&entity]).map_err(db)?.iter().map(info_row).collect())
        })
    }

    fn get_report(&self, entity: &str, id: i64) -> Result<Report> {
        self.tx(|tx| load(tx, entity, id, false))
    }

    fn report_versions(&self, entity: &str, id: i64) -> Result<Vec<ReportVersion>> {
        self.tx(|tx| {
            load(tx, entity, id, false)?;
            let rows = tx
                .query(
                    "SELECT version, title, author, created_at FROM report_versions WHERE report_id = $1 ORDER BY version DESC",
                    &[&id],
                )
                .map_err(db)?;
            Ok(rows.iter().map(|r| version_row(r, false)).collect())
        })
    }

    fn report_version(&self, entity: &str, id: i64, v: u64) -> Result<ReportVersion> {
        self.tx(|tx| {
            load(tx, entity, id, false)?;
            tx.query_opt(
                "SELECT version, title, body, author, created_at FROM report_versions WHERE report_id = $1 AND version = $2",
                &[&id, &signed(v)],
            )
            .map_err(db)?
            .map(|r| version_row(&r, true))
            .ok_or_else(|| StoreError::NotFound(format!("version {v} of report {id}")))
        })
    }

    fn delete_report(&self, entity: &str, id: i64) -> Result<()> {
        self.tx(|tx| {
            load(tx, entity, id, true)?;
            // Versions and comments go with the row (ON DELETE CASCADE).
            tx.execute("DELETE FROM reports WHERE id = $1", &[&id]).map_err(db)?;
            Ok(())
        })
    }

    fn add_report_comment(&self, entity: &str, id: i64, author: &str, text: &str) -> Result<ReportComment> {
        validate_comment(text)?;
        self.tx(|tx| {
            load(tx, entity, id, true)?;
            let n: i64 =
                tx.query_one("SELECT count(*) FROM report_comments WHERE report_id = $1", &[&id]).map_err(db)?.get(0);
            if version(n) >= MAX_COMMENTS_PER_REPORT {
                return Err(StoreError::Limit(format!("a report holds at most {MAX_COMMENTS_PER_REPORT} comments")));
            }
            let t = now();
            let cid: i64 = tx
                .query_one(
                    "INSERT INTO report_comments (report_id, author, text, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                    &[&id, &author, &text, &t],
                )
                .map_err(db)?
                .get(0);
            Ok(ReportComment { id: cid, author: author.to_owned(), text: text.to_owned(), created_at: t })
        })
    }

    fn report_comments(&self, entity: &str, id: i64) -> Result<Vec<ReportComment>> {
        self.tx(|tx| {
            load(tx, entity, id, false)?;
            let rows = tx
                .query(
                    "SELECT id, author, text, created_at FROM report_comments WHERE report_id = $1 ORDER BY id",
                    &[&id],
                )
                .map_err(db)?;
            Ok(rows
                .iter()
                .map(|r| ReportComment { id: r.get(0), author: r.get(1), text: r.get(2), created_at: r.get(3) })
                .collect())
        })
    }
}
