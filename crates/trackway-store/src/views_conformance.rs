//! The conformance suite every [`ViewStore`] backend must pass: expand
//! [`view_store_conformance!`] with an expression that makes a fresh, empty [`crate::Storage`]
//! (or something that derefs to one). Compiled only for tests and behind `testsuite`.

use crate::views::{MAX_VIEW_STATE, NewView, ViewStore};
use crate::{Result, StoreError};

#[macro_export]
macro_rules! view_store_conformance {
    ($make:expr) => {
        $crate::view_store_conformance!(@cases $make;
            views_save_list_get_delete, views_are_private_until_shared, views_one_project_default,
            views_reject_bad_input);
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                let store = $make;
                $crate::views_conformance::$case(&*store.views).expect(stringify!($case));
            }
        )*
    };
}

fn view(owner: &str, name: &str, state: &str) -> NewView {
    NewView {
        entity: "alice".into(),
        project: "proj".into(),
        owner: owner.into(),
        name: name.into(),
        state: state.into(),
        ..NewView::default()
    }
}

/// Save creates, saving again under the same name replaces, delete removes.
pub fn views_save_list_get_delete(s: &dyn ViewStore) -> Result<()> {
    let a = s.save_view(&view("alice", "loss charts", "?s=0.5"))?;
    assert_eq!((a.name.as_str(), a.state.as_str(), a.shared, a.default), ("loss charts", "?s=0.5", false, false));
    let b = s.save_view(&view("alice", "loss charts", "?s=0.9"))?;
    assert_eq!(b.id, a.id, "same owner and name: the same view");
    assert_eq!(s.get_view("alice", "proj", a.id, "alice")?.state, "?s=0.9");
    s.save_view(&view("alice", "another", "?x=_runtime"))?;
    let names: Vec<String> = s.list_views("alice", "proj", "alice")?.into_iter().map(|v| v.name).collect();
    assert_eq!(names, ["another", "loss charts"]);
    assert!(s.list_views("alice", "other", "alice")?.is_empty(), "views belong to one project");
    s.delete_view("alice", "proj", a.id, "alice")?;
    assert!(matches!(s.get_view("alice", "proj", a.id, "alice"), Err(StoreError::NotFound(_))));
    assert!(matches!(s.delete_view("alice", "proj", a.id, "alice"), Err(StoreError::NotFound(_))));
    Ok(())
}

/// Another user sees a view only once it is shared, and can never delete it.
pub fn views_are_private_until_shared(s: &dyn ViewStore) -> Result<()> {
    let v = s.save_view(&view("alice", "mine", "?a=1"))?;
    assert!(s.list_views("alice", "proj", "bob")?.is_empty());
    assert!(matches!(s.get_view("alice", "proj", v.id, "bob"), Err(StoreError::NotFound(_))));
    s.save_view(&NewView { shared: true, ..view("alice", "mine", "?a=2") })?;
    assert_eq!(s.list_views("alice", "proj", "bob")?.len(), 1);
    assert_eq!(s.get_view("alice", "proj", v.id, "bob")?.state, "?a=2");
    assert!(matches!(s.delete_view("alice", "proj", v.id, "bob"), Err(StoreError::NotFound(_))));
    // Bob's view of the same name is his own.
    let own = s.save_view(&view("bob", "mine", "?b=1"))?;
    assert_ne!(own.id, v.id);
    assert_eq!(s.list_views("alice", "proj", "alice")?.len(), 1, "bob's private view is not alice's");
    Ok(())
}

/// At most one default per project; it is shared and listed first, and survives re-saves.
pub fn views_one_project_default(s: &dyn ViewStore) -> Result<()> {
    let a = s.save_view(&NewView { default: true, ..view("alice", "a", "?1") })?;
    assert!(a.default && a.shared, "a default view is shared");
    let b = s.save_view(&NewView { default: true, ..view("bob", "b", "?2") })?;
    let list = s.list_views("alice", "proj", "carol")?;
    assert_eq!(list.iter().filter(|v| v.default).count(), 1);
    assert_eq!(list[0].id, b.id, "the default comes first");
    let again = s.save_view(&view("bob", "b", "?3"))?;
    assert!(again.default && again.shared, "re-saving keeps the default");
    assert!(!s.get_view("alice", "proj", a.id, "alice")?.default);
    Ok(())
}

/// Names and sizes are bounded.
pub fn views_reject_bad_input(s: &dyn ViewStore) -> Result<()> {
    assert!(matches!(s.save_view(&view("alice", " ", "?")), Err(StoreError::Invalid(_))));
    assert!(matches!(s.save_view(&view("alice", &"n".repeat(200), "?")), Err(StoreError::Invalid(_))));
    let big = "x".repeat(MAX_VIEW_STATE + 1);
    assert!(matches!(s.save_view(&view("alice", "big", &big)), Err(StoreError::Limit(_))));
    Ok(())
}
