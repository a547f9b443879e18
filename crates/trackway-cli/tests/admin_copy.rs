//! `trackway admin migrate --from sqlite://DIR --to postgres://... --blobs s3://...`: the three
//! URLs go together, and a source that is not an installation fails before anything is touched
//! (the copy itself: crates/trackway-server/tests/migrate_copy.rs).

#[test]
fn copying_needs_all_three_urls_and_an_installation_to_copy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let from = format!("sqlite://{}", dir.path().display());
    let run = |extra: &[&str]| {
        let mut argv = vec!["trackway", "admin", "migrate", "--from", from.as_str()];
        argv.extend_from_slice(extra);
        trackway_cli::run(argv)
    };
    assert_eq!(run(&[]), 2, "--to and --blobs are required with --from");
    assert_eq!(run(&["--to", "postgres://u@127.0.0.1:1/db"]), 2, "--blobs is required");
    let all = ["--to", "postgres://u@127.0.0.1:1/db", "--blobs", "s3://bucket"];
    assert_eq!(run(&all), 1, "no trackway.db in the directory: an error, not a usage error");
    assert!(!dir.path().join("trackway.db").exists(), "nothing was created in the source");
}
