//! Sign-in settings, argon2 password hashes and the session cookies.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use trackway_store::NewSession;

use crate::auth::{CSRF_COOKIE, SESSION_COOKIE};
use crate::{ApiError, ApiResult};

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;
/// The longest password accepted (argon2 takes any length; this bounds the work per request).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// How users sign in to this server.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// Anyone may create an account at `POST /api/v1/auth/signup` (off by default: users come
    /// from invites, admins or SSO).
    pub allow_signup: bool,
    /// How long a cookie session lives.
    pub session_ttl: Duration,
    /// Default lifetime of an invite link.
    pub invite_ttl: Duration,
    /// `Secure` cookies: `None` decides per request (https public URL or
    /// `X-Forwarded-Proto: https`).
    pub secure_cookies: Option<bool>,
    /// OpenID Connect sign-in, when configured.
    pub oidc: Option<crate::oidc::OidcSettings>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            allow_signup: false,
            session_ttl: Duration::from_secs(14 * 24 * 3600),
            invite_ttl: Duration::from_secs(7 * 24 * 3600),
            secure_cookies: None,
            oidc: None,
        }
    }
}

fn check_password(password: &str) -> ApiResult<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN || password.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::BadRequest(format!("a password has {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} bytes")));
    }
    Ok(())
}

/// An argon2id PHC string of `password` (call on a blocking thread: it takes tens of ms).
pub(crate) fn hash_password(password: &str) -> ApiResult<String> {
    check_password(password)?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(ApiError::internal)?;
    let salt = SaltString::encode_b64(&salt).map_err(ApiError::internal)?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt).map_err(ApiError::internal)?.to_string())
}

/// Whether `password` matches a stored PHC string (blocking, like [`hash_password`]).
pub(crate) fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD_LEN {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Whether cookies set for this request get `Secure`.
pub(crate) fn secure(settings: &AuthSettings, public_url: Option<&str>, headers: &HeaderMap) -> bool {
    settings.secure_cookies.unwrap_or_else(|| {
        public_url.is_some_and(|u| u.starts_with("https://"))
            || headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
    })
}

fn cookie_header(text: &str) -> ApiResult<HeaderValue> {
    HeaderValue::from_str(text).map_err(ApiError::internal)
}

/// `Set-Cookie` headers for a new session: the HttpOnly session cookie, and the CSRF token as a
/// readable cookie the UI echoes in `X-CSRF-Token` (a cross-site page can neither read it nor
/// set the header).
pub(crate) fn session_cookies(
    session: &NewSession,
    secure: bool,
    max_age: Duration,
) -> ApiResult<Vec<(axum::http::HeaderName, HeaderValue)>> {
    let flags = if secure { "; Secure" } else { "" };
    let age = max_age.as_secs();
    Ok(vec![
        (
            SET_COOKIE,
            cookie_header(&format!(
                "{SESSION_COOKIE}={}; Path=/; Max-Age={age}; HttpOnly; SameSite=Lax{flags}",
                session.token
            ))?,
        ),
        (
            SET_COOKIE,
            cookie_header(&format!("{CSRF_COOKIE}={}; Path=/; Max-Age={age}; SameSite=Strict{flags}", session.csrf))?,
        ),
    ])
}

/// `Set-Cookie` headers that end a session in the browser.
pub(crate) fn clear_cookies() -> ApiResult<Vec<(axum::http::HeaderName, HeaderValue)>> {
    Ok(vec![
        (SET_COOKIE, cookie_header(&format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"))?),
        (SET_COOKIE, cookie_header(&format!("{CSRF_COOKIE}=; Path=/; Max-Age=0; SameSite=Strict"))?),
    ])
}
