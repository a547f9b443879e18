//! `trackway restore`/`pull` argument handling and run resolution (the CLI module only prints).
mod common;

use clap::Parser;
use common::{first_record, git, run_dir, tree, write};
use trackway_capture::capture_run;
use trackway_capture::cli::{PullArgs, RestoreArgs, resolve_source, run_pull, run_restore};

#[derive(Parser)]
struct Restore {
    #[command(flatten)]
    args: RestoreArgs,
}

#[derive(Parser)]
struct Pull {
    #[command(flatten)]
    args: PullArgs,
}

#[test]
fn restore_by_local_run_id_and_pull() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q"]);
    write(&repo.join("train.py"), b"x = 1\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "c"]);
    write(&repo.join("train.py"), b"x = 2\n");
    // The run lives under <cwd>/trackway, as init() puts it.
    let cwd = tmp.path().join("work");
    let run = run_dir(
        &cwd.join("trackway"),
        "cli1",
        serde_json::json!({"code_path": repo.join("train.py")}),
        serde_json::json!({}),
    );
    capture_run(&run, &first_record(&run)).expect("capture");
    git(tmp.path(), &["clone", "-q", repo.to_str().expect("utf8"), tmp.path().join("fresh").to_str().expect("utf8")]);

    let parsed = Restore::try_parse_from(["restore", "cli1", "--repo", "../fresh", "--no-files"]).expect("parse");
    assert!(parsed.args.no_files && !parsed.args.no_branch);
    let report = run_restore(&parsed.args, &cwd).expect("restore");
    assert_eq!(report.branch.as_deref(), Some("trackway/cli1"));
    assert!(report.pulled.is_none());
    assert_eq!(tree(&repo, &[".git"]), tree(&tmp.path().join("fresh"), &[".git", "trackway"]));

    let p = Pull::try_parse_from(["pull", run.to_str().expect("utf8")]).expect("parse");
    let (dest, pulled) = run_pull(&p.args, &cwd).expect("pull by directory");
    assert_eq!(dest, cwd.join("trackway/pulled/cli1"));
    assert!(pulled.downloaded.contains(&"diff.patch".to_string()));
    assert!(dest.join("trackway-metadata.json").is_file());
}

#[test]
fn unresolvable_runs_explain_themselves() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let err = |run: &str, base: Option<&str>| {
        resolve_source(run, base, tmp.path()).err().map(|e| e.to_string()).unwrap_or_default()
    };
    assert!(err("nosuchid", None).contains("no local run nosuchid"));
    assert!(err("a/b/c/d", None).contains("expected a run directory"));
    // A server source needs a key; none is configured in this environment.
    let e = err("e/p/id", Some("http://127.0.0.1:9"));
    assert!(e.contains("API key") || e.is_empty(), "{e}");
}
