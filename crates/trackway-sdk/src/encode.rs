//! Hand-written encoders for the two records written on the hot path. They produce exactly what
//! `Record::encode_into` produces, without building a `Record` (which would need the data map
//! by value) and with the `t` tag first, which lets readers take their fast path.

use trackway_types::Map;

fn float(out: &mut Vec<u8>, f: f64) {
    // Timestamps and runtimes are finite; a non-finite clock would still give valid JSON.
    let f = if f.is_finite() { f } else { 0.0 };
    let mut b = ryu::Buffer::new();
    out.extend_from_slice(b.format_finite(f).as_bytes());
}

fn map(out: &mut Vec<u8>, data: &Map) {
    // Serialising a Map of Values into a Vec cannot fail: keys are strings.
    let _ = serde_json::to_writer(&mut *out, &MapRef(data));
}

struct MapRef<'a>(&'a Map);

impl serde::Serialize for MapRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// `{"t":"history","step":S,"ts":..,"rt":..,"data":{..}}`
pub fn history(out: &mut Vec<u8>, step: u64, ts: f64, rt: f64, data: &Map) {
    out.extend_from_slice(b"{\"t\":\"history\",\"step\":");
    out.extend_from_slice(itoa::Buffer::new().format(step).as_bytes());
    out.extend_from_slice(b",\"ts\":");
    float(out, ts);
    out.extend_from_slice(b",\"rt\":");
    float(out, rt);
    out.extend_from_slice(b",\"data\":");
    map(out, data);
    out.push(b'}');
}

/// `{"t":"summary","full":{..}}`
pub fn full_summary(out: &mut Vec<u8>, summary: &Map) {
    out.extend_from_slice(b"{\"t\":\"summary\",\"full\":");
    map(out, summary);
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use trackway_types::{HistoryRecord, Record, SummaryRecord, Value};

    #[test]
    fn history_encoding_parses_back_to_the_same_record() {
        let mut data = Map::new();
        data.insert("loss".into(), Value::Float(1.0));
        data.insert("nan".into(), Value::Float(f64::NAN));
        data.insert("big".into(), Value::BigInt("123456789012345678901234567890".into()));
        data.insert("$f".into(), Value::Str("tag-like key".into()));
        let mut out = Vec::new();
        history(&mut out, 7, 1764361240.123456, 5.5, &data);
        let rec = Record::parse(&out).expect("parse");
        let Record::History(h) = rec else { panic!("not history: {}", String::from_utf8_lossy(&out)) };
        assert_eq!((h.step, h.ts, h.rt), (7, 1764361240.123456, 5.5));
        assert_eq!(h.data.len(), 4);
        assert!(matches!(h.data.get("nan"), Some(Value::Float(f)) if f.is_nan()));
        assert_eq!(h.data.get("loss"), Some(&Value::Float(1.0)));
        assert_eq!(h.data.get("big"), data.get("big"));
        let mut std_enc = Vec::new();
        let mut d2 = Map::new();
        d2.insert("a".into(), Value::Int(1));
        Record::History(HistoryRecord { step: 1, ts: 2.0, rt: 3.0, data: d2.clone() }).encode_into(&mut std_enc);
        let mut mine = Vec::new();
        history(&mut mine, 1, 2.0, 3.0, &d2);
        assert_eq!(String::from_utf8_lossy(&mine), String::from_utf8_lossy(&std_enc));
    }

    #[test]
    fn full_summary_parses_back() {
        let mut s = Map::new();
        s.insert("x".into(), Value::Float(f64::INFINITY));
        let mut out = Vec::new();
        full_summary(&mut out, &s);
        let Record::Summary(SummaryRecord { full: Some(f), .. }) = Record::parse(&out).expect("parse") else {
            panic!("not a full summary")
        };
        assert_eq!(f.get("x"), Some(&Value::Float(f64::INFINITY)));
    }
}
