//! OpenID Connect sign-in for the UI: discovery, the authorization-code flow with PKCE (S256),
//! and ID-token validation against the provider's JWKS (`jsonwebtoken`: signature, `iss`,
//! `aud`, `exp`, plus our `nonce`). The flow's state, nonce and PKCE verifier live in a short
//! HttpOnly cookie bound to the browser that started it. HTTP calls to the provider are
//! blocking (`ureq`) and run on the blocking pool.

use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use trackway_store::Role;

use crate::{ApiError, ApiResult};

/// The flow cookie, and how long a started sign-in may take.
pub(crate) const FLOW_COOKIE: &str = "tw_oidc";
pub(crate) const FLOW_TTL: Duration = Duration::from_secs(600);
/// Largest provider response read (discovery, token, JWKS).
const MAX_PROVIDER_BYTES: u64 = 1 << 20;
/// How long discovery and JWKS answers are reused.
const CACHE_TTL: Duration = Duration::from_secs(3600);
/// Asymmetric algorithms only: an HMAC "ID token" would be signed with our own client secret.
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// One group → team mapping: members of `group` get `role` in `team` at each sign-in.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupMapping {
    pub group: String,
    pub team: String,
    pub role: Role,
}

impl GroupMapping {
    /// Parses `group=team` or `group=team:role` (role defaults to member).
    ///
    /// # Errors
    /// A message for a malformed mapping.
    pub fn parse(text: &str) -> Result<GroupMapping, String> {
        let (group, rest) = text.split_once('=').ok_or_else(|| format!("{text:?}: expected group=team[:role]"))?;
        let (team, role) = rest.split_once(':').unwrap_or((rest, "member"));
        let role = Role::parse(role).ok_or_else(|| format!("{text:?}: role must be admin, member or viewer"))?;
        if group.is_empty() || team.is_empty() {
            return Err(format!("{text:?}: expected group=team[:role]"));
        }
        Ok(GroupMapping { group: group.into(), team: team.into(), role })
    }
}

/// A configured provider.
#[derive(Clone, Debug)]
pub struct OidcSettings {
    /// The issuer URL (discovery at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// The claim holding the group list (e.g. `groups`); `None` disables group mapping.
    pub groups_claim: Option<String>,
    pub group_mappings: Vec<GroupMapping>,
    /// Name on the sign-in button.
    pub display_name: String,
}

#[derive(Clone, Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

/// The provider client: settings plus cached discovery and keys.
pub(crate) struct Oidc {
    pub settings: OidcSettings,
    agent: ureq::Agent,
    discovery: Mutex<Option<(Discovery, Instant)>>,
    jwks: Mutex<Option<(JwkSet, Instant)>>,
}

/// What the flow cookie holds.
pub(crate) struct Flow {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

impl Flow {
    pub(crate) fn new() -> ApiResult<Flow> {
        Ok(Flow { state: random()?, nonce: random()?, verifier: random()? })
    }

    pub(crate) fn encode(&self) -> String {
        format!("{}.{}.{}", self.state, self.nonce, self.verifier)
    }

    pub(crate) fn decode(text: &str) -> Option<Flow> {
        let mut parts = text.split('.');
        let (state, nonce, verifier) = (parts.next()?, parts.next()?, parts.next()?);
        Some(Flow { state: state.into(), nonce: nonce.into(), verifier: verifier.into() })
    }

    fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier.as_bytes()))
    }
}

/// 256 random bits, base64url (also a valid PKCE verifier: 43 unreserved characters).
fn random() -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn sso(what: impl std::fmt::Display) -> ApiError {
    ApiError::SsoFailed(format!("single sign-on failed: {what}"))
}

/// Who the provider says signed in.
pub(crate) struct Identity {
    /// `issuer#sub`, the stable account key.
    pub subject: String,
    /// A user-name suggestion (`preferred_username`, else the e-mail's local part, else `sub`).
    pub username_hint: String,
    pub groups: Vec<String>,
}

impl Oidc {
    pub(crate) fn new(settings: OidcSettings) -> Oidc {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(15)))
            .build();
        Oidc {
            settings,
            agent: ureq::Agent::new_with_config(config),
            discovery: Mutex::new(None),
            jwks: Mutex::new(None),
        }
    }

    fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> ApiResult<T> {
        let mut resp = resp.map_err(|e| sso(format!("{what}: {e}")))?;
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        resp.body_mut()
            .with_config()
            .limit(MAX_PROVIDER_BYTES)
            .reader()
            .read_to_end(&mut body)
            .map_err(|e| sso(format!("{what}: {e}")))?;
        if !(200..300).contains(&status) {
            return Err(sso(format!(
                "{what} answered {status}: {}",
                String::from_utf8_lossy(&body).chars().take(200).collect::<String>()
            )));
        }
        serde_json::from_slice(&body).map_err(|e| sso(format!("{what}: {e}")))
    }

    fn discovery(&self) -> ApiResult<Discovery> {
        let mut cached = self.discovery.lock().map_err(ApiError::internal)?;
        if let Some((d, at)) = cached.as_ref().filter(|(_, at)| at.elapsed() < CACHE_TTL) {
            let _ = at;
            return Ok(d.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.settings.issuer.trim_end_matches('/'));
        let d: Discovery = self.read_json("discovery", self.agent.get(&url).call())?;
        if d.issuer.trim_end_matches('/') != self.settings.issuer.trim_end_matches('/') {
            return Err(sso(format!("discovery names issuer {} instead of {}", d.issuer, self.settings.issuer)));
        }
        *cached = Some((d.clone(), Instant::now()));
        Ok(d)
    }

    /// Where to send the browser to start signing in.
    pub(crate) fn authorize_url(&self, flow: &Flow, redirect_uri: &str) -> ApiResult<String> {
        let d = self.discovery()?;
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "openid profile email")
            .append_pair("state", &flow.state)
            .append_pair("nonce", &flow.nonce)
            .append_pair("code_challenge", &flow.challenge())
            .append_pair("code_challenge_method", "S256")
            .finish();
        let sep = if d.authorization_endpoint.contains('?') { '&' } else { '?' };
        Ok(format!("{}{sep}{query}", d.authorization_endpoint))
    }

    /// Exchanges the code (with the PKCE verifier) and validates the ID token.
    pub(crate) fn finish(&self, flow: &Flow, code: &str, redirect_uri: &str) -> ApiResult<Identity> {
        let d = self.discovery()?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", self.settings.client_id.as_str()),
            ("code_verifier", flow.verifier.as_str()),
        ];
        if let Some(secret) = &self.settings.client_secret {
            form.push(("client_secret", secret.as_str()));
        }
        let token: Json = self.read_json("token exchange", self.agent.post(&d.token_endpoint).send_form(form))?;
        let id_token =
            token.get("id_token").and_then(Json::as_str).ok_or_else(|| sso("the token response has no id_token"))?;
        let claims = self.validate(&d, id_token, &flow.nonce)?;
        Ok(self.identity(&d, &claims))
    }

    fn key_for(&self, d: &Discovery, kid: Option<&str>) -> ApiResult<DecodingKey> {
        for refresh in [false, true] {
            let mut cached = self.jwks.lock().map_err(ApiError::internal)?;
            let stale = cached.as_ref().is_none_or(|(_, at)| at.elapsed() >= CACHE_TTL);
            if refresh || stale {
                // A key rotation shows up as an unknown kid: fetch the set again once.
                let set: JwkSet = self.read_json("JWKS", self.agent.get(&d.jwks_uri).call())?;
                *cached = Some((set, Instant::now()));
            }
            let Some((set, _)) = cached.as_ref() else { continue };
            let jwk = match kid {
                Some(kid) => set.find(kid),
                None if set.keys.len() == 1 => set.keys.first(),
                None => None,
            };
            if let Some(jwk) = jwk {
                return DecodingKey::from_jwk(jwk).map_err(|e| sso(format!("provider key: {e}")));
            }
        }
        Err(sso("the ID token's key is not in the provider's JWKS"))
    }

    fn validate(&self, d: &Discovery, id_token: &str, nonce: &str) -> ApiResult<Json> {
        let header = jsonwebtoken::decode_header(id_token).map_err(|e| sso(format!("ID token: {e}")))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(sso(format!("ID token algorithm {:?} is not accepted", header.alg)));
        }
        let key = self.key_for(d, header.kid.as_deref())?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[d.issuer.as_str()]);
        validation.set_audience(&[self.settings.client_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data =
            jsonwebtoken::decode::<Json>(id_token, &key, &validation).map_err(|e| sso(format!("ID token: {e}")))?;
        if data.claims.get("nonce").and_then(Json::as_str) != Some(nonce) {
            return Err(sso("the ID token's nonce does not match this sign-in"));
        }
        Ok(data.claims)
    }

    fn identity(&self, d: &Discovery, claims: &Json) -> Identity {
        let text = |k: &str| claims.get(k).and_then(Json::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        let sub = text("sub").unwrap_or_default();
        let hint = text("preferred_username")
            .or_else(|| text("email").and_then(|e| e.split('@').next().map(str::to_owned)))
            .unwrap_or_else(|| sub.clone());
        let groups = self
            .settings
            .groups_claim
            .as_deref()
            .and_then(|c| claims.get(c))
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        Identity { subject: format!("{}#{sub}", d.issuer), username_hint: hint, groups }
    }
}

/// A valid user name from a provider's hint (characters outside the naming rule become `-`).
pub(crate) fn username_from(hint: &str) -> String {
    let name: String = hint
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '-' })
        .take(48)
        .collect();
    if name.is_empty() { "user".into() } else { name }
}
