//! Reports: documents of markdown blocks and live panels (docs/reports.md), owned by an entity,
//! saved with a version history and readable by the same visibility rules as projects
//! (private: the entity's members; team: every signed-in user; public: anyone with the link).
//!
//! The store keeps a report's document as opaque JSON text: its structure (blocks, panels, run
//! sets) is the server's to check, so every backend stores the same bytes. [`ReportStore`] is
//! backend-neutral; SQLite implements it in `sqlite/reports.rs`, PostgreSQL in
//! `trackway-postgres`, and both run the `report_store_conformance!` cases.

use serde::Serialize;

use crate::{Result, StoreError, Visibility};

/// Longest report title (characters).
pub const MAX_REPORT_TITLE: usize = 200;
/// Largest stored document (bytes): a few hundred blocks of text and panel settings.
pub const MAX_REPORT_BODY: usize = 256 * 1024;
/// Versions kept per report; older ones are dropped as new ones arrive (autosave writes many).
pub const MAX_REPORT_VERSIONS: u64 = 200;
/// Reports one entity holds.
pub const MAX_REPORTS_PER_ENTITY: u64 = 10_000;
/// Longest comment (characters) and most comments per report.
pub const MAX_COMMENT_LEN: usize = 4000;
pub const MAX_COMMENTS_PER_REPORT: u64 = 1000;

/// A report to create (version 1).
#[derive(Clone, Debug)]
pub struct NewReport {
    pub entity: String,
    pub title: String,
    pub body: String,
    pub author: String,
    pub visibility: Visibility,
}

/// A change of title and document, saved as a new version.
#[derive(Clone, Debug)]
pub struct ReportEdit {
    pub title: String,
    pub body: String,
    pub author: String,
    /// The version the editor started from: a save over a newer version (someone else's edit
    /// in between) is refused with `Conflict` instead of silently dropping that edit. `None`
    /// overwrites whatever is current.
    pub base_version: Option<u64>,
}

/// A stored report with its current document.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    pub id: i64,
    pub entity: String,
    pub title: String,
    pub body: String,
    pub visibility: Visibility,
    pub version: u64,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: f64,
    pub updated_at: f64,
}

/// A report in a list: everything but the document.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReportInfo {
    pub id: i64,
    pub entity: String,
    pub title: String,
    pub visibility: Visibility,
    pub version: u64,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: f64,
    pub updated_at: f64,
}

/// One saved version (`body` is empty in version lists).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReportVersion {
    pub version: u64,
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub body: String,
    pub author: String,
    pub created_at: f64,
}

/// A comment on a report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReportComment {
    pub id: i64,
    pub author: String,
    pub text: String,
    pub created_at: f64,
}

/// Storage of reports. Each method is one transaction; access rules are the server's.
pub trait ReportStore: Send + Sync + 'static {
    /// Creates a report at version 1.
    fn create_report(&self, report: &NewReport) -> Result<Report>;
    /// Saves a new version (`Conflict` when `base_version` is not the current one). An edit
    /// equal to the current version stores nothing and returns the report as it is.
    fn update_report(&self, entity: &str, id: i64, edit: &ReportEdit) -> Result<Report>;
    fn set_report_visibility(&self, entity: &str, id: i64, visibility: Visibility) -> Result<Report>;
    /// The entity's reports, most recently updated first.
    fn list_reports(&self, entity: &str) -> Result<Vec<ReportInfo>>;
    fn get_report(&self, entity: &str, id: i64) -> Result<Report>;
    /// The kept versions, newest first, without their documents.
    fn report_versions(&self, entity: &str, id: i64) -> Result<Vec<ReportVersion>>;
    fn report_version(&self, entity: &str, id: i64, version: u64) -> Result<ReportVersion>;
    /// Deletes the report with its versions and comments.
    fn delete_report(&self, entity: &str, id: i64) -> Result<()>;
    fn add_report_comment(&self, entity: &str, id: i64, author: &str, text: &str) -> Result<ReportComment>;
    /// Comments, oldest first.
    fn report_comments(&self, entity: &str, id: i64) -> Result<Vec<ReportComment>>;

    /// Makes an old version current again, as a new version (history is never rewritten).
    fn restore_report_version(&self, entity: &str, id: i64, version: u64, author: &str) -> Result<Report> {
        let old = self.report_version(entity, id, version)?;
        let edit = ReportEdit { title: old.title, body: old.body, author: author.to_owned(), base_version: None };
        self.update_report(entity, id, &edit)
    }
}

/// The checks every backend applies to a title and document before storing them.
///
/// # Errors
/// `Invalid` for an empty or over-long title or a document that is not a JSON object, `Limit`
/// for an over-large document.
pub fn validate_report(title: &str, body: &str) -> Result<()> {
    if title.trim().is_empty() || title.chars().count() > MAX_REPORT_TITLE {
        return Err(StoreError::Invalid(format!(
            "a report title has 1 to {MAX_REPORT_TITLE} characters, not all blank"
        )));
    }
    if body.len() > MAX_REPORT_BODY {
        return Err(StoreError::Limit(format!("a report document holds at most {MAX_REPORT_BODY} bytes")));
    }
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(StoreError::Invalid("a report document is a JSON object".into())),
    }
}

/// The check every backend applies to a comment.
///
/// # Errors
/// `Invalid` for an empty or over-long comment.
pub fn validate_comment(text: &str) -> Result<()> {
    if text.trim().is_empty() || text.chars().count() > MAX_COMMENT_LEN {
        return Err(StoreError::Invalid(format!("a comment has 1 to {MAX_COMMENT_LEN} characters, not all blank")));
    }
    Ok(())
}

/// What a backend decides for an edit given the current version: `Ok(false)` when the edit
/// changes nothing (no version is written).
///
/// # Errors
/// `Conflict` when the editor's base version is not the current one.
pub fn edit_changes(current: &Report, edit: &ReportEdit) -> Result<bool> {
    if let Some(base) = edit.base_version
        && base != current.version
    {
        return Err(StoreError::Conflict(format!(
            "report {} is at version {}, not {base}: reload it and apply your change again",
            current.id, current.version
        )));
    }
    Ok(current.title != edit.title || current.body != edit.body)
}
