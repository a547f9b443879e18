//! The conformance suite of [`crate::AccountStore`] backends: deactivation, scoped and expiring
//! keys, last-admin guards, invites, sessions, visibility, project moves and the audit log.
//! Expand [`account_store_conformance!`] like `metadata_store_conformance!`.

use serde_json::json;

use crate::{
    CreateRun, KeyScope, NewKey, NewUser, Result, Role, RunKey, Storage, StoreError, TeamInfo, UserPatch, Visibility,
};

/// Expands the accounts suite as `#[test]` functions; `$make` builds a fresh storage.
#[macro_export]
macro_rules! account_store_conformance {
    ($make:expr) => {
        $crate::account_store_conformance!(@cases $make;
            deactivation_stops_keys_and_sessions, key_scope_expiry_and_revocation, last_admin_is_kept,
            invites_expire_and_are_single_use, visibility_and_project_move, audit_log_pages,
            users_logins_and_teams);
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                let store = $make;
                $crate::conformance_accounts::$case(&*store).expect(stringify!($case));
            }
        )*
    };
}

fn users(st: &Storage) -> Result<()> {
    st.metadata.create_user("alice", true)?;
    st.accounts.create_account(&NewUser { username: "bob".into(), ..NewUser::default() })?;
    st.metadata.create_team("lab", "alice")?;
    Ok(())
}

fn key(st: &Storage, user: &str, scope: KeyScope, expires_at: Option<f64>) -> Result<String> {
    let new = NewKey { username: user.into(), name: Some("k".into()), expires_at, scope };
    Ok(st.accounts.create_key(&new)?.key)
}

pub fn deactivation_stops_keys_and_sessions(st: &Storage) -> Result<()> {
    users(st)?;
    let a = &*st.accounts;
    let k = key(st, "bob", KeyScope::default(), None)?;
    let bob = a.authenticate_key(&k, 1e9)?.expect("bob's key works");
    let session = a.create_session(bob.user_id, 4e9)?;
    assert!(a.session(&session.token, 1e9)?.is_some_and(|(_, csrf)| csrf == session.csrf));
    let info = a.update_user("bob", &UserPatch { active: Some(false), ..UserPatch::default() })?;
    assert!(!info.active);
    assert!(a.authenticate_key(&k, 1e9)?.is_none(), "a deactivated user's key stops at once");
    assert!(st.metadata.authenticate(&k)?.is_none());
    assert!(a.session(&session.token, 1e9)?.is_none());
    assert!(a.principal_of(bob.user_id)?.is_none());
    a.update_user("bob", &UserPatch { active: Some(true), ..UserPatch::default() })?;
    assert!(a.authenticate_key(&k, 1e9)?.is_some());
    assert!(a.session(&session.token, 5e9)?.is_none(), "sessions expire");
    Ok(())
}

pub fn key_scope_expiry_and_revocation(st: &Storage) -> Result<()> {
    users(st)?;
    let a = &*st.accounts;
    let scoped = KeyScope { read_only: true, ingest_only: false, entity: Some("lab".into()) };
    let k = key(st, "alice", scoped.clone(), Some(2e9))?;
    let who = a.authenticate_key(&k, 1e9)?.expect("valid before expiry");
    assert_eq!(who.scope, scoped);
    assert!(!who.admin, "an entity-scoped key is never a server-admin key");
    assert!(who.can_access("lab", false) && !who.can_access("lab", true) && !who.can_access("alice", false));
    assert!(a.authenticate_key(&k, 3e9)?.is_none(), "expired");
    let keys = a.list_keys(Some("alice"))?;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].last_used_at, Some(1e9));
    assert!(matches!(a.revoke_key(Some("bob"), keys[0].id), Err(StoreError::NotFound(_))));
    a.revoke_key(Some("alice"), keys[0].id)?;
    assert!(a.authenticate_key(&k, 1e9)?.is_none(), "revoked");
    assert!(a.list_keys(None)?[0].revoked_at.is_some());
    let bad = NewKey {
        username: "alice".into(),
        scope: KeyScope { entity: Some("nope".into()), ..KeyScope::default() },
        ..NewKey::default()
    };
    assert!(matches!(a.create_key(&bad), Err(StoreError::NotFound(_))));
    Ok(())
}

pub fn last_admin_is_kept(st: &Storage) -> Result<()> {
    users(st)?;
    let a = &*st.accounts;
    assert!(matches!(a.remove_member("lab", "alice"), Err(StoreError::Invalid(_))));
    assert!(matches!(a.set_role("lab", "alice", Role::Member), Err(StoreError::Invalid(_))));
    a.set_role("lab", "bob", Role::Admin)?;
    a.set_role("lab", "alice", Role::Viewer)?;
    let members = a.list_members("lab")?;
    let roles: Vec<_> = members.iter().map(|m| (m.username.as_str(), m.role)).collect();
    assert_eq!(roles, vec![("alice", Role::Viewer), ("bob", Role::Admin)]);
    a.remove_member("lab", "alice")?;
    assert!(matches!(a.remove_member("lab", "alice"), Err(StoreError::NotFound(_))));
    Ok(())
}

pub fn invites_expire_and_are_single_use(st: &Storage) -> Result<()> {
    users(st)?;
    let a = &*st.accounts;
    let inv = a.create_invite("lab", Role::Member, "alice", 2e9)?;
    assert!(a.get_invite(&inv.token)?.is_some_and(|i| i.open(1e9) && !i.open(3e9)));
    assert!(matches!(a.accept_invite(&inv.token, "bob", 3e9), Err(StoreError::Invalid(_))), "expired");
    let done = a.accept_invite(&inv.token, "bob", 1e9)?;
    assert_eq!(done.accepted_by.as_deref(), Some("bob"));
    assert!(matches!(a.accept_invite(&inv.token, "bob", 1e9), Err(StoreError::Invalid(_))), "single use");
    assert!(a.list_members("lab")?.iter().any(|m| m.username == "bob" && m.role == Role::Member));
    let down = a.create_invite("lab", Role::Viewer, "alice", 2e9)?;
    a.accept_invite(&down.token, "alice", 1e9)?;
    assert!(a.list_members("lab")?.iter().any(|m| m.username == "alice" && m.role == Role::Admin), "never downgrades");
    let revoked = a.create_invite("lab", Role::Viewer, "alice", 2e9)?;
    a.revoke_invite("lab", revoked.info.id)?;
    assert!(matches!(a.accept_invite(&revoked.token, "bob", 1e9), Err(StoreError::Invalid(_))));
    assert_eq!(a.list_invites("lab")?.len(), 3);
    assert!(a.get_invite("tw_unknown")?.is_none());
    Ok(())
}

pub fn visibility_and_project_move(st: &Storage) -> Result<()> {
    users(st)?;
    let a = &*st.accounts;
    let run = RunKey { entity: "alice".into(), project: "p".into(), run_id: "r1".into() };
    st.metadata.create_or_resume(&CreateRun { key: Some(run.clone()), ..CreateRun::default() })?;
    assert_eq!(a.project_visibility("alice", "p")?, Some(Visibility::Private));
    assert_eq!(a.project_visibility("alice", "nope")?, None);
    a.set_visibility("alice", "p", Visibility::Public)?;
    assert_eq!(a.project_visibility("alice", "p")?, Some(Visibility::Public));
    a.move_project("alice", "p", "lab")?;
    let moved = RunKey { entity: "lab".into(), ..run.clone() };
    assert_eq!(st.metadata.get_run(&moved)?.run_id, "r1");
    assert!(st.metadata.get_run(&run).is_err());
    st.metadata.create_or_resume(&CreateRun { key: Some(run), ..CreateRun::default() })?;
    assert!(matches!(a.move_project("alice", "p", "lab"), Err(StoreError::AlreadyExists(_))));
    assert!(matches!(a.set_visibility("x", "y", Visibility::Team), Err(StoreError::ProjectNotFound(_))));
    Ok(())
}

pub fn audit_log_pages(st: &Storage) -> Result<()> {
    let a = &*st.accounts;
    for i in 0..5 {
        a.audit(Some("alice"), "key.create", Some(&format!("key {i}")), &json!({"i": i}))?;
    }
    a.audit(None, "login.failed", None, &json!({}))?;
    let first = a.audit_log(3, None)?;
    assert_eq!(first.len(), 3);
    assert_eq!((first[0].action.as_str(), first[0].actor.as_deref()), ("login.failed", None));
    let rest = a.audit_log(10, Some(first[2].id))?;
    assert_eq!(rest.len(), 3);
    assert_eq!(rest[2].detail, json!({"i": 0}));
    Ok(())
}

/// Service accounts never log in with a password; passwords, OIDC subjects, admin flags, team
/// listings and signing out behave alike on every backend.
pub fn users_logins_and_teams(st: &Storage) -> Result<()> {
    users(st)?;
    let a = &*st.accounts;
    let hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned());
    a.create_account(&NewUser {
        username: "ci".into(),
        service: true,
        password_hash: hash.clone(),
        ..NewUser::default()
    })?;
    let carol = NewUser {
        username: "carol".into(),
        password_hash: hash.clone(),
        oidc_subject: Some("iss#42".into()),
        ..NewUser::default()
    };
    let carol_id = a.create_account(&carol)?.user_id;
    assert!(matches!(
        a.create_account(&NewUser { username: "lab".into(), ..NewUser::default() }),
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        a.create_account(&NewUser { username: "no/slash".into(), ..NewUser::default() }),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(a.password_login("ci")?, None, "a service account has keys only");
    assert_eq!(a.password_login("carol")?, Some((carol_id, hash.clone().unwrap_or_default())));
    assert_eq!(a.user_by_oidc("iss#42")?.as_deref(), Some("carol"));
    assert_eq!(a.user_by_oidc("iss#43")?, None);
    let listed: Vec<(String, bool, bool, bool)> =
        a.list_users()?.into_iter().map(|u| (u.username, u.service, u.has_password, u.sso)).collect();
    assert_eq!(listed[..2], [("alice".to_owned(), false, false, false), ("bob".to_owned(), false, false, false)]);
    assert_eq!(listed[2..], [("carol".to_owned(), false, true, true), ("ci".to_owned(), true, true, false)]);
    let admin = a.update_user("carol", &UserPatch { admin: Some(true), ..UserPatch::default() })?;
    assert!(admin.admin && a.principal_by_name("carol")?.is_some_and(|p| p.admin));
    a.update_user("carol", &UserPatch { active: Some(false), ..UserPatch::default() })?;
    assert_eq!(a.password_login("carol")?, None, "deactivated");
    assert!(a.principal_by_name("carol")?.is_none() && a.principal_by_name("nobody")?.is_none());
    let bob = a.principal_by_name("bob")?.expect("bob");
    assert!(a.list_teams(&bob)?.iter().all(|t| t.name != "lab"), "bob is not in lab yet");
    a.set_role("lab", "bob", Role::Viewer)?;
    let teams = a.list_teams(&bob)?;
    let lab = TeamInfo { name: "lab".into(), kind: "team".into(), role: Some(Role::Viewer), members: 2 };
    assert!(teams.contains(&lab), "{teams:?}");
    let session = a.create_session(bob.user_id, 4e9)?;
    a.delete_session(&session.token)?;
    assert!(a.session(&session.token, 1e9)?.is_none(), "signed out");
    assert!(matches!(a.list_members("nope"), Err(StoreError::NotFound(_))));
    Ok(())
}
