//! The summary rule, in one place for the SDK (live `run.summary`), the run-log replay
//! (resume, `trackway runs show`) and the server's ingest, so the three always agree.
//!
//! wandb's semantics (shared/reference/wandb-api-surface.md, "summary"): after each committed
//! row every logged key updates the summary to its last value, and nested dicts stay nested and
//! merge leaf by leaf (`log({"a": {"b": 1}})` then `log({"a": {"c": 2}})` gives
//! `{"a": {"b": 1, "c": 2}}`), since wandb sends a nested value as one item per leaf path. A
//! `summary` record (`run.summary[k] = v`, `update`, `del`, the SDK's periodic full summary)
//! replaces whole top-level keys, sets, then deletes paths.

use crate::{Map, SummaryRecord, Value};

/// How a logged leaf value enters the summary. The default stores it as the key's last value;
/// the SDK's `define_metric` aggregates (min/max/mean/first, `summary="none"`) override it.
pub trait LeafRule {
    /// Whether [`LeafRule::leaf`] needs the leaf's dotted name (built only then: the common
    /// case costs no string work).
    fn wants_path(&self) -> bool {
        false
    }

    /// Stores `value` as `parent[key]`; `path` is the dotted name when [`Self::wants_path`].
    fn leaf(&mut self, _path: &str, parent: &mut Map, key: String, value: Value) {
        parent.insert(key, value);
    }
}

/// Each key's last logged value.
pub struct LastValue;

impl LeafRule for LastValue {}

/// Merges one logged key of a committed row into the summary: a non-empty map descends into
/// the summary's map at that key (a non-map value there is replaced by a map), anything else
/// is a leaf given to `rule`.
pub fn merge_logged(summary: &mut Map, key: String, value: Value, rule: &mut impl LeafRule) {
    let mut path = String::new();
    merge_at(summary, &mut path, key, value, rule);
}

fn merge_at(parent: &mut Map, path: &mut String, key: String, value: Value, rule: &mut impl LeafRule) {
    let mark = path.len();
    if rule.wants_path() {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(&key);
    }
    match value {
        Value::Map(children) if !children.is_empty() => {
            let slot = parent.entry(key).or_insert_with(|| Value::Map(Map::new()));
            if !matches!(slot, Value::Map(_)) {
                *slot = Value::Map(Map::new());
            }
            if let Value::Map(inner) = slot {
                for (k, v) in children {
                    merge_at(inner, path, k, v, rule);
                }
            }
        }
        leaf => rule.leaf(path, parent, key, leaf),
    }
    path.truncate(mark);
}

/// Applies one `summary` record: `full` replaces, then `set` replaces top-level keys, then
/// `del` removes paths (missing ones are ignored).
pub fn apply_record(summary: &mut Map, rec: SummaryRecord) {
    if let Some(full) = rec.full {
        *summary = full;
    }
    summary.extend(rec.set);
    for path in &rec.del {
        remove_path(summary, path);
    }
}

/// Removes a nested key path; returns whether something was removed.
pub fn remove_path(map: &mut Map, path: &[String]) -> bool {
    match path {
        [] => false,
        [last] => map.shift_remove(last).is_some(),
        [first, rest @ ..] => match map.get_mut(first) {
            Some(Value::Map(inner)) => remove_path(inner, rest),
            _ => false,
        },
    }
}

/// Sets a nested key path, creating (or replacing non-map) intermediate maps.
pub fn set_path(map: &mut Map, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            map.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let slot = map.entry(first.clone()).or_insert_with(|| Value::Map(Map::new()));
            if !matches!(slot, Value::Map(_)) {
                *slot = Value::Map(Map::new());
            }
            if let Value::Map(inner) = slot {
                set_path(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, Value)]) -> Map {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    }

    #[test]
    fn nested_logged_values_merge_leaf_by_leaf() {
        let mut s = Map::new();
        merge_logged(&mut s, "a".into(), Value::Map(map(&[("b", Value::Int(1))])), &mut LastValue);
        merge_logged(&mut s, "a".into(), Value::Map(map(&[("c", Value::Int(2))])), &mut LastValue);
        assert_eq!(s["a"], Value::Map(map(&[("b", Value::Int(1)), ("c", Value::Int(2))])));
        // A leaf replaces a map and a map replaces a leaf; an empty map is a leaf.
        merge_logged(&mut s, "a".into(), Value::Int(3), &mut LastValue);
        assert_eq!(s["a"], Value::Int(3));
        merge_logged(&mut s, "a".into(), Value::Map(map(&[("d", Value::Int(4))])), &mut LastValue);
        assert_eq!(s["a"], Value::Map(map(&[("d", Value::Int(4))])));
        merge_logged(&mut s, "e".into(), Value::Map(Map::new()), &mut LastValue);
        assert_eq!(s["e"], Value::Map(Map::new()));
    }

    #[test]
    fn summary_records_replace_top_level_keys_then_delete_paths() {
        let mut s = map(&[("a", Value::Map(map(&[("b", Value::Int(1)), ("c", Value::Int(2))])))]);
        let set = map(&[("x", Value::Int(9))]);
        apply_record(&mut s, SummaryRecord { full: None, set, del: vec![vec!["a".into(), "b".into()]] });
        assert_eq!(s, map(&[("a", Value::Map(map(&[("c", Value::Int(2))]))), ("x", Value::Int(9))]));
        apply_record(&mut s, SummaryRecord { full: Some(map(&[("y", Value::Int(1))])), ..Default::default() });
        assert_eq!(s, map(&[("y", Value::Int(1))]));
        assert!(!remove_path(&mut s, &["y".into(), "z".into()]));
    }
}
