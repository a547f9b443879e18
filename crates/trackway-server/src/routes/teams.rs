//! Teams, their members and invites, and project visibility and moves (docs/teams.md).

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use trackway_store::{Principal, Role, Visibility};

use crate::auth::{audit, check_access, check_read, check_team_admin, now};
use crate::extract::{JsonBody, Path};
use crate::{ApiError, ApiResult, AppState};

/// Longest invite lifetime that can be asked for (90 days).
const MAX_INVITE_LIFETIME_S: f64 = 90.0 * 86400.0;

fn to_json<T: serde::Serialize>(v: &T) -> ApiResult<Json<Json_>> {
    Ok(Json(serde_json::to_value(v).map_err(ApiError::internal)?))
}

/// A change refused because of the team's state (its last admin) is a conflict, not bad input.
fn conflict(e: trackway_store::StoreError) -> ApiError {
    match e {
        trackway_store::StoreError::Invalid(m) => ApiError::Conflict(m),
        e => e.into(),
    }
}

fn role(text: &str) -> ApiResult<Role> {
    Role::parse(text).ok_or_else(|| ApiError::BadRequest(format!("role {text:?}: expected admin, member or viewer")))
}

#[utoipa::path(get, path = "/api/v1/teams", operation_id = "listTeams", tag = "teams",
    responses((status = 200, description = "The caller's teams and personal entity (every entity for server admins)", body = Vec<crate::openapi::Team>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> ApiResult<Json<Json_>> {
    to_json(&state.blocking(move |s| Ok(s.accounts.list_teams(&who)?)).await?)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTeamBody {
    #[schema(pattern = "^[A-Za-z0-9_.-]{1,64}$")]
    name: String,
}

#[utoipa::path(post, path = "/api/v1/teams", operation_id = "createTeam", tag = "teams", request_body = CreateTeamBody,
    responses((status = 200, description = "The new team; the caller is its admin", body = crate::openapi::Team)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    JsonBody(body): JsonBody<CreateTeamBody>,
) -> ApiResult<Json<Json_>> {
    if who.scope.entity.is_some() {
        return Err(ApiError::Forbidden("an entity-scoped key cannot create teams".into()));
    }
    let team = state
        .blocking(move |s| {
            s.store.create_team(&body.name, &who.username)?;
            audit(s, Some(&who), "team.create", &body.name, json!({}));
            let who = s.accounts.principal_of(who.user_id)?.unwrap_or(who);
            Ok(s.accounts.list_teams(&who)?.into_iter().find(|t| t.name == body.name))
        })
        .await?;
    to_json(&team)
}

#[utoipa::path(get, path = "/api/v1/teams/{team}/members", operation_id = "listMembers", tag = "teams",
    params(crate::openapi::TeamPath), responses((status = 200, description = "The team's members", body = Vec<crate::openapi::Member>)))]
pub(crate) async fn members(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(team): Path<String>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &team, false)?;
    to_json(&state.blocking(move |s| Ok(s.accounts.list_members(&team)?)).await?)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberBody {
    #[schema(value_type = crate::openapi::RoleName)]
    role: String,
}

#[utoipa::path(put, path = "/api/v1/teams/{team}/members/{username}", operation_id = "setMember", tag = "teams",
    params(crate::openapi::MemberPath), request_body = MemberBody,
    responses((status = 200, description = "The team's members after the change", body = Vec<crate::openapi::Member>)))]
pub(crate) async fn set_member(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((team, username)): Path<(String, String)>,
    JsonBody(body): JsonBody<MemberBody>,
) -> ApiResult<Json<Json_>> {
    check_team_admin(&who, &team)?;
    let role = role(&body.role)?;
    let members = state
        .blocking(move |s| {
            s.accounts.set_role(&team, &username, role).map_err(conflict)?;
            audit(s, Some(&who), "member.set", &format!("{team}/{username}"), json!({"role": role}));
            Ok(s.accounts.list_members(&team)?)
        })
        .await?;
    to_json(&members)
}

#[utoipa::path(delete, path = "/api/v1/teams/{team}/members/{username}", operation_id = "removeMember", tag = "teams",
    params(crate::openapi::MemberPath), responses((status = 204, description = "The member is removed")))]
pub(crate) async fn remove_member(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((team, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    // Anyone may leave a team; removing others takes a team admin.
    if username != who.username || who.scope.read_only {
        check_team_admin(&who, &team)?;
    }
    state
        .blocking(move |s| {
            s.accounts.remove_member(&team, &username).map_err(conflict)?;
            audit(s, Some(&who), "member.remove", &format!("{team}/{username}"), json!({}));
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/teams/{team}/invites", operation_id = "listInvites", tag = "teams",
    params(crate::openapi::TeamPath), responses((status = 200, description = "The team's invites (never their secrets)", body = Vec<crate::openapi::Invite>)))]
pub(crate) async fn invites(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(team): Path<String>,
) -> ApiResult<Json<Json_>> {
    check_team_admin(&who, &team)?;
    to_json(&state.blocking(move |s| Ok(s.accounts.list_invites(&team)?)).await?)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InviteBody {
    #[schema(value_type = crate::openapi::RoleName)]
    role: String,
    /// Seconds the link stays valid (default: the server's invite lifetime, 7 days).
    #[schema(exclusive_minimum = 0.0, maximum = 7_776_000.0)]
    expires_in: Option<f64>,
}

#[utoipa::path(post, path = "/api/v1/teams/{team}/invites", operation_id = "createInvite", tag = "teams",
    params(crate::openapi::TeamPath), request_body = InviteBody,
    responses((status = 200, description = "The invite; its link is shown only now", body = crate::openapi::CreatedInvite)))]
pub(crate) async fn create_invite(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(team): Path<String>,
    JsonBody(body): JsonBody<InviteBody>,
) -> ApiResult<Json<Json_>> {
    check_team_admin(&who, &team)?;
    let role = role(&body.role)?;
    let ttl = body.expires_in.unwrap_or(state.auth.invite_ttl.as_secs_f64());
    if !(ttl > 0.0 && ttl <= MAX_INVITE_LIFETIME_S) {
        return Err(ApiError::BadRequest(format!("expires_in is 1 to {MAX_INVITE_LIFETIME_S} seconds")));
    }
    let base = state.public_url.clone().unwrap_or_default();
    let invite = state
        .blocking(move |s| {
            let invite = s.accounts.create_invite(&team, role, &who.username, now() + ttl)?;
            audit(s, Some(&who), "invite.create", &team, json!({"id": invite.info.id, "role": role}));
            Ok(invite)
        })
        .await?;
    let url = format!("{base}/invite/{}", invite.token);
    Ok(Json(json!({"token": invite.token, "url": url, "info": invite.info})))
}

#[utoipa::path(delete, path = "/api/v1/teams/{team}/invites/{id}", operation_id = "revokeInvite", tag = "teams",
    params(crate::openapi::InviteIdPath), responses((status = 204, description = "The invite can no longer be accepted")))]
pub(crate) async fn revoke_invite(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((team, id)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    check_team_admin(&who, &team)?;
    state
        .blocking(move |s| {
            s.accounts.revoke_invite(&team, id)?;
            audit(s, Some(&who), "invite.revoke", &team, json!({"id": id}));
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/visibility", operation_id = "getVisibility", tag = "teams",
    params(crate::openapi::ProjectPath), responses((status = 200, description = "Who may read the project", body = crate::openapi::ProjectVisibility)))]
pub(crate) async fn visibility(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project)): Path<(String, String)>,
) -> ApiResult<Json<Json_>> {
    check_read(&state, &who, &entity, &project).await?;
    let (e, p) = (entity.clone(), project.clone());
    let v = state
        .blocking(move |s| {
            s.accounts
                .project_visibility(&e, &p)?
                .ok_or_else(|| ApiError::ProjectNotFound(format!("project {e}/{p} does not exist")))
        })
        .await?;
    Ok(Json(json!({"entity": entity, "project": project, "visibility": v})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VisibilityBody {
    #[schema(value_type = crate::openapi::VisibilityName)]
    visibility: String,
}

#[utoipa::path(put, path = "/api/v1/projects/{entity}/{project}/visibility", operation_id = "setVisibility", tag = "teams",
    params(crate::openapi::ProjectPath), request_body = VisibilityBody,
    responses((status = 200, description = "The project's new visibility", body = crate::openapi::ProjectVisibility)))]
pub(crate) async fn set_visibility(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project)): Path<(String, String)>,
    JsonBody(body): JsonBody<VisibilityBody>,
) -> ApiResult<Json<Json_>> {
    check_team_admin(&who, &entity)?;
    let v = Visibility::parse(&body.visibility)
        .ok_or_else(|| ApiError::BadRequest("visibility is private, team or public".into()))?;
    let (e, p) = (entity.clone(), project.clone());
    state
        .blocking(move |s| {
            s.accounts.set_visibility(&e, &p, v)?;
            audit(s, Some(&who), "project.visibility", &format!("{e}/{p}"), json!({"visibility": v}));
            Ok(())
        })
        .await?;
    Ok(Json(json!({"entity": entity, "project": project, "visibility": v})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProjectMoveBody {
    /// The entity to move the project (and its runs) to.
    #[schema(pattern = "^[A-Za-z0-9_.-]{1,64}$")]
    entity: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{entity}/{project}/move", operation_id = "moveProject", tag = "teams",
    params(crate::openapi::ProjectPath), request_body = ProjectMoveBody,
    responses((status = 200, description = "The project at its new entity", body = crate::openapi::ProjectVisibility)))]
pub(crate) async fn move_project(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project)): Path<(String, String)>,
    JsonBody(body): JsonBody<ProjectMoveBody>,
) -> ApiResult<Json<Json_>> {
    // Admin of both sides: moving out takes the project from the old team's members.
    check_team_admin(&who, &entity)?;
    check_team_admin(&who, &body.entity)?;
    let to = body.entity;
    let (p, t) = (project.clone(), to.clone());
    let v = state
        .blocking(move |s| {
            s.accounts.move_project(&entity, &p, &t)?;
            audit(s, Some(&who), "project.move", &format!("{entity}/{p}"), json!({"to": t}));
            Ok(s.accounts.project_visibility(&t, &p)?)
        })
        .await?;
    Ok(Json(json!({"entity": to, "project": project, "visibility": v})))
}
