//! `define_metric`: metric definitions, glob matching, summary aggregates and step-metric sync.

use std::collections::HashMap;

use trackway_types::summary::LeafRule;
use trackway_types::{Map, MetricRecord, Value};

use crate::SdkError;

/// One summary aggregate of a metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    Min,
    Max,
    Mean,
    First,
    Last,
    /// `min` or `max` depending on the goal (`max` without a goal), reported as `best`.
    Best,
}

impl Agg {
    fn name(self) -> &'static str {
        match self {
            Agg::Min => "min",
            Agg::Max => "max",
            Agg::Mean => "mean",
            Agg::First => "first",
            Agg::Last => "last",
            Agg::Best => "best",
        }
    }
}

/// A validated `define_metric` call.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricDef {
    pub name: String,
    pub step_metric: Option<String>,
    pub step_sync: bool,
    pub aggs: Vec<Agg>,
    /// `summary` contained `none`: the key is kept out of the summary.
    pub no_summary: bool,
    pub minimize: Option<bool>,
    pub hidden: bool,
    /// The record as written to the log.
    pub record: MetricRecord,
}

impl MetricDef {
    /// Validates the arguments of `define_metric`. `summary` entries may themselves be comma
    /// lists (`"min,max"`).
    pub fn new(
        name: &str,
        step_metric: Option<&str>,
        step_sync: Option<bool>,
        summary: &[String],
        goal: Option<&str>,
        hidden: Option<bool>,
    ) -> Result<MetricDef, SdkError> {
        let invalid = |m: String| SdkError::InvalidMetric(m);
        // Only a trailing `*` is a glob: `*` alone or `prefix/*`.
        let glob_ok = match name.strip_suffix('*') {
            Some(prefix) => (prefix.is_empty() || prefix.ends_with('/')) && !prefix.contains('*'),
            None => !name.contains('*'),
        };
        if name.is_empty() || !glob_ok {
            return Err(invalid(format!(
                "metric name {name:?}: globs must be \"*\" or end with \"/*\" (e.g. \"train/*\")"
            )));
        }
        if step_metric.is_some_and(|s| s.is_empty() || s.contains('*')) {
            return Err(invalid("step_metric must be a metric name without globs".into()));
        }
        let minimize = match goal.map(str::to_ascii_lowercase).as_deref() {
            None => None,
            Some("min" | "minimize") => Some(true),
            Some("max" | "maximize") => Some(false),
            Some(g) => {
                return Err(invalid(format!("goal {g:?}: expected minimize or maximize")));
            }
        };
        let (mut aggs, mut no_summary) = (Vec::new(), false);
        for item in summary.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
            let agg = match item.to_ascii_lowercase().as_str() {
                "min" => Agg::Min,
                "max" => Agg::Max,
                "mean" => Agg::Mean,
                "first" => Agg::First,
                "last" => Agg::Last,
                "best" => Agg::Best,
                "copy" => continue, // wandb's deprecated default: the plain last value
                "none" => {
                    no_summary = true;
                    continue;
                }
                other => {
                    return Err(invalid(format!("summary {other:?}: expected min, max, mean, first, last or none")));
                }
            };
            if !aggs.contains(&agg) {
                aggs.push(agg);
            }
        }
        let step_sync = step_metric.is_some() && step_sync.unwrap_or(true);
        let record = MetricRecord {
            name: name.to_owned(),
            step_metric: step_metric.map(str::to_owned),
            step_sync: step_metric.map(|_| step_sync),
            summary: summary
                .iter()
                .flat_map(|s| s.split(','))
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect(),
            goal: minimize.map(|m| if m { "minimize" } else { "maximize" }.to_owned()),
            hidden,
        };
        Ok(MetricDef {
            name: name.to_owned(),
            step_metric: step_metric.map(str::to_owned),
            step_sync,
            aggs,
            no_summary,
            minimize,
            hidden: hidden.unwrap_or(false),
            record,
        })
    }

    /// This call merged onto an earlier definition of the same name, as wandb merges repeated
    /// `define_metric` calls (a protobuf `MergeFrom` of the metric records unless
    /// `overwrite=True`): aggregates add up, a given step metric or goal replaces the earlier
    /// one, and `hidden`/`step_sync` once set stay set.
    ///
    /// # Errors
    /// None in practice: both records were validated by [`MetricDef::new`].
    pub fn merged_onto(&self, prev: &MetricDef) -> Result<MetricDef, SdkError> {
        let (new, old) = (&self.record, &prev.record);
        let mut summary = old.summary.clone();
        summary.extend(new.summary.iter().filter(|s| !old.summary.contains(s)).cloned());
        let step_metric = new.step_metric.as_deref().or(old.step_metric.as_deref());
        let step_sync = (new.step_sync == Some(true)).then_some(true).or(old.step_sync).or(new.step_sync);
        let goal = new.goal.as_deref().or(old.goal.as_deref());
        let hidden = (new.hidden == Some(true)).then_some(true).or(old.hidden).or(new.hidden);
        MetricDef::new(&self.name, step_metric, step_sync, &summary, goal, hidden)
    }

    fn matches(&self, key: &str) -> Option<usize> {
        if self.name == key {
            return Some(usize::MAX);
        }
        if self.name == "*" {
            return Some(0);
        }
        let prefix = self.name.strip_suffix('*')?;
        key.starts_with(prefix).then_some(prefix.len())
    }

    /// Whether this definition changes how the key's summary is computed.
    fn affects_summary(&self) -> bool {
        self.no_summary || !self.aggs.is_empty()
    }
}

/// `define_metric` in the one summary rule (`trackway_types::summary`): a leaf whose metric
/// has aggregates stores them, `summary="none"` stores nothing, any other leaf its last value.
impl LeafRule for Metrics {
    fn wants_path(&self) -> bool {
        !self.is_empty()
    }

    fn leaf(&mut self, path: &str, parent: &mut Map, key: String, value: Value) {
        if self.is_empty() || !self.summarize(path, &value, parent, &key) {
            parent.insert(key, value);
        }
    }
}

/// Running aggregate of one metric key.
#[derive(Clone, Debug, Default)]
struct AggState {
    min: Option<f64>,
    max: Option<f64>,
    sum: f64,
    count: u64,
    first: Option<Value>,
}

/// All metric definitions of a run, with a per-key cache of which definition applies.
#[derive(Debug, Default)]
pub struct Metrics {
    defs: Vec<MetricDef>,
    /// key (dotted path) -> index into `defs` of the most specific match.
    cache: HashMap<String, Option<usize>>,
    aggs: HashMap<String, AggState>,
    /// Last logged value of every key used as a step metric.
    step_values: HashMap<String, Value>,
}

impl Metrics {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    /// Adds a definition, merged onto an earlier one of the same name unless `overwrite`
    /// ([`MetricDef::merged_onto`]); returns the definition now in force.
    ///
    /// # Errors
    /// As [`MetricDef::merged_onto`].
    pub fn define(&mut self, def: MetricDef, overwrite: bool) -> Result<&MetricDef, SdkError> {
        if let Some(step) = &def.step_metric {
            self.step_values.entry(step.clone()).or_insert(Value::Null);
        }
        self.cache.clear();
        let index = match self.defs.iter().position(|d| d.name == def.name) {
            Some(i) => {
                self.defs[i] = if overwrite { def } else { def.merged_onto(&self.defs[i])? };
                i
            }
            None => {
                self.defs.push(def);
                self.defs.len() - 1
            }
        };
        Ok(&self.defs[index])
    }

    /// The definition for `key`: an exact name wins, then the longest glob prefix, then the
    /// latest definition.
    pub fn lookup(&mut self, key: &str) -> Option<&MetricDef> {
        self.lookup_index(key).map(|i| &self.defs[i])
    }

    fn lookup_index(&mut self, key: &str) -> Option<usize> {
        match self.cache.get(key) {
            Some(i) => *i,
            None => {
                let best = self
                    .defs
                    .iter()
                    .enumerate()
                    .filter_map(|(i, d)| d.matches(key).map(|score| (score, i)))
                    .max()
                    .map(|(_, i)| i);
                self.cache.insert(key.to_owned(), best);
                best
            }
        }
    }

    /// step_sync: for each key of the fragment whose metric has a synced step metric that the
    /// row lacks (neither in `data` nor in the pending row), adds the step metric's last value.
    /// Also records the latest value of every step metric seen in `data`.
    pub fn sync_step_metrics(&mut self, data: &mut Map, pending: &Map) {
        if self.defs.is_empty() {
            return;
        }
        for (k, v) in data.iter() {
            if let Some(slot) = self.step_values.get_mut(k.as_str()) {
                *slot = v.clone();
            }
        }
        let mut fills: Vec<(String, Value)> = Vec::new();
        for key in data.keys() {
            let Some(def) = self.lookup(key) else {
                continue;
            };
            let Some(step) = def.step_metric.as_ref().filter(|_| def.step_sync) else {
                continue;
            };
            if step == key
                || data.contains_key(step)
                || pending.contains_key(step)
                || fills.iter().any(|(k, _)| k == step)
            {
                continue;
            }
            let step = step.clone();
            if let Some(v) = self.step_values.get(&step).filter(|v| !matches!(v, Value::Null)) {
                fills.push((step, v.clone()));
            }
        }
        data.extend(fills);
    }

    /// Applies one committed row value (key `path`, already dotted for nested values) to the
    /// summary entry `slot` of `parent`. Returns false when the key has no special definition,
    /// so the caller stores the plain value.
    pub fn summarize(&mut self, path: &str, value: &Value, parent: &mut Map, leaf: &str) -> bool {
        let Some(i) = self.lookup_index(path) else {
            return false;
        };
        let def = &self.defs[i];
        if !def.affects_summary() {
            return false;
        }
        if def.no_summary {
            parent.shift_remove(leaf);
            return true;
        }
        if !self.aggs.contains_key(path) {
            self.aggs.insert(path.to_owned(), AggState::default());
        }
        let Some(st) = self.aggs.get_mut(path) else {
            return false;
        };
        if st.first.is_none() {
            st.first = Some(value.clone());
        }
        // Non-numbers and NaN are skipped by min/max/mean (NaN would poison every later value).
        if let Some(x) = value.as_f64().filter(|x| !x.is_nan()) {
            st.min = Some(st.min.map_or(x, |m| m.min(x)));
            st.max = Some(st.max.map_or(x, |m| m.max(x)));
            st.sum += x;
            st.count += 1;
        }
        let mut out = Map::new();
        for agg in &def.aggs {
            let v = match agg {
                Agg::Min => st.min.map(Value::Float),
                Agg::Max => st.max.map(Value::Float),
                Agg::Mean => (st.count > 0).then(|| Value::Float(st.sum / st.count as f64)),
                Agg::First => st.first.clone(),
                Agg::Last => Some(value.clone()),
                Agg::Best => if def.minimize == Some(true) { st.min } else { st.max }.map(Value::Float),
            };
            if let Some(v) = v {
                let v = if matches!(agg, Agg::Mean) { v } else { keep_int(v, value) };
                out.insert(agg.name().to_owned(), v);
            }
        }
        parent.insert(leaf.to_owned(), Value::Map(out));
        true
    }
}

/// min/max of integers stay integers when the value itself is an integer (e.g. epochs).
fn keep_int(agg: Value, sample: &Value) -> Value {
    match (&agg, sample) {
        (Value::Float(f), Value::Int(_)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::Int(*f as i64),
        _ => agg,
    }
}
