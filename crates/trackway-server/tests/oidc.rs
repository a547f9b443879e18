//! OpenID Connect sign-in against a local provider double started by the test: discovery, the
//! authorization endpoint (records the PKCE challenge and nonce, redirects back with a code),
//! the token endpoint (checks the S256 verifier, signs an RS256 ID token with a test-only key)
//! and the JWKS endpoint. Trackway is driven with `oneshot`; it reaches the provider over TCP.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::TestServer;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use trackway_server::{AuthSettings, GroupMapping, OidcSettings};
use trackway_store::Role;

/// A key made for this test only (never used anywhere else); its public half is [`MODULUS`].
const KEY_PEM: &[u8] = include_bytes!("fixtures/oidc-test-only-key.pem");
const MODULUS: &str = "7PJzinomgJ63LI4HZzLbiWpf0Ks-69qS580CPiciomzwhl5ZUy38pxCiz6Kb4fJk6Z1NAARQ4w45K6qGbzeZEa2E0JL_A_9gNEbpuBiOC-iaU8cRMNglc1BnJEnHJww2K8akZ117p45AukOSt7rBsy7I6HMqlRl9zusiJ4kJUivZf3SNIK1XfXJeVAyUjvmFWNa6QS1RonZ8JN2-l7gjTbF56VlDYqGvMBqJgddE7ntxF7iIKxajdD6_wmLUOJXPnF8545uOMm4LJxO3rRL-kQeBLGXBh2GyS_tg196IVVSBqVVq0D6NK63fPZEQF3Z2JWzUThyVOPEhFUncz6qaGQ";
const CLIENT: &str = "trackway-test";

#[derive(Default)]
struct Provider {
    issuer: String,
    /// code → (challenge, nonce, redirect_uri)
    codes: HashMap<String, (String, String, String)>,
    /// The audience the next ID token names (a wrong one must be refused).
    audience: Option<String>,
}

type Shared = Arc<Mutex<Provider>>;

async fn discovery(State(p): State<Shared>) -> axum::Json<Value> {
    let iss = p.lock().expect("lock").issuer.clone();
    axum::Json(json!({
        "issuer": iss, "authorization_endpoint": format!("{iss}/authorize"), "token_endpoint": format!("{iss}/token"),
        "jwks_uri": format!("{iss}/jwks"), "response_types_supported": ["code"], "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"]
    }))
}

async fn authorize(State(p): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let need = ["client_id", "redirect_uri", "state", "nonce", "code_challenge"];
    if need.iter().any(|k| !q.contains_key(*k)) || q.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return (StatusCode::BAD_REQUEST, "missing parameter or not S256").into_response();
    }
    let code = format!("code-{}", q["state"].len() + p.lock().expect("lock").codes.len());
    let redirect = q["redirect_uri"].clone();
    p.lock()
        .expect("lock")
        .codes
        .insert(code.clone(), (q["code_challenge"].clone(), q["nonce"].clone(), redirect.clone()));
    Redirect::to(&format!("{redirect}?code={code}&state={}", q["state"])).into_response()
}

async fn token(State(p): State<Shared>, Form(f): Form<HashMap<String, String>>) -> Response {
    let mut p = p.lock().expect("lock");
    let Some((challenge, nonce, redirect)) = f.get("code").and_then(|c| p.codes.remove(c)) else {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "invalid_grant"}))).into_response();
    };
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    let pkce_ok = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge;
    if !pkce_ok || f.get("redirect_uri") != Some(&redirect) || f.get("client_id").map(String::as_str) != Some(CLIENT) {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "invalid_grant"}))).into_response();
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let claims = json!({
        "iss": p.issuer, "aud": p.audience.clone().unwrap_or_else(|| CLIENT.into()), "sub": "u-123", "nonce": nonce,
        "iat": now, "exp": now + 300, "preferred_username": "Grace Hopper", "groups": ["ml-team", "other"]
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("k1".into());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(KEY_PEM).expect("test key");
    let id_token = jsonwebtoken::encode(&header, &claims, &key).expect("sign");
    axum::Json(json!({"access_token": "at", "token_type": "Bearer", "id_token": id_token})).into_response()
}

async fn jwks() -> axum::Json<Value> {
    axum::Json(json!({"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": MODULUS, "e": "AQAB"}]}))
}

async fn start_provider() -> Shared {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let shared: Shared = Arc::new(Mutex::new(Provider {
        issuer: format!("http://{}", listener.local_addr().expect("addr")),
        ..Provider::default()
    }));
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .route("/jwks", get(jwks))
        .with_state(shared.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    shared
}

fn server(issuer: &str) -> TestServer {
    let settings = OidcSettings {
        issuer: issuer.into(),
        client_id: CLIENT.into(),
        client_secret: Some("s3cret".into()),
        groups_claim: Some("groups".into()),
        group_mappings: vec![GroupMapping::parse("ml-team=lab:member").expect("mapping")],
        display_name: "Test IdP".into(),
    };
    let s = TestServer::with_state(|st| st.with_auth(AuthSettings { oidc: Some(settings), ..AuthSettings::default() }));
    s.state.store.create_team("lab", "alice").expect("team");
    s
}

async fn send(s: &TestServer, uri: &str, cookie: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri).header("host", "trackway.test");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    s.raw(req.body(Body::empty()).expect("request")).await
}

fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
}

/// The `name=value` part of the `Set-Cookie` for `name`.
fn cookie_pair(headers: &HeaderMap, name: &str) -> String {
    set_cookies(headers)
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .expect(name)
}

/// Follows the provider's authorization endpoint (as the browser would) to the callback URI.
async fn provider_redirect(location: &str) -> String {
    let url = location.to_owned();
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent =
            ureq::Agent::config_builder().max_redirects(0).http_status_as_error(false).build().into();
        let resp = agent.get(&url).call().expect("authorize");
        assert_eq!(resp.status().as_u16(), 303, "the provider redirects back");
        resp.headers()["location"].to_str().expect("location").to_owned()
    })
    .await
    .expect("join")
}

/// Starts a sign-in: the flow cookie and the callback URI the provider sends the browser to.
async fn begin(s: &TestServer) -> (String, String) {
    let (status, headers, _) = send(s, "/api/v1/auth/oidc/login", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers["location"].to_str().expect("location").to_owned();
    assert!(location.contains("code_challenge_method=S256") && location.contains("nonce="), "{location}");
    assert!(
        location.contains("redirect_uri=http%3A%2F%2Ftrackway.test%2Fapi%2Fv1%2Fauth%2Foidc%2Fcallback"),
        "{location}"
    );
    let flow = cookie_pair(&headers, "tw_oidc");
    let callback = provider_redirect(&location).await;
    let path = callback.strip_prefix("http://trackway.test").expect("callback on trackway").to_owned();
    (flow, path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_the_local_provider() {
    let provider = start_provider().await;
    let issuer = provider.lock().expect("lock").issuer.clone();
    let s = server(&issuer);
    let (status, config) = s.call_with("GET", "/api/v1/auth/config", None, None).await;
    assert_eq!((status, config["oidc"].as_str()), (StatusCode::OK, Some("Test IdP")));

    let (flow, callback) = begin(&s).await;
    let (status, headers, body) = send(&s, &callback, Some(&flow)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{}", String::from_utf8_lossy(&body));
    let cookies = set_cookies(&headers);
    let session = cookies.iter().find(|c| c.starts_with("tw_session=")).expect("session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    let session = cookie_pair(&headers, "tw_session");
    let csrf = cookie_pair(&headers, "tw_csrf");

    let (status, _, body) = send(&s, "/api/v1/viewer", Some(&session)).await;
    let viewer: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(viewer["username"], "Grace-Hopper", "a valid name from preferred_username");
    let lab = viewer["memberships"].as_array().expect("memberships").iter().find(|m| m["entity"] == "lab").cloned();
    assert_eq!(lab.map(|m| m["role"].clone()), Some(json!("member")), "group ml-team maps to lab:member");

    // A change with the cookie needs the CSRF header.
    let change = |with_csrf: bool| {
        let mut req = Request::post("/api/v1/keys")
            .header("cookie", format!("{session}; {csrf}"))
            .header("content-type", "application/json");
        if with_csrf {
            req = req.header("x-csrf-token", csrf.trim_start_matches("tw_csrf="));
        }
        req.body(Body::from("{}")).expect("request")
    };
    let (status, _, body) = s.raw(change(false)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{}", String::from_utf8_lossy(&body));
    assert_eq!(s.raw(change(true)).await.0, StatusCode::OK);

    // Signing in again finds the same user (by issuer + subject), not a new one.
    let (flow, callback) = begin(&s).await;
    assert_eq!(send(&s, &callback, Some(&flow)).await.0, StatusCode::SEE_OTHER);
    let users = s.state.accounts.list_users().expect("users");
    assert_eq!(users.iter().filter(|u| u.sso).count(), 1);
    assert!(s.state.accounts.list_members("lab").expect("members").iter().any(|m| m.role == Role::Member));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_or_replayed_callbacks_are_refused() {
    let provider = start_provider().await;
    let issuer = provider.lock().expect("lock").issuer.clone();
    let s = server(&issuer);
    let code =
        |body: &[u8]| serde_json::from_slice::<Value>(body).map(|v| v["error"]["code"].clone()).unwrap_or_default();

    // Another browser's callback (no flow cookie, or a different state).
    let (_, callback) = begin(&s).await;
    let (status, _, body) = send(&s, &callback, None).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, json!("sso_failed")));
    let (other_flow, _) = begin(&s).await;
    assert_eq!(send(&s, &callback, Some(&other_flow)).await.0, StatusCode::BAD_REQUEST, "state mismatch");

    // A flow cookie with a wrong PKCE verifier: the provider refuses the code.
    let (flow, callback) = begin(&s).await;
    let forged = format!("{}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", flow.rsplit_once('.').expect("parts").0);
    let (status, _, body) = send(&s, &callback, Some(&forged)).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, json!("sso_failed")));

    // An ID token for another client (wrong audience) is refused.
    provider.lock().expect("lock").audience = Some("someone-else".into());
    let (flow, callback) = begin(&s).await;
    let (status, _, body) = send(&s, &callback, Some(&flow)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, json!("sso_failed")),
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert!(s.state.accounts.list_users().expect("users").iter().all(|u| !u.sso), "no user was created");
}
