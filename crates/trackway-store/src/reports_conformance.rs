//! The conformance suite every [`ReportStore`] backend must pass: expand
//! [`report_store_conformance!`] with an expression that makes a fresh, empty
//! [`crate::Storage`] (or something that derefs to one). Compiled only for tests and behind
//! `testsuite`.

use crate::reports::{MAX_REPORT_BODY, MAX_REPORT_VERSIONS, NewReport, ReportEdit, ReportStore};
use crate::{Result, StoreError, Visibility};

#[macro_export]
macro_rules! report_store_conformance {
    ($make:expr) => {
        $crate::report_store_conformance!(@cases $make;
            reports_create_get_list_delete, reports_versions_and_restore, reports_refuse_a_stale_base,
            reports_visibility_and_comments, reports_reject_bad_input, reports_keep_bounded_history);
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                let store = $make;
                $crate::reports_conformance::$case(&*store.reports).expect(stringify!($case));
            }
        )*
    };
}

fn report(title: &str, body: &str) -> NewReport {
    NewReport {
        entity: "team".into(),
        title: title.into(),
        body: body.into(),
        author: "alice".into(),
        visibility: Visibility::Private,
    }
}

fn edit(title: &str, body: &str, base: Option<u64>) -> ReportEdit {
    ReportEdit { title: title.into(), body: body.into(), author: "bob".into(), base_version: base }
}

/// A report is created at version 1, belongs to one entity, lists newest first and deletes
/// with everything it holds.
pub fn reports_create_get_list_delete(s: &dyn ReportStore) -> Result<()> {
    let a = s.create_report(&report("Loss study", r#"{"blocks":[]}"#))?;
    assert_eq!((a.version, a.created_by.as_str(), a.visibility), (1, "alice", Visibility::Private));
    assert_eq!(s.get_report("team", a.id)?, a);
    assert!(matches!(s.get_report("other", a.id), Err(StoreError::NotFound(_))), "reports belong to one entity");
    let b = s.create_report(&report("Second", r#"{"blocks":[{"type":"markdown","text":"hi"}]}"#))?;
    s.update_report("team", a.id, &edit("Loss study v2", r#"{"blocks":[]}"#, Some(1)))?;
    let titles: Vec<String> = s.list_reports("team")?.into_iter().map(|r| r.title).collect();
    assert_eq!(titles, ["Loss study v2", "Second"], "most recently updated first");
    assert!(s.list_reports("other")?.is_empty());
    s.add_report_comment("team", b.id, "bob", "nice")?;
    s.delete_report("team", b.id)?;
    assert!(matches!(s.get_report("team", b.id), Err(StoreError::NotFound(_))));
    assert!(matches!(s.report_comments("team", b.id), Err(StoreError::NotFound(_))));
    assert!(matches!(s.delete_report("team", b.id), Err(StoreError::NotFound(_))));
    Ok(())
}

/// Each change is a version; an unchanged save writes none; restore brings an old version back
/// as a new one.
pub fn reports_versions_and_restore(s: &dyn ReportStore) -> Result<()> {
    let r = s.create_report(&report("R", r#"{"blocks":[1]}"#))?;
    let v2 = s.update_report("team", r.id, &edit("R", r#"{"blocks":[2]}"#, Some(1)))?;
    assert_eq!((v2.version, v2.updated_by.as_str(), v2.created_by.as_str()), (2, "bob", "alice"));
    let same = s.update_report("team", r.id, &edit("R", r#"{"blocks":[2]}"#, Some(2)))?;
    assert_eq!(same.version, 2, "an unchanged save writes no version");
    let v3 = s.update_report("team", r.id, &edit("R3", r#"{"blocks":[3]}"#, None))?;
    assert_eq!(v3.version, 3);
    let versions: Vec<u64> = s.report_versions("team", r.id)?.iter().map(|v| v.version).collect();
    assert_eq!(versions, [3, 2, 1]);
    assert_eq!(s.report_version("team", r.id, 1)?.body, r#"{"blocks":[1]}"#);
    assert!(matches!(s.report_version("team", r.id, 9), Err(StoreError::NotFound(_))));
    let restored = s.restore_report_version("team", r.id, 1, "carol")?;
    assert_eq!((restored.version, restored.title.as_str(), restored.body.as_str()), (4, "R", r#"{"blocks":[1]}"#));
    assert_eq!(s.report_version("team", r.id, 3)?.title, "R3", "restoring keeps the history");
    Ok(())
}

/// A save based on an older version is refused and changes nothing.
pub fn reports_refuse_a_stale_base(s: &dyn ReportStore) -> Result<()> {
    let r = s.create_report(&report("R", "{}"))?;
    s.update_report("team", r.id, &edit("R", r#"{"a":1}"#, Some(1)))?;
    let stale = s.update_report("team", r.id, &edit("R", r#"{"b":2}"#, Some(1)));
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert_eq!(s.get_report("team", r.id)?.body, r#"{"a":1}"#);
    assert!(matches!(s.update_report("team", 999_999, &edit("R", "{}", None)), Err(StoreError::NotFound(_))));
    Ok(())
}

/// Visibility is stored per report; comments list oldest first.
pub fn reports_visibility_and_comments(s: &dyn ReportStore) -> Result<()> {
    let r = s.create_report(&NewReport { visibility: Visibility::Team, ..report("R", "{}") })?;
    assert_eq!(r.visibility, Visibility::Team);
    let p = s.set_report_visibility("team", r.id, Visibility::Public)?;
    assert_eq!((p.visibility, p.version), (Visibility::Public, 1), "visibility is not a document version");
    assert_eq!(s.list_reports("team")?[0].visibility, Visibility::Public);
    assert!(matches!(s.set_report_visibility("other", r.id, Visibility::Public), Err(StoreError::NotFound(_))));
    s.add_report_comment("team", r.id, "bob", "first")?;
    s.add_report_comment("team", r.id, "alice", "second")?;
    let texts: Vec<(String, String)> =
        s.report_comments("team", r.id)?.into_iter().map(|c| (c.author, c.text)).collect();
    assert_eq!(texts, [("bob".into(), "first".into()), ("alice".into(), "second".into())]);
    assert!(matches!(s.add_report_comment("team", r.id, "bob", "  "), Err(StoreError::Invalid(_))));
    Ok(())
}

/// Titles, documents and comments are bounded and checked.
pub fn reports_reject_bad_input(s: &dyn ReportStore) -> Result<()> {
    assert!(matches!(s.create_report(&report(" ", "{}")), Err(StoreError::Invalid(_))));
    assert!(matches!(s.create_report(&report(&"t".repeat(201), "{}")), Err(StoreError::Invalid(_))));
    assert!(matches!(s.create_report(&report("R", "[1]")), Err(StoreError::Invalid(_))), "a document is an object");
    let big = format!(r#"{{"x":"{}"}}"#, "x".repeat(MAX_REPORT_BODY));
    assert!(matches!(s.create_report(&report("R", &big)), Err(StoreError::Limit(_))));
    let r = s.create_report(&report("R", "{}"))?;
    assert!(matches!(s.update_report("team", r.id, &edit("R", "not json", None)), Err(StoreError::Invalid(_))));
    assert!(matches!(s.add_report_comment("team", r.id, "bob", &"c".repeat(4001)), Err(StoreError::Invalid(_))));
    Ok(())
}

/// Only the newest [`MAX_REPORT_VERSIONS`] versions are kept.
pub fn reports_keep_bounded_history(s: &dyn ReportStore) -> Result<()> {
    let r = s.create_report(&report("R", r#"{"n":0}"#))?;
    for n in 1..=MAX_REPORT_VERSIONS + 5 {
        s.update_report("team", r.id, &edit("R", &format!(r#"{{"n":{n}}}"#), None))?;
    }
    let versions = s.report_versions("team", r.id)?;
    assert_eq!(versions.len() as u64, MAX_REPORT_VERSIONS);
    assert_eq!(versions[0].version, MAX_REPORT_VERSIONS + 6);
    assert!(matches!(s.report_version("team", r.id, 1), Err(StoreError::NotFound(_))), "the oldest are dropped");
    Ok(())
}
