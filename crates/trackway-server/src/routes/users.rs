//! API keys (a user's own), server administration of users and service accounts, and the
//! audit log (docs/teams.md).

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use trackway_store::{KeyScope, NewKey, NewUser, Principal, UserPatch};

use crate::auth::{audit, check_server_admin, now};
use crate::extract::{JsonBody, Path, Query};
use crate::{ApiError, ApiResult, AppState};

/// Longest key lifetime that can be asked for (10 years), so `expires_in` cannot overflow.
const MAX_KEY_LIFETIME_S: f64 = 10.0 * 365.0 * 86400.0;

fn to_json<T: serde::Serialize>(v: &T) -> ApiResult<Json<Json_>> {
    Ok(Json(serde_json::to_value(v).map_err(ApiError::internal)?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateKeyBody {
    /// A label to recognise the key by.
    #[schema(max_length = 200)]
    name: Option<String>,
    /// Seconds until the key stops working; none: it never expires.
    #[schema(exclusive_minimum = 0.0, maximum = 315_360_000.0)]
    expires_in: Option<f64>,
    /// Limits on the key (default: the user's full rights).
    #[schema(value_type = Option<crate::openapi::KeyScope>)]
    scope: Option<KeyScope>,
}

fn new_key(username: String, body: CreateKeyBody) -> ApiResult<NewKey> {
    if body.name.as_ref().is_some_and(|n| n.len() > 200) {
        return Err(ApiError::BadRequest("a key name has at most 200 bytes".into()));
    }
    let expires_at = match body.expires_in {
        Some(s) if !(s > 0.0 && s <= MAX_KEY_LIFETIME_S) => {
            return Err(ApiError::BadRequest(format!("expires_in is 1 to {MAX_KEY_LIFETIME_S} seconds")));
        }
        Some(s) => Some(now() + s),
        None => None,
    };
    Ok(NewKey { username, name: body.name, expires_at, scope: body.scope.unwrap_or_default() })
}

async fn create_key_for(state: &AppState, who: Principal, key: NewKey) -> ApiResult<Json<Json_>> {
    let target = key.username.clone();
    let (made, info) = state
        .blocking(move |s| {
            let made = s.accounts.create_key(&key)?;
            let info = s.accounts.list_keys(Some(&key.username))?.into_iter().find(|k| k.id == made.id);
            audit(s, Some(&who), "key.create", &target, json!({"id": made.id, "scope": key.scope}));
            Ok((made, info))
        })
        .await?;
    Ok(Json(json!({"key": made.key, "info": info})))
}

#[utoipa::path(get, path = "/api/v1/keys", operation_id = "listKeys", tag = "accounts",
    responses((status = 200, description = "The caller's API keys (never their secrets)", body = Vec<crate::openapi::ApiKey>)))]
pub(crate) async fn list_keys(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> ApiResult<Json<Json_>> {
    let keys = state.blocking(move |s| Ok(s.accounts.list_keys(Some(&who.username))?)).await?;
    to_json(&keys)
}

#[utoipa::path(post, path = "/api/v1/keys", operation_id = "createKey", tag = "accounts", request_body = CreateKeyBody,
    responses((status = 200, description = "The new key; its secret is shown only now", body = crate::openapi::CreatedKey)))]
pub(crate) async fn create_key(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    JsonBody(body): JsonBody<CreateKeyBody>,
) -> ApiResult<Json<Json_>> {
    let key = new_key(who.username.clone(), body)?;
    if let Some(e) = &key.scope.entity {
        crate::auth::check_access(&who, e, false)?;
    }
    create_key_for(&state, who, key).await
}

#[utoipa::path(delete, path = "/api/v1/keys/{id}", operation_id = "revokeKey", tag = "accounts", params(crate::openapi::KeyPath),
    responses((status = 200, description = "The revoked key", body = crate::openapi::ApiKey)))]
pub(crate) async fn revoke_key(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Json_>> {
    let info = state
        .blocking(move |s| {
            // Server admins may revoke anyone's key (a leaked key of a user who is away).
            let owner = if who.admin { None } else { Some(who.username.as_str()) };
            let info = s.accounts.revoke_key(owner, id)?;
            audit(s, Some(&who), "key.revoke", &info.username, json!({"id": id}));
            Ok(info)
        })
        .await?;
    to_json(&info)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordBody {
    /// The current password (needed when the user has one).
    #[schema(max_length = 1024)]
    current: Option<String>,
    #[schema(min_length = 8, max_length = 1024)]
    password: String,
}

#[utoipa::path(put, path = "/api/v1/viewer/password", operation_id = "setPassword", tag = "accounts", request_body = PasswordBody,
    responses((status = 204, description = "The password is changed")))]
pub(crate) async fn set_password(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    JsonBody(body): JsonBody<PasswordBody>,
) -> ApiResult<StatusCode> {
    if body.current.as_ref().is_some_and(|c| c.len() > crate::login::MAX_PASSWORD_LEN) {
        return Err(ApiError::BadRequest("the current password is too long".into()));
    }
    state
        .blocking(move |s| {
            if let Some((_, phc)) = s.accounts.password_login(&who.username)? {
                let current = body.current.as_deref().unwrap_or_default();
                if !crate::login::verify_password(current, &phc) {
                    return Err(ApiError::InvalidCredentials("the current password is wrong".into()));
                }
            }
            let hash = crate::login::hash_password(&body.password)?;
            s.accounts.update_user(&who.username, &UserPatch { password_hash: Some(hash), ..UserPatch::default() })?;
            audit(s, Some(&who), "user.password", &who.username, json!({}));
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/admin/users", operation_id = "listUsers", tag = "admin",
    responses((status = 200, description = "Every user (server admins only)", body = Vec<crate::openapi::User>)))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> ApiResult<Json<Json_>> {
    check_server_admin(&who)?;
    to_json(&state.blocking(|s| Ok(s.accounts.list_users()?)).await?)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateUserBody {
    #[schema(pattern = "^[A-Za-z0-9_.-]{1,64}$")]
    username: String,
    /// Sign-in password (none: the user signs in by SSO, or gets a password later).
    #[schema(min_length = 8, max_length = 1024)]
    password: Option<String>,
    #[serde(default)]
    admin: bool,
    /// A service account (automation): API keys only, no sign-in.
    #[serde(default)]
    service: bool,
}

#[utoipa::path(post, path = "/api/v1/admin/users", operation_id = "createUser", tag = "admin", request_body = CreateUserBody,
    responses((status = 200, description = "The new user", body = crate::openapi::User)))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    JsonBody(body): JsonBody<CreateUserBody>,
) -> ApiResult<Json<Json_>> {
    check_server_admin(&who)?;
    if body.service && body.password.is_some() {
        return Err(ApiError::Conflict("a service account has no password: create a key for it".into()));
    }
    let user = state
        .blocking(move |s| {
            let password_hash = body.password.as_deref().map(crate::login::hash_password).transpose()?;
            let new = NewUser {
                username: body.username,
                admin: body.admin,
                service: body.service,
                password_hash,
                oidc_subject: None,
            };
            s.accounts.create_account(&new)?;
            audit(s, Some(&who), "user.create", &new.username, json!({"admin": new.admin, "service": new.service}));
            Ok(s.accounts.list_users()?.into_iter().find(|u| u.username == new.username))
        })
        .await?;
    to_json(&user)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserPatchBody {
    /// `false` deactivates the user: their keys and sessions stop working at once.
    active: Option<bool>,
    admin: Option<bool>,
    /// A new sign-in password.
    #[schema(min_length = 8, max_length = 1024)]
    password: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/admin/users/{username}", operation_id = "updateUser", tag = "admin",
    params(crate::openapi::UserPath), request_body = UserPatchBody,
    responses((status = 200, description = "The changed user", body = crate::openapi::User)))]
pub(crate) async fn update_user(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(username): Path<String>,
    JsonBody(body): JsonBody<UserPatchBody>,
) -> ApiResult<Json<Json_>> {
    check_server_admin(&who)?;
    if username == who.username && (body.active == Some(false) || body.admin == Some(false)) {
        return Err(ApiError::Conflict("an admin cannot deactivate or demote themselves".into()));
    }
    let user = state
        .blocking(move |s| {
            let password_hash = body.password.as_deref().map(crate::login::hash_password).transpose()?;
            let patch = UserPatch { active: body.active, admin: body.admin, password_hash };
            let user = s.accounts.update_user(&username, &patch)?;
            let detail = json!({"active": body.active, "admin": body.admin, "password": body.password.is_some()});
            audit(s, Some(&who), "user.update", &username, detail);
            Ok(user)
        })
        .await?;
    to_json(&user)
}

#[utoipa::path(post, path = "/api/v1/admin/users/{username}/keys", operation_id = "createUserKey", tag = "admin",
    params(crate::openapi::UserPath), request_body = CreateKeyBody,
    responses((status = 200, description = "A new key of that user (e.g. a service account); shown only now", body = crate::openapi::CreatedKey)))]
pub(crate) async fn create_user_key(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(username): Path<String>,
    JsonBody(body): JsonBody<CreateKeyBody>,
) -> ApiResult<Json<Json_>> {
    check_server_admin(&who)?;
    let key = new_key(username, body)?;
    create_key_for(&state, who, key).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// At most this many entries (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Entries older than this id (paging).
    before: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/admin/audit", operation_id = "auditLog", tag = "admin", params(AuditQuery),
    responses((status = 200, description = "Security-relevant actions, newest first (server admins only)", body = Vec<crate::openapi::AuditEntry>)))]
pub(crate) async fn audit_log(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Json_>> {
    check_server_admin(&who)?;
    if q.limit.is_some_and(|l| !(1..=1000).contains(&l)) {
        return Err(ApiError::BadRequest("limit is 1 to 1000".into()));
    }
    let entries = state.blocking(move |s| Ok(s.accounts.audit_log(q.limit.unwrap_or(100), q.before)?)).await?;
    to_json(&entries)
}
