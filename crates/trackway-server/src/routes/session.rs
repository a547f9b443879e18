//! Signing in and out of the UI (password, OpenID Connect), open sign-up when enabled, and
//! invite links. These routes are public: they are how a browser gets a session.

use std::sync::LazyLock;

use axum::Json;
use axum::extract::State;
use axum::http::header::{HOST, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use trackway_store::{NewUser, Principal};

use crate::auth::{CSRF_HEADER, SESSION_COOKIE, audit, cookie, now};
use crate::extract::{JsonBody, Path, Query};
use crate::login::{clear_cookies, hash_password, secure, session_cookies, verify_password};
use crate::oidc::{FLOW_COOKIE, FLOW_TTL, Flow, username_from};
use crate::{ApiError, ApiResult, AppState};

type Headers = Vec<(HeaderName, HeaderValue)>;

/// A hash checked when the user does not exist, so a wrong name costs as long as a wrong
/// password (no user-name probing by timing).
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| hash_password("not a real password").ok());

#[utoipa::path(get, path = "/api/v1/auth/config", operation_id = "authConfig", tag = "auth", security(()),
    responses((status = 200, description = "How to sign in to this server", body = crate::openapi::AuthConfig)))]
pub(crate) async fn config(State(state): State<AppState>) -> Json<Json_> {
    let oidc = state.oidc.as_ref().map(|o| o.settings.display_name.clone());
    Json(json!({"password": true, "signup": state.auth.allow_signup, "oidc": oidc}))
}

/// Starts a session for `user_id`: its cookies and the JSON the UI gets.
fn start_session(s: &AppState, who: &Principal, headers: &HeaderMap) -> ApiResult<(Headers, Json_)> {
    let ttl = s.auth.session_ttl;
    let session = s.accounts.create_session(who.user_id, now() + ttl.as_secs_f64())?;
    let cookies = session_cookies(&session, secure(&s.auth, s.public_url.as_deref(), headers), ttl)?;
    Ok((cookies, json!({"username": who.username, "csrf": session.csrf})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginBody {
    #[schema(pattern = "^[A-Za-z0-9_.-]{1,64}$")]
    username: String,
    #[schema(min_length = 8, max_length = 1024)]
    password: String,
}

/// Checks a password; the user's principal when it matches.
fn password_principal(s: &AppState, username: &str, password: &str) -> ApiResult<Principal> {
    let found = s.accounts.password_login(username)?;
    let ok = match &found {
        Some((_, phc)) => verify_password(password, phc),
        None => {
            // Same work as a wrong password; the result does not matter.
            let _ = DUMMY_HASH.as_deref().map(|h| verify_password(password, h));
            false
        }
    };
    let who = match (ok, found) {
        (true, Some((id, _))) => s.accounts.principal_of(id)?,
        _ => None,
    };
    who.ok_or_else(|| {
        audit(s, None, "login.failed", username, json!({"method": "password"}));
        ApiError::InvalidCredentials("wrong user name or password".into())
    })
}

#[utoipa::path(post, path = "/api/v1/auth/login", operation_id = "login", tag = "auth", security(()), request_body = LoginBody,
    responses((status = 200, description = "Signed in: session cookies are set", body = crate::openapi::SessionStarted),
        (status = 401, description = "Wrong user name or password (`invalid_credentials`)")))]
pub(crate) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LoginBody>,
) -> ApiResult<Response> {
    let (cookies, out) = state
        .blocking(move |s| {
            let who = password_principal(s, &body.username, &body.password)?;
            audit(s, Some(&who), "login", &who.username, json!({"method": "password"}));
            start_session(s, &who, &headers)
        })
        .await?;
    Ok((cookies_map(cookies), Json(out)).into_response())
}

fn cookies_map(cookies: Headers) -> axum::response::AppendHeaders<Headers> {
    axum::response::AppendHeaders(cookies)
}

#[utoipa::path(post, path = "/api/v1/auth/logout", operation_id = "logout", tag = "auth", security(()),
    responses((status = 204, description = "The session (if any) is ended and its cookies cleared")))]
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.blocking(move |s| Ok(s.accounts.delete_session(&token)?)).await?;
    }
    Ok((StatusCode::NO_CONTENT, cookies_map(clear_cookies()?)).into_response())
}

#[utoipa::path(post, path = "/api/v1/auth/signup", operation_id = "signup", tag = "auth", security(()), request_body = LoginBody,
    responses((status = 200, description = "The account is created and signed in", body = crate::openapi::SessionStarted),
        (status = 403, description = "Open sign-up is off on this server (`forbidden`)")))]
pub(crate) async fn signup(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LoginBody>,
) -> ApiResult<Response> {
    if !state.auth.allow_signup {
        return Err(ApiError::Forbidden("open sign-up is off on this server: ask an admin for an invite".into()));
    }
    let (cookies, out) = state
        .blocking(move |s| {
            let password_hash = Some(hash_password(&body.password)?);
            let who =
                s.accounts.create_account(&NewUser { username: body.username, password_hash, ..NewUser::default() })?;
            audit(s, Some(&who), "signup", &who.username, json!({}));
            start_session(s, &who, &headers)
        })
        .await?;
    Ok((cookies_map(cookies), Json(out)).into_response())
}

#[utoipa::path(get, path = "/api/v1/invites/{token}", operation_id = "getInvite", tag = "auth", security(()),
    params(crate::openapi::TokenPath), responses((status = 200, description = "The invite behind a link", body = crate::openapi::Invite)))]
pub(crate) async fn invite(State(state): State<AppState>, Path(token): Path<String>) -> ApiResult<Json<Json_>> {
    let info = state.blocking(move |s| Ok(s.accounts.get_invite(&token)?)).await?;
    let info = info.ok_or_else(|| ApiError::NotFound("no such invite".into()))?;
    Ok(Json(serde_json::to_value(info).map_err(ApiError::internal)?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AcceptBody {
    /// Without a session: an existing user's name and password, or a new user's.
    #[schema(pattern = "^[A-Za-z0-9_.-]{1,64}$")]
    username: Option<String>,
    #[schema(min_length = 8, max_length = 1024)]
    password: Option<String>,
}

/// The user accepting: the signed-in one (a cookie session needs the CSRF header), an existing
/// user by password, or a new user created now.
fn accepting_user(s: &AppState, headers: &HeaderMap, body: AcceptBody) -> ApiResult<Principal> {
    let session = match cookie(headers, SESSION_COOKIE) {
        Some(token) => s.accounts.session(&token, now())?,
        None => None,
    };
    if let Some((who, csrf)) = session {
        let echoed = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        return if echoed == Some(csrf.as_str()) { Ok(who) } else { Err(ApiError::CsrfFailed) };
    }
    let (Some(username), Some(password)) = (body.username, body.password) else {
        return Err(ApiError::Unauthorized(
            "send username and password (new or existing account), or sign in first".into(),
        ));
    };
    if s.store.entity_exists(&username)? {
        return password_principal(s, &username, &password);
    }
    let password_hash = Some(hash_password(&password)?);
    let who = s.accounts.create_account(&NewUser { username, password_hash, ..NewUser::default() })?;
    audit(s, Some(&who), "user.create", &who.username, json!({"via": "invite"}));
    Ok(who)
}

#[utoipa::path(post, path = "/api/v1/invites/{token}/accept", operation_id = "acceptInvite", tag = "auth", security(()),
    params(crate::openapi::TokenPath), request_body = AcceptBody,
    responses((status = 200, description = "Joined the team and signed in", body = crate::openapi::SessionStarted),
        (status = 401, description = "No credentials, or a wrong password for an existing account"),
        (status = 403, description = "A session cookie without its CSRF header (`csrf_failed`)")))]
pub(crate) async fn accept(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    JsonBody(body): JsonBody<AcceptBody>,
) -> ApiResult<Response> {
    let (cookies, out) = state
        .blocking(move |s| {
            let open = s.accounts.get_invite(&token)?.is_some_and(|i| i.open(now()));
            if !open {
                return Err(ApiError::NotFound("this invite does not exist, was used, revoked or has expired".into()));
            }
            let who = accepting_user(s, &headers, body)?;
            let info = s.accounts.accept_invite(&token, &who.username, now())?;
            audit(s, Some(&who), "invite.accept", &info.entity, json!({"id": info.id, "role": info.role}));
            let who = s.accounts.principal_of(who.user_id)?.unwrap_or(who);
            start_session(s, &who, &headers)
        })
        .await?;
    Ok((cookies_map(cookies), Json(out)).into_response())
}

/// This server's external base URL: the configured public URL, else from the request.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers.get(HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let https = headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

fn callback_url(state: &AppState, headers: &HeaderMap) -> String {
    format!("{}/api/v1/auth/oidc/callback", base_url(state, headers))
}

fn oidc(state: &AppState) -> ApiResult<std::sync::Arc<crate::oidc::Oidc>> {
    state.oidc.clone().ok_or_else(|| ApiError::NotFound("single sign-on is not configured on this server".into()))
}

#[utoipa::path(get, path = "/api/v1/auth/oidc/login", operation_id = "oidcLogin", tag = "auth", security(()),
    responses((status = 303, description = "Redirect to the identity provider")))]
pub(crate) async fn oidc_login(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let provider = oidc(&state)?;
    let flow = Flow::new()?;
    let redirect = callback_url(&state, &headers);
    let cookie_value = flow.encode();
    let url = state.blocking(move |_| provider.authorize_url(&flow, &redirect)).await?;
    let flags = if secure(&state.auth, state.public_url.as_deref(), &headers) { "; Secure" } else { "" };
    let set = format!(
        "{FLOW_COOKIE}={cookie_value}; Path=/api/v1/auth/oidc; Max-Age={}; HttpOnly; SameSite=Lax{flags}",
        FLOW_TTL.as_secs()
    );
    let location = HeaderValue::from_str(&url).map_err(ApiError::internal)?;
    let set = HeaderValue::from_str(&set).map_err(ApiError::internal)?;
    Ok((StatusCode::SEE_OTHER, [(LOCATION, location), (SET_COOKIE, set)]).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    /// Set by the provider when the user or provider refused.
    error: Option<String>,
}

/// A free user name starting from `base` (`base`, `base-2`, ...).
fn free_name(s: &AppState, base: &str) -> ApiResult<String> {
    for i in 1..1000 {
        let name = if i == 1 { base.to_owned() } else { format!("{base}-{i}") };
        if !s.store.entity_exists(&name)? {
            return Ok(name);
        }
    }
    Err(ApiError::SsoFailed("no free user name for this account".into()))
}

/// The local user of an SSO identity: found by subject, else created (name from the provider,
/// made unique); group mappings are applied at each sign-in.
fn sso_user(s: &AppState, provider: &crate::oidc::Oidc, id: &crate::oidc::Identity) -> ApiResult<Principal> {
    let username = match s.accounts.user_by_oidc(&id.subject)? {
        Some(name) => name,
        None => {
            let name = free_name(s, &username_from(&id.username_hint))?;
            let new = NewUser { username: name.clone(), oidc_subject: Some(id.subject.clone()), ..NewUser::default() };
            s.accounts.create_account(&new)?;
            audit(s, None, "user.create", &name, json!({"via": "sso"}));
            name
        }
    };
    let who = s
        .accounts
        .principal_by_name(&username)?
        .ok_or_else(|| ApiError::Forbidden(format!("user {username} is deactivated")))?;
    for m in provider.settings.group_mappings.iter().filter(|m| id.groups.contains(&m.group)) {
        if !s.store.entity_exists(&m.team)? {
            tracing::warn!(team = %m.team, "an SSO group mapping names a team that does not exist");
            continue;
        }
        if who.role_in(&m.team) != Some(m.role) {
            s.accounts.set_role(&m.team, &username, m.role)?;
            audit(s, None, "member.set", &format!("{}/{username}", m.team), json!({"role": m.role, "via": "sso"}));
        }
    }
    Ok(s.accounts.principal_by_name(&username)?.unwrap_or(who))
}

#[utoipa::path(get, path = "/api/v1/auth/oidc/callback", operation_id = "oidcCallback", tag = "auth", security(()), params(CallbackQuery),
    responses((status = 303, description = "Signed in: session cookies are set and the browser goes to the UI"),
        (status = 403, description = "The account is deactivated (`forbidden`)")))]
pub(crate) async fn oidc_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> ApiResult<Response> {
    let provider = oidc(&state)?;
    if let Some(e) = q.error {
        return Err(ApiError::SsoFailed(format!("the identity provider refused: {e}")));
    }
    let flow = cookie(&headers, FLOW_COOKIE)
        .and_then(|c| Flow::decode(&c))
        .ok_or_else(|| ApiError::SsoFailed("no sign-in in progress in this browser (start again)".into()))?;
    let (Some(code), Some(st)) = (q.code, q.state) else {
        return Err(ApiError::SsoFailed("the callback lacks code or state".into()));
    };
    if st != flow.state {
        return Err(ApiError::SsoFailed(
            "state mismatch: this callback is not for the sign-in this browser started".into(),
        ));
    }
    let redirect = callback_url(&state, &headers);
    let (mut cookies, _) = state
        .blocking(move |s| {
            let identity = provider.finish(&flow, &code, &redirect)?;
            let who = sso_user(s, &provider, &identity)?;
            audit(s, Some(&who), "login", &who.username, json!({"method": "oidc"}));
            start_session(s, &who, &headers)
        })
        .await?;
    cookies.push((
        SET_COOKIE,
        HeaderValue::from_str(&format!("{FLOW_COOKIE}=; Path=/api/v1/auth/oidc; Max-Age=0; HttpOnly"))
            .map_err(ApiError::internal)?,
    ));
    cookies.push((LOCATION, HeaderValue::from_static("/")));
    Ok((StatusCode::SEE_OTHER, cookies_map(cookies)).into_response())
}
