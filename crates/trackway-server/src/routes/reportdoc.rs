//! The document of a report (docs/reports.md): chart settings and a list of blocks, each a
//! markdown text or a live panel over a named run set (a project and a run filter). The store
//! keeps the document as opaque JSON; this is where its shape is declared (for the OpenAPI
//! document) and checked, so that what the document allows is what the server accepts.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};

use crate::{ApiError, ApiResult};

/// Most blocks in a report, most metrics or columns in a panel.
pub(crate) const MAX_BLOCKS: usize = 200;
pub(crate) const MAX_KEYS: usize = 32;
/// Longest markdown block (characters), metric or column key, title or run-set name.
pub(crate) const MAX_TEXT: usize = 65_536;
pub(crate) const MAX_KEY: usize = 256;
pub(crate) const MAX_LABEL: usize = 200;
/// Largest smoothing weight (exponential moving average), as in the workspace.
pub(crate) const MAX_SMOOTHING: f64 = 0.999;

/// A report's document.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportDoc {
    /// Chart settings every panel of the report uses.
    #[serde(default)]
    pub(crate) settings: ReportSettings,
    #[schema(max_items = 200)]
    pub(crate) blocks: Vec<Block>,
}

/// The report's own chart settings (not the workspace's).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportSettings {
    /// Exponential smoothing weight, 0 (none) to 0.999.
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 0.999)]
    pub(crate) smoothing: f64,
    /// The x axis of line charts: `_step`, `_runtime`, `_timestamp` or a metric.
    #[serde(default = "default_x")]
    #[schema(min_length = 1, max_length = 256)]
    pub(crate) x: String,
}

fn default_x() -> String {
    "_step".into()
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings { smoothing: 0.0, x: default_x() }
    }
}

/// One block of a report.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(crate) enum Block {
    /// Markdown text (CommonMark subset: headings, emphasis, code, lists, links).
    Markdown {
        #[schema(max_length = 65536)]
        text: String,
    },
    /// A live panel: the viewer's browser queries the run set's project when it opens.
    Panel {
        kind: PanelKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(max_length = 200)]
        title: Option<String>,
        runset: RunSet,
        /// Line charts: the metrics drawn. Scatter: `[x, y]` run-table fields. Run table: the
        /// columns (run-table fields such as `summary.loss`, `config.lr`).
        #[serde(default)]
        #[schema(max_items = 32, value_type = Vec<String>)]
        keys: Vec<String>,
    },
}

/// What a panel draws.
#[derive(Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PanelKind {
    Line,
    Scatter,
    Runs,
}

/// A named set of runs: a project and a run filter (the run table's filter language).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunSet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub(crate) name: Option<String>,
    pub(crate) entity: String,
    pub(crate) project: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = filter_or_null)]
    pub(crate) filters: Option<Value>,
}

/// The run filter's schema (the component the run list's `filters` parameter uses), or null.
fn filter_or_null() -> Schema {
    OneOfBuilder::new()
        .item(RefOr::Ref(Ref::new(crate::openapi::FILTER_REF)))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

fn too_long(what: &str, text: &str, max: usize) -> ApiResult<()> {
    if text.chars().count() > max {
        return Err(ApiError::BadRequest(format!("{what} has at most {max} characters")));
    }
    Ok(())
}

impl ReportDoc {
    /// The checks the Rust types do not make: sizes, names and filters.
    pub(crate) fn check(&self) -> ApiResult<()> {
        let s = &self.settings;
        if !(0.0..=MAX_SMOOTHING).contains(&s.smoothing) {
            return Err(ApiError::BadRequest(format!("smoothing is between 0 and {MAX_SMOOTHING}")));
        }
        if s.x.is_empty() {
            return Err(ApiError::BadRequest("the x axis is a non-empty key".into()));
        }
        too_long("the x axis", &s.x, MAX_KEY)?;
        if self.blocks.len() > MAX_BLOCKS {
            return Err(ApiError::BadRequest(format!("a report has at most {MAX_BLOCKS} blocks")));
        }
        self.blocks.iter().try_for_each(Block::check)
    }
}

impl Block {
    fn check(&self) -> ApiResult<()> {
        match self {
            Block::Markdown { text } => too_long("a markdown block", text, MAX_TEXT),
            Block::Panel { title, runset, keys, .. } => {
                too_long("a panel title", title.as_deref().unwrap_or(""), MAX_LABEL)?;
                if keys.len() > MAX_KEYS {
                    return Err(ApiError::BadRequest(format!("a panel has at most {MAX_KEYS} keys")));
                }
                keys.iter().try_for_each(|k| too_long("a panel key", k, MAX_KEY))?;
                runset.check()
            }
        }
    }
}

impl RunSet {
    fn check(&self) -> ApiResult<()> {
        too_long("a run set name", self.name.as_deref().unwrap_or(""), MAX_LABEL)?;
        for name in [&self.entity, &self.project] {
            trackway_types::limits::check_name("run set project", name)
                .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        }
        if let Some(f) = &self.filters {
            trackway_store::parse_filter(f).map_err(ApiError::from)?;
        }
        Ok(())
    }
}
