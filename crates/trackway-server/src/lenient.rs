//! Integers in request bodies as JSON Schema counts them: `12.0` is the integer 12. The OpenAPI
//! document says `integer`, which JSON Schema satisfies with any integral number, so generated
//! clients (and the schemathesis run in `make test`) may send `12.0`; serde alone refuses it.
//! Fractions, negatives and values past the Rust type's range are still refused (400).

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// A non-negative integer, written `12` or `12.0`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Int(pub u64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Int, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        if let Some(u) = n.as_u64() {
            return Ok(Int(u));
        }
        // Every f64 at or above 2^53 is integral; 2^64 is the first past u64::MAX.
        match n.as_f64() {
            Some(f) if (0.0..18_446_744_073_709_551_616.0).contains(&f) && f.fract() == 0.0 => Ok(Int(f as u64)),
            _ => Err(serde::de::Error::custom(format!("expected a non-negative integer, got {n}"))),
        }
    }
}

fn narrow<T: TryFrom<u64>, E: serde::de::Error>(v: u64) -> Result<T, E> {
    T::try_from(v).map_err(|_| E::custom(format!("integer {v} is out of range")))
}

pub(crate) fn u64_<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Int::deserialize(d).map(|i| i.0)
}

pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(Option::<Int>::deserialize(d)?.map(|i| i.0))
}

pub(crate) fn opt_usize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    Option::<Int>::deserialize(d)?.map(|i| narrow(i.0)).transpose()
}

pub(crate) fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Option::<Int>::deserialize(d)?.map(|i| narrow(i.0)).transpose()
}

/// An ingest body's `records`: `[position, record]` pairs, the records left unparsed.
pub(crate) fn records<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Vec<(u64, &'a RawValue)>, D::Error> {
    let pairs = Vec::<(Int, &'a RawValue)>::deserialize(d)?;
    Ok(pairs.into_iter().map(|(p, r)| (p.0, r)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Q {
        #[serde(default, deserialize_with = "opt_usize")]
        n: Option<usize>,
        #[serde(deserialize_with = "u64_")]
        m: u64,
    }

    #[test]
    fn integral_floats_are_integers_and_nothing_else_is() {
        let q: Q = serde_json::from_str(r#"{"n": 12.0, "m": 1e19}"#).expect("integral floats");
        assert_eq!((q.n, q.m), (Some(12), 10_000_000_000_000_000_000));
        let q: Q = serde_json::from_str(r#"{"m": 18446744073709551615}"#).expect("u64::MAX");
        assert_eq!((q.n, q.m), (None, u64::MAX));
        for bad in [r#"{"m": 1.5}"#, r#"{"m": -1}"#, r#"{"m": 1.8446744073709552e19}"#, r#"{"m": "1"}"#] {
            assert!(serde_json::from_str::<Q>(bad).is_err(), "{bad}");
        }
    }
}
