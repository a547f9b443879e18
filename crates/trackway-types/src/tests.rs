use crate::{HistoryRecord, Map, Record, RecordError, Value, from_json, to_json, validate_run_id};

fn map(entries: Vec<(&str, Value)>) -> Map {
    entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Compares values bit-exactly for floats (NaN == NaN, -0.0 != 0.0).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => a == b,
    }
}

fn roundtrip(v: &Value) -> Value {
    let text = to_json(v);
    from_json(&text).unwrap_or_else(|e| panic!("{text} does not decode: {e}"))
}

#[test]
fn special_floats_round_trip_exactly() {
    for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 1.0, 0.1, 1e-300, f64::MAX, 5e-324] {
        let back = roundtrip(&Value::Float(f));
        assert!(same(&back, &Value::Float(f)), "{f} came back as {back:?}");
    }
}

#[test]
fn floats_stay_floats_and_ints_stay_ints() {
    assert_eq!(to_json(&Value::Float(1.0)), "1.0");
    assert_eq!(to_json(&Value::Int(1)), "1");
    assert_eq!(to_json(&Value::Float(-0.0)), "-0.0");
    assert!(matches!(roundtrip(&Value::Float(3.0)), Value::Float(_)));
}

#[test]
fn integers_of_any_size_round_trip() {
    let big = "1180591620717411303424"; // 2^70
    for v in [
        Value::Int(i64::MIN),
        Value::Int(i64::MAX),
        Value::UInt(u64::MAX),
        Value::Int((1 << 53) + 1),
        Value::BigInt(big.to_owned()),
        Value::BigInt(format!("-{big}")),
    ] {
        assert_eq!(roundtrip(&v), v);
    }
    assert_eq!(to_json(&Value::BigInt(big.to_owned())), format!("{{\"$int\":\"{big}\"}}"));
    assert_eq!(Value::from_decimal("-0042"), Some(Value::Int(-42)));
    assert_eq!(Value::from_decimal("00000000000000000000000000001"), Some(Value::Int(1)));
    assert_eq!(Value::from_decimal("12a"), None);
}

#[test]
fn user_maps_that_look_like_tags_are_escaped() {
    let tricky = [
        map(vec![("$f", Value::from("NaN"))]),
        map(vec![("$int", Value::from("5"))]),
        map(vec![("$map", Value::Map(map(vec![("$f", Value::from("NaN"))])))]),
        map(vec![("$map", Value::Int(3)), ("b", Value::Int(1))]),
        map(vec![("$map", Value::Map(map(vec![("x", Value::Int(1))]))), ("b", Value::Int(1))]),
        map(vec![("$f", Value::Float(f64::NAN)), ("other", Value::Null)]),
    ];
    for m in tricky {
        let v = Value::Map(m);
        let back = roundtrip(&v);
        assert!(same(&back, &v), "{v:?} came back as {back:?} via {}", to_json(&v));
    }
}

#[test]
fn nested_unicode_and_order_round_trip() {
    let v = Value::Map(map(vec![
        ("zeta/κ λ", Value::Float(f64::NEG_INFINITY)),
        ("a", Value::Map(map(vec![("b", Value::List(vec![Value::Null, Value::Bool(true), Value::from("é\n\"")]))]))),
        ("", Value::from("")),
    ]));
    let back = roundtrip(&v);
    assert!(same(&back, &v));
    let keys: Vec<_> = back.as_map().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    assert_eq!(keys, vec!["zeta/κ λ", "a", ""]);
}

#[test]
fn malformed_tags_are_errors() {
    assert!(from_json(r#"{"$f":"nan"}"#).is_err());
    assert!(from_json(r#"{"$f":1}"#).is_err());
    assert!(from_json(r#"{"$int":"1.5"}"#).is_err());
}

#[test]
fn records_encode_and_parse() {
    let rec = Record::History(HistoryRecord {
        step: 7,
        ts: 1_764_361_240.123_456,
        rt: 5.5,
        data: map(vec![("loss", Value::Float(f64::NAN)), ("acc", Value::Float(0.5))]),
    });
    let line = rec.to_line();
    let text = String::from_utf8(line.clone()).unwrap_or_default();
    assert!(text.starts_with(r#"{"t":"history","step":7,"#), "{text}");
    assert!(text.ends_with('\n'));
    let back = Record::parse(&line[..line.len() - 1]).expect("parses");
    match (&back, &rec) {
        (Record::History(a), Record::History(b)) => {
            assert_eq!((a.step, a.ts, a.rt), (b.step, b.ts, b.rt));
            assert!(same(&Value::Map(a.data.clone()), &Value::Map(b.data.clone())));
        }
        _ => panic!("wrong record {back:?}"),
    }
}

#[test]
fn records_with_t_not_first_still_parse() {
    let back = Record::parse(br#"{"step":1,"data":{"a":1},"t":"history"}"#).expect("parses");
    assert!(matches!(back, Record::History(h) if h.step == 1));
}

#[test]
fn unknown_types_are_kept_and_bad_lines_rejected() {
    let rec = Record::parse(br#"{"t":"future","x":1}"#).expect("unknown is fine");
    assert!(matches!(&rec, Record::Unknown { t, raw } if t == "future" && raw.len() == 1));
    assert_eq!(rec.to_line(), b"{\"t\":\"future\",\"x\":1}\n".to_vec());
    assert!(matches!(Record::parse(b"{\"t\":\"hist"), Err(RecordError::Json(_))));
    assert!(matches!(Record::parse(b"[1]"), Err(RecordError::NotAnObject)));
    assert!(matches!(Record::parse(b"{\"x\":1}"), Err(RecordError::MissingType)));
    assert!(matches!(Record::parse(br#"{"t":"history","data":{}}"#), Err(RecordError::Invalid { .. })));
    assert!(matches!(Record::parse(br#"{"t":"history","step":-1,"data":{}}"#), Err(RecordError::Invalid { .. })));
}

#[test]
fn run_ids_are_validated() {
    assert!(validate_run_id("name_20240101-12.00").is_ok());
    for bad in ["", "a/b", "a:b", "a%b", "a?b", "a#b", "a\\b", "a\nb"] {
        assert!(validate_run_id(bad).is_err(), "{bad:?} accepted");
    }
    assert!(validate_run_id(&"x".repeat(65)).is_err());
}

/// The decoding cases every language's decoder shares (`testdata/tjson_golden.json`; the web UI's
/// `test/tjson.test.ts` and the Python `test_tjson_golden.py` read the same file).
#[test]
fn golden_decoding_cases_shared_with_typescript_and_python() {
    let golden: serde_json::Value =
        serde_json::from_str(include_str!("../testdata/tjson_golden.json")).expect("golden file is JSON");
    for case in golden["valid"].as_array().expect("valid cases") {
        let text = case["json"].as_str().expect("json text");
        let v = from_json(text).unwrap_or_else(|e| panic!("{text} must decode: {e}"));
        if let Some(n) = case["number"].as_str() {
            let Value::Float(f) = v else { panic!("{text}: expected a float, got {v:?}") };
            assert_eq!(format!("{f}").replace("inf", "Infinity"), n, "{text}");
        } else if let Some(i) = case["int"].as_str() {
            assert_eq!(to_json(&v), format!("{{\"$int\":\"{i}\"}}"), "{text}");
        } else {
            let plain: serde_json::Value = serde_json::from_str(&to_json(&v)).expect("re-encoded");
            let want = &case["value"];
            // An escaped user map re-encodes with its escape; compare what it stands for.
            let got = plain.get("$map").filter(|_| plain.as_object().is_some_and(|o| o.len() == 1)).unwrap_or(&plain);
            assert_eq!(got, want, "{text}");
        }
    }
    for bad in golden["invalid"].as_array().expect("invalid cases") {
        let text = bad.as_str().expect("text");
        assert!(from_json(text).is_err(), "{text} must be refused");
    }
}
