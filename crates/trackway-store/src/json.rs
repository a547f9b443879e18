//! Edits of config objects (the summary's rule is `trackway_types::summary`), kept as Trackway JSON (`serde_json` values whose tagged
//! forms `$f`/`$int`/`$map` are left untouched), and the key catalogue's flattening.

use serde_json::{Map, Value as Json};

use crate::filter::json_path;

/// How deep nested config/summary objects are catalogued as dotted keys.
const MAX_KEY_DEPTH: usize = 4;

/// Whether an object is a Trackway tagged value (a leaf, not a nested map).
fn is_tagged(obj: &Map<String, Json>) -> bool {
    obj.len() == 1 && obj.keys().next().is_some_and(|k| matches!(k.as_str(), "$f" | "$int" | "$map"))
}

/// `config` record: top-level keys of `data` replace, then `remove` deletes.
pub fn apply_config(config: &mut Map<String, Json>, data: Map<String, Json>, remove: &[String]) {
    for (k, v) in data {
        config.insert(k, v);
    }
    for k in remove {
        config.remove(k);
    }
}

/// Dotted keys of an object with their JSON paths; nested objects are walked to
/// [`MAX_KEY_DEPTH`], and a nested object's own key is listed too.
pub fn flatten_keys(obj: &Map<String, Json>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk(obj, &mut Vec::new(), &mut out);
    out
}

fn walk<'a>(obj: &'a Map<String, Json>, prefix: &mut Vec<&'a str>, out: &mut Vec<(String, String)>) {
    for (k, v) in obj {
        prefix.push(k);
        out.push((prefix.join("."), json_path(prefix.iter().copied())));
        if let Json::Object(inner) = v
            && !is_tagged(inner)
            && prefix.len() < MAX_KEY_DEPTH
        {
            walk(inner, prefix, out);
        }
        prefix.pop();
    }
}

/// Parses a stored JSON object column.
pub fn parse_object(text: &str) -> Result<Map<String, Json>, serde_json::Error> {
    match serde_json::from_str(text)? {
        Json::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

/// Converts a Trackway map to JSON (the `Value` serializer writes the tagged forms).
pub fn to_json_map(map: &trackway_types::Map) -> Map<String, Json> {
    map.iter().map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(Json::Null))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_but_not_tagged_values() {
        let Json::Object(m) = json!({"m":{"layers":4},"x":{"$f":"NaN"}}) else { panic!() };
        let keys: Vec<String> = flatten_keys(&m).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["m", "m.layers", "x"]);
    }
}
