//! Schemas of the report routes (routes/reports.rs): described here, serialised by the
//! handlers from `trackway_store`'s report types; the document itself is
//! `routes::reportdoc::ReportDoc`.

#![allow(dead_code)]

use utoipa::{IntoParams, ToSchema};

use super::VisibilityName;
use crate::routes::ReportDoc;

/// A report without its document.
#[derive(ToSchema)]
pub(crate) struct ReportInfo {
    id: i64,
    /// The entity (team or user) that owns it.
    entity: String,
    title: String,
    visibility: VisibilityName,
    /// Increases with every saved change of title or document.
    version: u64,
    created_by: String,
    updated_by: String,
    created_at: f64,
    updated_at: f64,
}

/// A report with its current document.
#[derive(ToSchema)]
pub(crate) struct ReportDocOut {
    id: i64,
    entity: String,
    title: String,
    visibility: VisibilityName,
    version: u64,
    created_by: String,
    updated_by: String,
    created_at: f64,
    updated_at: f64,
    doc: ReportDoc,
}

#[derive(ToSchema)]
pub(crate) struct ReportList {
    reports: Vec<ReportInfo>,
}

/// One kept version in a list (no document).
#[derive(ToSchema)]
pub(crate) struct ReportVersionInfo {
    version: u64,
    title: String,
    author: String,
    created_at: f64,
}

#[derive(ToSchema)]
pub(crate) struct ReportVersionList {
    versions: Vec<ReportVersionInfo>,
}

/// One kept version with its document.
#[derive(ToSchema)]
pub(crate) struct ReportVersionOut {
    version: u64,
    title: String,
    author: String,
    created_at: f64,
    doc: ReportDoc,
}

#[derive(ToSchema)]
pub(crate) struct ReportComment {
    id: i64,
    author: String,
    text: String,
    created_at: f64,
}

#[derive(ToSchema)]
pub(crate) struct ReportCommentList {
    comments: Vec<ReportComment>,
}

/// `{entity}` of the reports of an entity.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ReportsPath {
    entity: String,
}

/// `{entity}/{id}` of one report.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ReportPath {
    entity: String,
    /// The report's id.
    id: i64,
}

/// `{entity}/{id}/versions/{version}` of one kept version.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ReportVersionPath {
    entity: String,
    id: i64,
    version: u64,
}
