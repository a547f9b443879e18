//! Bearer-key authentication: every `/api/v1` route but `health` runs behind [`require_key`],
//! which puts the key's [`Principal`] into the request extensions.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use trackway_store::Principal;

use crate::{ApiError, ApiResult, AppState};

/// The key from `Authorization: Bearer <key>`, or from `Basic` credentials with the user `api`
/// (how the wandb SDK sends its API key, docs/wandb-server.md).
fn bearer(req: &Request) -> ApiResult<String> {
    let header = req.headers().get(AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthorized(
            "missing API key: send `Authorization: Bearer <key>` (run `trackway login` to store one)".into(),
        )
    })?;
    let text = header.to_str().map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    let (scheme, key) = text.trim().split_once(' ').unwrap_or((text, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return basic_key(key.trim());
    }
    if !scheme.eq_ignore_ascii_case("bearer") || key.trim().is_empty() {
        return Err(ApiError::Unauthorized("the Authorization header must be `Bearer <api key>`".into()));
    }
    Ok(key.trim().to_owned())
}

/// The password of `Basic base64(api:<key>)`.
fn basic_key(encoded: &str) -> ApiResult<String> {
    use base64::Engine as _;
    let bad = || ApiError::Unauthorized("Basic credentials must be `api:<api key>`, base64-encoded".into());
    let raw = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    match text.split_once(':') {
        Some((user, key)) if user == "api" && !key.trim().is_empty() => Ok(key.trim().to_owned()),
        _ => Err(bad()),
    }
}

pub(crate) async fn require_key(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let key = bearer(&req)?;
    let principal = state
        .blocking(move |s| Ok(s.store.authenticate(&key)?))
        .await?
        .ok_or_else(|| ApiError::Unauthorized("invalid API key: it is unknown to this server or was revoked".into()))?;
    req.extensions_mut().insert(principal);
    Ok(next.run(req).await)
}

/// Checks that `who` may read or write runs of `entity`.
pub(crate) fn check_access(who: &Principal, entity: &str, write: bool) -> ApiResult<()> {
    if who.can_access(entity, write) {
        return Ok(());
    }
    let what = if write { "write to" } else { "read" };
    Err(ApiError::Forbidden(format!("user {} may not {what} entity {entity}", who.username)))
}

/// Admins may name an entity that does not exist yet (wandb's `entity=` for a new team): it is
/// created as a team they own. Everyone else needs an existing membership anyway.
pub(crate) fn ensure_entity(state: &AppState, who: &Principal, entity: &str) -> ApiResult<()> {
    if who.admin && !state.store.entity_exists(entity)? {
        match state.store.create_team(entity, &who.username) {
            Ok(()) | Err(trackway_store::StoreError::AlreadyExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
