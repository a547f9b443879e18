//! Saved workspace views: a named UI state (the workspace's URL query) per project and per
//! user, optionally shared with the project's readers, one of them the project's default.
//!
//! [`ViewStore`] is backend-neutral; the SQLite implementation lives in `sqlite/views.rs` and
//! every backend runs the `view_store_conformance!` cases of `conformance`.

use serde::Serialize;

use crate::Result;

/// Longest view name (bytes).
pub const MAX_VIEW_NAME: usize = 128;
/// Largest stored state (bytes): a workspace URL query with many panels stays far below.
pub const MAX_VIEW_STATE: usize = 64 * 1024;
/// Most views one user keeps in one project.
pub const MAX_VIEWS_PER_USER: u64 = 200;

/// A view to save: upserted by `(entity, project, owner, name)`.
#[derive(Clone, Debug, Default)]
pub struct NewView {
    pub entity: String,
    pub project: String,
    pub owner: String,
    pub name: String,
    pub state: String,
    pub shared: bool,
    /// Make this the project's default (the previous default loses the flag). A default view
    /// is always shared.
    pub default: bool,
}

/// A stored view as the API returns it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SavedView {
    pub id: i64,
    pub entity: String,
    pub project: String,
    pub owner: String,
    pub name: String,
    pub state: String,
    pub shared: bool,
    pub default: bool,
    pub created_at: f64,
    pub updated_at: f64,
}

/// Storage of saved views. Each method is one transaction.
pub trait ViewStore: Send + Sync + 'static {
    /// Creates or replaces the owner's view of that name; returns it.
    fn save_view(&self, view: &NewView) -> Result<SavedView>;
    /// The views `viewer` may open in a project: their own and the shared ones, the default
    /// first, then by name.
    fn list_views(&self, entity: &str, project: &str, viewer: &str) -> Result<Vec<SavedView>>;
    /// One view, if `viewer` owns it or it is shared; `NotFound` otherwise.
    fn get_view(&self, entity: &str, project: &str, id: i64, viewer: &str) -> Result<SavedView>;
    /// Deletes a view `viewer` owns (`NotFound` for anyone else's).
    fn delete_view(&self, entity: &str, project: &str, id: i64, viewer: &str) -> Result<()>;
}

/// The checks every backend applies before storing a view.
///
/// # Errors
/// `Invalid` for an empty or over-long name, `Limit` for an over-large state.
pub fn validate_view(view: &NewView) -> Result<()> {
    use crate::StoreError;
    if view.name.trim().is_empty() || view.name.chars().count() > MAX_VIEW_NAME {
        return Err(StoreError::Invalid(format!("a view name has 1 to {MAX_VIEW_NAME} characters, not all blank")));
    }
    if view.state.len() > MAX_VIEW_STATE {
        return Err(StoreError::Limit(format!("a view's state holds at most {MAX_VIEW_STATE} bytes")));
    }
    Ok(())
}

/// The per-user cap, checked before a new view (not a replaced one) is stored: `existing` is how
/// many views the owner already keeps in the project.
///
/// # Errors
/// `Limit` at [`MAX_VIEWS_PER_USER`].
pub fn check_view_count(existing: u64) -> Result<()> {
    if existing >= MAX_VIEWS_PER_USER {
        return Err(crate::StoreError::Limit(format!("a user keeps at most {MAX_VIEWS_PER_USER} views per project")));
    }
    Ok(())
}
