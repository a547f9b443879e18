//! Authentication and access rules. Every `/api/v1` route but the public ones (`health`, sign-in,
//! invites) runs behind [`require_key`], which puts the request's [`Principal`] into the request
//! extensions: from `Authorization: Bearer <key>`, else from the `tw_session` cookie (then a
//! change needs the session's `X-CSRF-Token` header), else anonymous for the few read routes a
//! public project opens. Key scopes (read-only, ingest-only, one entity) are enforced here by
//! route; membership and project visibility by [`check_access`] and [`check_read`].

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use trackway_store::{Principal, Visibility};

use crate::{ApiError, ApiResult, AppState};

/// The session cookie (HttpOnly) and the CSRF cookie the UI reads and echoes in a header.
pub(crate) const SESSION_COOKIE: &str = "tw_session";
pub(crate) const CSRF_COOKIE: &str = "tw_csrf";
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// POST routes that only read (queries with a body): allowed to read-only keys and anonymous.
const READ_POSTS: &[&str] = &["/api/v1/charts/query", "/api/v1/media/query"];

/// What an ingest-only key may call: exactly what the agent and SDK need to log a run.
const INGEST_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/viewer"),
    ("POST", "/api/v1/runs"),
    ("GET", "/api/v1/runs/{entity}/{project}/{run_id}"),
    ("PATCH", "/api/v1/runs/{entity}/{project}/{run_id}"),
    ("PUT", "/api/v1/runs/{entity}/{project}/{run_id}/files/{*path}"),
    ("POST", "/api/v1/ingest"),
];

pub(crate) fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// The key from `Authorization: Bearer <key>`, or from `Basic` credentials with the user `api`
/// (how the wandb SDK sends its API key, docs/wandb-server.md), if the header is there.
fn bearer(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(header) = headers.get(AUTHORIZATION) else { return Ok(None) };
    let text = header.to_str().map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    let (scheme, key) = text.trim().split_once(' ').unwrap_or((text, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return basic_key(key.trim()).map(Some);
    }
    if !scheme.eq_ignore_ascii_case("bearer") || key.trim().is_empty() {
        return Err(ApiError::Unauthorized("the Authorization header must be `Bearer <api key>`".into()));
    }
    Ok(Some(key.trim().to_owned()))
}

/// The value of cookie `name`.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Routes an anonymous request may reach; the handler's [`check_read`] then lets it read a
/// public project and answers `401` for anything else.
pub(crate) fn anonymous_may_try(method: &Method, route: &str) -> bool {
    (is_safe(method)
        && (route.starts_with("/api/v1/runs/{entity}/{project}/")
            || route.starts_with("/api/v1/projects/{entity}/{project}/")
            || route.starts_with("/api/v1/reports/{entity}")))
        || (*method == Method::POST && READ_POSTS.contains(&route))
}

/// Refuses what the key's scope does not allow on this route.
fn check_scope(who: &Principal, method: &Method, route: &str) -> ApiResult<()> {
    if who.scope.ingest_only && !INGEST_ROUTES.iter().any(|(m, r)| *m == method.as_str() && *r == route) {
        return Err(ApiError::Forbidden("this key is ingest-only: it can log runs but not read or manage".into()));
    }
    if who.scope.read_only && !is_safe(method) && !READ_POSTS.contains(&route) {
        return Err(ApiError::Forbidden("this key is read-only".into()));
    }
    Ok(())
}

/// What a request presents to prove who it is, taken out of the request before any `await`.
struct Credentials {
    bearer: Option<String>,
    session: Option<String>,
    csrf: Option<String>,
}

impl Credentials {
    fn of(req: &Request) -> ApiResult<Credentials> {
        let headers = req.headers();
        Ok(Credentials {
            bearer: bearer(headers)?,
            session: cookie(headers, SESSION_COOKIE),
            csrf: headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned),
        })
    }
}

async fn principal_of(state: &AppState, creds: Credentials, method: &Method, route: &str) -> ApiResult<Principal> {
    let at = now();
    if let Some(key) = creds.bearer {
        return state.blocking(move |s| Ok(s.accounts.authenticate_key(&key, at)?)).await?.ok_or_else(|| {
            ApiError::Unauthorized(
                "invalid API key: unknown to this server, revoked or expired, or its user is deactivated".into(),
            )
        });
    }
    if let Some(token) = creds.session {
        let found = state.blocking(move |s| Ok(s.accounts.session(&token, at)?)).await?;
        let (who, csrf) =
            found.ok_or_else(|| ApiError::Unauthorized("your session has ended: sign in again".into()))?;
        if !is_safe(method) && creds.csrf.as_deref() != Some(csrf.as_str()) {
            return Err(ApiError::CsrfFailed);
        }
        return Ok(who);
    }
    if anonymous_may_try(method, route) {
        return Ok(Principal::anonymous());
    }
    Err(ApiError::Unauthorized(
        "missing API key: send `Authorization: Bearer <key>` (run `trackway login` to store one) or sign in".into(),
    ))
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

pub(crate) async fn require_key(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_default();
    // Taken out before the `await`: the request's body is not `Sync`.
    let (creds, method) = (Credentials::of(&req), req.method().clone());
    match authorize(&state, creds, &method, &route).await {
        Ok(who) => {
            req.extensions_mut().insert(who);
            next.run(req).await
        }
        // wandb's clients read the message from GraphQL's `errors` (a wrong key's 401).
        Err(e) if crate::routes::wandb::is_protocol_route(&route) => e.into_wandb_response(),
        Err(e) => e.into_response(),
    }
}

async fn authorize(
    state: &AppState,
    creds: ApiResult<Credentials>,
    method: &Method,
    route: &str,
) -> ApiResult<Principal> {
    let who = principal_of(state, creds?, method, route).await?;
    check_scope(&who, method, route)?;
    Ok(who)
}

pub(crate) fn denied(who: &Principal, what: &str) -> ApiError {
    if who.is_anonymous() {
        return ApiError::Unauthorized(
            "missing API key: sign in or send `Authorization: Bearer <key>` to see this".into(),
        );
    }
    ApiError::Forbidden(format!("user {} may not {what}", who.username))
}

/// Checks that `who` may read or write runs of `entity` through a membership (or as server
/// admin).
pub(crate) fn check_access(who: &Principal, entity: &str, write: bool) -> ApiResult<()> {
    if who.can_access(entity, write) {
        return Ok(());
    }
    Err(denied(who, &format!("{} entity {entity}", if write { "write to" } else { "read" })))
}

/// Whether a project's (or a report's) visibility lets a non-member read it.
pub(crate) fn visible(who: &Principal, entity: &str, visibility: Option<Visibility>) -> bool {
    if who.scope.entity.as_deref().is_some_and(|e| e != entity) {
        return false;
    }
    match visibility {
        Some(Visibility::Public) => true,
        Some(Visibility::Team) => !who.is_anonymous(),
        Some(Visibility::Private) | None => false,
    }
}

/// [`check_read`] on a blocking thread (inside `AppState::blocking`).
pub(crate) fn check_read_blocking(state: &AppState, who: &Principal, entity: &str, project: &str) -> ApiResult<()> {
    if who.can_access(entity, false) {
        return Ok(());
    }
    let visibility = state.accounts.project_visibility(entity, project)?;
    if visible(who, entity, visibility) { Ok(()) } else { Err(denied(who, &format!("read {entity}/{project}"))) }
}

/// Checks that `who` may read project `entity/project`: as a member of `entity`, or through the
/// project's visibility (`team`: any signed-in user; `public`: anyone). Members pay no lookup.
pub(crate) async fn check_read(state: &AppState, who: &Principal, entity: &str, project: &str) -> ApiResult<()> {
    if who.can_access(entity, false) {
        return Ok(());
    }
    let (who, entity, project) = (who.clone(), entity.to_owned(), project.to_owned());
    state.blocking(move |s| check_read_blocking(s, &who, &entity, &project)).await
}

/// Checks that `who` administers `entity` (team admin, or server admin with a full key).
pub(crate) fn check_team_admin(who: &Principal, entity: &str) -> ApiResult<()> {
    let admin = who.admin || who.role_in(entity) == Some(trackway_store::Role::Admin);
    if admin && !who.scope.read_only { Ok(()) } else { Err(denied(who, &format!("administer {entity}"))) }
}

/// Checks that `who` is a server admin (a separate role from team admin).
pub(crate) fn check_server_admin(who: &Principal) -> ApiResult<()> {
    if who.admin { Ok(()) } else { Err(denied(who, "administer this server")) }
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

/// Records a security-relevant action; a failure to record is logged, never answered (the
/// action itself already happened).
pub(crate) fn audit(state: &AppState, who: Option<&Principal>, action: &str, target: &str, detail: serde_json::Value) {
    let actor = who.filter(|w| !w.is_anonymous()).map(|w| w.username.as_str());
    if let Err(e) = state.accounts.audit(actor, action, Some(target), &detail) {
        tracing::error!(error = %e, action, "cannot write the audit log");
    }
}
