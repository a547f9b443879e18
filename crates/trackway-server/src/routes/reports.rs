//! Reports (docs/reports.md): documents of markdown blocks and live panels, owned by an entity,
//! versioned, commented, and readable by the project visibility rules (private: the entity's
//! members; team: any signed-in user; public: anyone with the link). Panels hold their run set
//! (project + filter) and the viewer's browser queries the chart and run routes with the
//! viewer's own credentials, so a report shows live data, and only from projects its reader may
//! read.
//!
//! Writing (create, save, restore, delete) needs write access to the entity (member or admin;
//! not viewers); commenting needs a membership (viewers included); visibility is the team
//! admin's, as for projects.

use axum::extract::State;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json_, json};
use trackway_store::{NewReport, Principal, Report, ReportEdit, ReportInfo, Visibility};

use crate::auth::{audit, check_access, check_team_admin, denied, visible};
use crate::extract::{JsonBody, Path};
use crate::{ApiError, ApiResult, AppState};

use super::reportdoc::ReportDoc;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateReportBody {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    title: String,
    doc: ReportDoc,
    /// `private` (the default: the entity's members), `team` or `public`.
    #[schema(value_type = Option<crate::openapi::VisibilityName>)]
    visibility: Option<Visibility>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SaveReportBody {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    title: String,
    doc: ReportDoc,
    /// The version the edit started from: a save over a newer version answers `409`.
    #[serde(default, deserialize_with = "crate::lenient::opt_u64")]
    base_version: Option<u64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportVisibilityBody {
    #[schema(value_type = crate::openapi::VisibilityName)]
    visibility: Visibility,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommentBody {
    #[schema(min_length = 1, max_length = 4000, pattern = r"\S")]
    text: String,
}

/// A report as the API answers it: the stored document parsed back into `doc`.
#[derive(Serialize)]
struct ReportOut {
    #[serde(flatten)]
    info: ReportInfo,
    doc: Json_,
}

fn report_json(r: Report) -> ApiResult<Json<Json_>> {
    let doc = serde_json::from_str(&r.body).map_err(ApiError::internal)?;
    let info = ReportInfo {
        id: r.id,
        entity: r.entity,
        title: r.title,
        visibility: r.visibility,
        version: r.version,
        created_by: r.created_by,
        updated_by: r.updated_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    };
    Ok(Json(serde_json::to_value(ReportOut { info, doc }).map_err(ApiError::internal)?))
}

/// Whether `who` may read a report of `entity` with `visibility`: the project rule.
fn may_read(who: &Principal, entity: &str, visibility: Visibility) -> bool {
    who.can_access(entity, false) || visible(who, entity, Some(visibility))
}

/// The report, if `who` may read it (`401` anonymous, `403` signed in, as for projects).
fn readable(state: &AppState, who: &Principal, entity: &str, id: i64) -> ApiResult<Report> {
    let r = state.reports.get_report(entity, id)?;
    if may_read(who, entity, r.visibility) { Ok(r) } else { Err(denied(who, &format!("read report {id} of {entity}"))) }
}

fn doc_text(doc: &ReportDoc) -> ApiResult<String> {
    doc.check()?;
    serde_json::to_string(doc).map_err(ApiError::internal)
}

#[utoipa::path(get, path = "/api/v1/reports/{entity}", operation_id = "listReports", tag = "reports",
    params(crate::openapi::ReportsPath),
    responses((status = 200, description = "The entity's reports the caller may read, most recently updated first", body = crate::openapi::ReportList)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(entity): Path<String>,
) -> ApiResult<Json<Json_>> {
    let reports = state.blocking(move |s| Ok(s.reports.list_reports(&entity)?)).await?;
    let reports: Vec<ReportInfo> = reports.into_iter().filter(|r| may_read(&who, &r.entity, r.visibility)).collect();
    Ok(Json(json!({ "reports": reports })))
}

#[utoipa::path(post, path = "/api/v1/reports/{entity}", operation_id = "createReport", tag = "reports",
    params(crate::openapi::ReportsPath), request_body = CreateReportBody,
    responses((status = 200, description = "The new report (version 1)", body = crate::openapi::ReportDocOut)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(entity): Path<String>,
    JsonBody(body): JsonBody<CreateReportBody>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, true)?;
    let new = NewReport {
        entity,
        title: body.title,
        body: doc_text(&body.doc)?,
        author: who.username.clone(),
        visibility: body.visibility.unwrap_or(Visibility::Private),
    };
    let r = state.blocking(move |s| Ok(s.reports.create_report(&new)?)).await?;
    tracing::debug!(id = r.id, entity = %r.entity, "report created");
    report_json(r)
}

#[utoipa::path(get, path = "/api/v1/reports/{entity}/{id}", operation_id = "getReport", tag = "reports",
    params(crate::openapi::ReportPath),
    responses((status = 200, description = "The report with its current document", body = crate::openapi::ReportDocOut)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, id)): Path<(String, i64)>,
) -> ApiResult<Json<Json_>> {
    report_json(state.blocking(move |s| readable(s, &who, &entity, id)).await?)
}

#[utoipa::path(put, path = "/api/v1/reports/{entity}/{id}", operation_id = "saveReport", tag = "reports",
    params(crate::openapi::ReportPath), request_body = SaveReportBody,
    responses((status = 200, description = "The report at its new version (unchanged content keeps the version)", body = crate::openapi::ReportDocOut)))]
pub(crate) async fn save(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, id)): Path<(String, i64)>,
    JsonBody(body): JsonBody<SaveReportBody>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, true)?;
    let edit = ReportEdit {
        title: body.title,
        body: doc_text(&body.doc)?,
        author: who.username.clone(),
        base_version: body.base_version,
    };
    report_json(state.blocking(move |s| Ok(s.reports.update_report(&entity, id, &edit)?)).await?)
}

#[utoipa::path(delete, path = "/api/v1/reports/{entity}/{id}", operation_id = "deleteReport", tag = "reports",
    params(crate::openapi::ReportPath),
    responses((status = 200, description = "Deleted with its versions and comments", body = crate::openapi::Deleted)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, id)): Path<(String, i64)>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, true)?;
    state
        .blocking(move |s| {
            s.reports.delete_report(&entity, id)?;
            audit(s, Some(&who), "report.delete", &format!("{entity}/reports/{id}"), json!({}));
            Ok(())
        })
        .await?;
    Ok(Json(json!({ "deleted": true })))
}

#[utoipa::path(put, path = "/api/v1/reports/{entity}/{id}/visibility", operation_id = "setReportVisibility", tag = "reports",
    params(crate::openapi::ReportPath), request_body = ReportVisibilityBody,
    responses((status = 200, description = "The report with its new visibility", body = crate::openapi::ReportDocOut)))]
pub(crate) async fn set_visibility(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, id)): Path<(String, i64)>,
    JsonBody(body): JsonBody<ReportVisibilityBody>,
) -> ApiResult<Json<Json_>> {
    check_team_admin(&who, &entity)?;
    let v = body.visibility;
    let r = state
        .blocking(move |s| {
            let r = s.reports.set_report_visibility(&entity, id, v)?;
            audit(s, Some(&who), "report.visibility", &format!("{entity}/reports/{id}"), json!({"visibility": v}));
            Ok(r)
        })
        .await?;
    report_json(r)
}

#[utoipa::path(get, path = "/api/v1/reports/{entity}/{id}/versions", operation_id = "listReportVersions", tag = "reports",
    params(crate::openapi::ReportPath),
    responses((status = 200, description = "The kept versions, newest first (without documents)", body = crate::openapi::ReportVersionList)))]
pub(crate) async fn versions(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, id)): Path<(String, i64)>,
) -> ApiResult<Json<Json_>> {
    let versions = state
        .blocking(move |s| {
            readable(s, &who, &entity, id)?;
            Ok(s.reports.report_versions(&entity, id)?)
        })
        .await?;
    Ok(Json(json!({ "versions": versions })))
}

#[utoipa::path(get, path = "/api/v1/reports/{entity}/{id}/versions/{version}", operation_id = "getReportVersion", tag = "reports",
    params(crate::openapi::ReportVersionPath),
    responses((status = 200, description = "One kept version with its document", body = crate::openapi::ReportVersionOut)))]
pub(crate) async fn version(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, id, version)): Path<(String, i64, u64)>,
) -> ApiResult<Json<Json_>> {
    let v = state
        .blocking(move |s| {
            readable(s, &who, &entity, id)?;
            Ok(s.reports.report_version(&entity, id, version)?)
        })
        .await?;
    let doc: Json_ = serde_json::from_str(&v.body).map_err(ApiError::internal)?;
    Ok(Json(
        json!({"version": v.version, "title": v.title, "author": v.author, "created_at": v.created_at, "doc": doc}),
    ))
}

#[utoipa::path(post, path = "/api/v1/reports/{entity}/{id}/versions/{version}/restore", operation_id = "restoreReportVersion", tag = "reports",
    params(crate::openapi::ReportVersionPath),
    responses((status = 200, description = "The report with the old version's content as its newest version", body = crate::openapi::ReportDocOut)))]
pub(crate) async fn restore(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, id, version)): Path<(String, i64, u64)>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, true)?;
    let author = who.username.clone();
    report_json(state.blocking(move |s| Ok(s.reports.restore_report_version(&entity, id, version, &author)?)).await?)
}

#[utoipa::path(get, path = "/api/v1/reports/{entity}/{id}/comments", operation_id = "listReportComments", tag = "reports",
    params(crate::openapi::ReportPath),
    responses((status = 200, description = "Comments, oldest first", body = crate::openapi::ReportCommentList)))]
pub(crate) async fn comments(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, id)): Path<(String, i64)>,
) -> ApiResult<Json<Json_>> {
    let comments = state
        .blocking(move |s| {
            readable(s, &who, &entity, id)?;
            Ok(s.reports.report_comments(&entity, id)?)
        })
        .await?;
    Ok(Json(json!({ "comments": comments })))
}

#[utoipa::path(post, path = "/api/v1/reports/{entity}/{id}/comments", operation_id = "addReportComment", tag = "reports",
    params(crate::openapi::ReportPath), request_body = CommentBody,
    responses((status = 200, description = "The new comment", body = crate::openapi::ReportComment)))]
pub(crate) async fn comment(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, id)): Path<(String, i64)>,
    JsonBody(body): JsonBody<CommentBody>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, false)?;
    let author = who.username.clone();
    let c = state.blocking(move |s| Ok(s.reports.add_report_comment(&entity, id, &author, &body.text)?)).await?;
    Ok(Json(serde_json::to_value(c).map_err(ApiError::internal)?))
}
