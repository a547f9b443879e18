//! Settings resolution order: defaults < workspace settings file < env < args.

use std::collections::HashMap;

use trackway_config::{Credentials, HostCredentials};
use trackway_sdk::settings::{Mode, resolve_with};
use trackway_sdk::{Value, map};

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let m: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |k: &str| m.get(k).cloned()
}

fn no_creds() -> Credentials {
    Credentials::default()
}

#[test]
fn defaults() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = resolve_with(&map! {}, tmp.path(), &env_of(&[]), &no_creds).expect("resolve");
    assert_eq!(s.mode, Mode::Online);
    assert_eq!(s.project, "uncategorized");
    assert_eq!(s.root, tmp.path().join("trackway"));
    assert_eq!(s.finish_timeout, 5.0);
    assert!(s.tags.is_empty() && !s.silent && s.base_url.is_none() && s.api_key.is_none());
}

#[test]
fn file_then_env_then_args() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().join("trackway");
    trackway_config::write_workspace_setting(&root, "mode", Some("offline")).expect("write");
    trackway_config::write_workspace_setting(&root, "project", Some("fromfile")).expect("write");
    trackway_config::write_workspace_setting(&root, "entity", Some("ent")).expect("write");
    let env = env_of(&[("PROJECT", "fromenv"), ("TAGS", "a, b,,c"), ("SILENT", "true"), ("RUN_GROUP", "g")]);
    let s = resolve_with(&map! {}, tmp.path(), &env, &no_creds).expect("resolve");
    assert_eq!((s.mode, s.project.as_str(), s.entity.as_deref()), (Mode::Offline, "fromenv", Some("ent")));
    assert_eq!(s.tags, vec!["a", "b", "c"]);
    assert!(s.silent);
    assert_eq!(s.group.as_deref(), Some("g"));
    let args = map! {"project" => "fromargs", "mode" => "dryrun", "tags" => Value::List(vec![Value::from("x")]), "entity" => Value::Null};
    let s = resolve_with(&args, tmp.path(), &env, &no_creds).expect("resolve");
    assert_eq!((s.mode, s.project.as_str(), s.entity.as_deref()), (Mode::Offline, "fromargs", Some("ent")));
    assert_eq!(s.tags, vec!["x"]);
}

#[test]
fn dir_from_env_moves_the_root_and_its_settings_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let other = tmp.path().join("other");
    trackway_config::write_workspace_setting(&other.join("trackway"), "mode", Some("disabled")).expect("w");
    let env = env_of(&[("DIR", other.to_str().expect("utf8"))]);
    let s = resolve_with(&map! {}, tmp.path(), &env, &no_creds).expect("resolve");
    assert_eq!(s.root, other.join("trackway"));
    assert_eq!(s.mode, Mode::Disabled);
}

#[test]
fn bad_values_are_errors() {
    let tmp = tempfile::tempdir().expect("tmp");
    let env = env_of(&[]);
    let r = |args| resolve_with(&args, tmp.path(), &env, &no_creds);
    assert!(r(map! {"mode" => "sometimes"}).is_err());
    assert!(r(map! {"id" => "a/b"}).is_err());
    assert!(r(map! {"resume" => "perhaps"}).is_err());
    assert!(r(map! {"finish_timeout" => "soon"}).is_err());
    assert_eq!(r(map! {"resume" => true}).expect("ok").resume.as_deref(), Some("allow"));
    assert_eq!(r(map! {"mode" => "run"}).expect("ok").mode, Mode::Online);
}

#[test]
fn stored_login_fills_base_url_and_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    let creds = || {
        let mut c = Credentials { default_host: Some("http://h:1".into()), ..Default::default() };
        c.set_host("http://h:1", HostCredentials { api_key: "k1".into(), entity: None });
        c.set_host("http://other:2", HostCredentials { api_key: "k2".into(), entity: Some("team".into()) });
        c
    };
    let s = resolve_with(&map! {}, tmp.path(), &env_of(&[]), &creds).expect("resolve");
    assert_eq!((s.base_url.as_deref(), s.api_key.as_deref()), (Some("http://h:1"), Some("k1")));
    let env = env_of(&[("BASE_URL", "http://other:2/")]);
    let s = resolve_with(&map! {}, tmp.path(), &env, &creds).expect("resolve");
    assert_eq!((s.base_url.as_deref(), s.api_key.as_deref()), (Some("http://other:2"), Some("k2")));
    assert_eq!(s.entity.as_deref(), Some("team"), "the login's entity is the default");
    let args = map! { "entity" => "mine" };
    let s = resolve_with(&args, tmp.path(), &env, &creds).expect("resolve");
    assert_eq!(s.entity.as_deref(), Some("mine"), "an explicit entity wins");
    let env = env_of(&[("API_KEY", "envkey")]);
    let s = resolve_with(&map! {}, tmp.path(), &env, &creds).expect("resolve");
    assert_eq!(s.api_key.as_deref(), Some("envkey"));
}
