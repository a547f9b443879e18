//! Blob encodings of point arrays and pyramid pages.
//!
//! Every array section starts with a one-byte mode so that the codec can change without a
//! migration (e.g. fall back from pco to byte-shuffle+zstd): `ARITH` (start + stride, for steps
//! logged every k steps: no bytes per point), `PCO`, `RAW` (little-endian, for the live tail
//! where encode speed matters more than size) and `CONST8` (one byte repeated, for value kinds).

use crate::{HistoryError, Result};

const MODE_ARITH: u8 = 0;
const MODE_PCO: u8 = 1;
const MODE_RAW: u8 = 2;
const MODE_CONST8: u8 = 3;
const MODE_RAW8: u8 = 4;

/// pco compression level: measured on f32-origin losses: level 4 encodes ~4x faster than the default 8 at the same size for 4096-point chunks.
const PCO_LEVEL: usize = 4;

/// Value kinds of numeric points (how to turn the stored f64 back into a `Value`).
pub(crate) const KIND_FLOAT: u8 = 0;
pub(crate) const KIND_INT: u8 = 1;
pub(crate) const KIND_UINT: u8 = 2;
/// The point deletes an earlier numeric value at its step (a non-numeric value replaced it).
pub(crate) const KIND_TOMBSTONE: u8 = 3;

fn corrupt(what: &str) -> HistoryError {
    HistoryError::Corrupt(what.to_string())
}

/// Numbers we store: pco-compressible and with a fixed-size little-endian form.
pub(crate) trait Num: pco::data_types::Number + Copy {
    const SIZE: usize;
    fn put_le(self, out: &mut Vec<u8>);
    fn get_le(b: &[u8]) -> Self;
}

impl Num for u64 {
    const SIZE: usize = 8;
    fn put_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get_le(b: &[u8]) -> Self {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        u64::from_le_bytes(a)
    }
}

impl Num for f64 {
    const SIZE: usize = 8;
    fn put_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bits().to_le_bytes());
    }
    fn get_le(b: &[u8]) -> Self {
        f64::from_bits(u64::get_le(b))
    }
}

/// Sequential reader over a blob.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or_else(|| corrupt("length overflow"))?;
        let s = self.buf.get(self.pos..end).ok_or_else(|| corrupt("truncated blob"))?;
        self.pos = end;
        Ok(s)
    }
    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    pub(crate) fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::get_le(self.take(8)?))
    }
    fn section(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_section(out: &mut Vec<u8>, bytes: &[u8]) -> Result<()> {
    let n = u32::try_from(bytes.len()).map_err(|_| HistoryError::Internal("blob too large".into()))?;
    put_u32(out, n);
    out.extend_from_slice(bytes);
    Ok(())
}

fn pco_config() -> pco::ChunkConfig {
    pco::ChunkConfig::default().with_compression_level(PCO_LEVEL)
}

fn put_nums<T: Num>(out: &mut Vec<u8>, data: &[T], compress: bool) -> Result<()> {
    if compress && !data.is_empty() {
        let bytes = pco::standalone::simple_compress(data, &pco_config())
            .map_err(|e| HistoryError::Internal(format!("pco: {e}")))?;
        out.push(MODE_PCO);
        return put_section(out, &bytes);
    }
    out.push(MODE_RAW);
    let mut raw = Vec::with_capacity(data.len() * T::SIZE);
    for &v in data {
        v.put_le(&mut raw);
    }
    put_section(out, &raw)
}

fn get_nums_into<T: Num + Default>(r: &mut Reader<'_>, mode: u8, n: usize, out: &mut Vec<T>) -> Result<()> {
    out.clear();
    if mode == MODE_PCO {
        let bytes = r.section()?;
        out.resize(n, T::default());
        let progress = pco::standalone::simple_decompress_into(bytes, out)
            .map_err(|e| HistoryError::Corrupt(format!("pco: {e}")))?;
        if progress.n_processed != n || !progress.finished {
            return Err(corrupt("array length mismatch"));
        }
        return Ok(());
    }
    out.extend(get_nums::<T>(r, mode, n)?);
    Ok(())
}

fn get_nums<T: Num>(r: &mut Reader<'_>, mode: u8, n: usize) -> Result<Vec<T>> {
    let bytes = r.section()?;
    match mode {
        MODE_PCO => {
            let v: Vec<T> =
                pco::standalone::simple_decompress(bytes).map_err(|e| HistoryError::Corrupt(format!("pco: {e}")))?;
            if v.len() != n {
                return Err(corrupt("array length mismatch"));
            }
            Ok(v)
        }
        MODE_RAW => {
            if bytes.len() != n * T::SIZE {
                return Err(corrupt("raw array length mismatch"));
            }
            Ok(bytes.chunks_exact(T::SIZE).map(T::get_le).collect())
        }
        _ => Err(corrupt("unknown array mode")),
    }
}

/// Steps or other integers: arithmetic progressions (including constants) cost 17 bytes total.
pub(crate) fn put_u64s(out: &mut Vec<u8>, data: &[u64], compress: bool) -> Result<()> {
    if data.len() >= 2 {
        let stride = data[1].wrapping_sub(data[0]);
        let arith = data.windows(2).all(|w| w[1].wrapping_sub(w[0]) == stride);
        if arith {
            out.push(MODE_ARITH);
            out.extend_from_slice(&data[0].to_le_bytes());
            out.extend_from_slice(&stride.to_le_bytes());
            return Ok(());
        }
    }
    put_nums(out, data, compress)
}

fn get_u64s_into(r: &mut Reader<'_>, n: usize, out: &mut Vec<u64>) -> Result<()> {
    let mode = r.u8()?;
    if mode == MODE_ARITH {
        let start = r.u64()?;
        let stride = r.u64()?;
        out.clear();
        out.extend((0..n as u64).map(|i| start.wrapping_add(i.wrapping_mul(stride))));
        return Ok(());
    }
    get_nums_into(r, mode, n, out)
}

pub(crate) fn get_u64s(r: &mut Reader<'_>, n: usize) -> Result<Vec<u64>> {
    let mode = r.u8()?;
    if mode == MODE_ARITH {
        let start = r.u64()?;
        let stride = r.u64()?;
        let mut v = Vec::with_capacity(n);
        let mut s = start;
        for _ in 0..n {
            v.push(s);
            s = s.wrapping_add(stride);
        }
        return Ok(v);
    }
    get_nums(r, mode, n)
}

pub(crate) fn put_f64s(out: &mut Vec<u8>, data: &[f64], compress: bool) -> Result<()> {
    put_nums(out, data, compress)
}

pub(crate) fn get_f64s(r: &mut Reader<'_>, n: usize) -> Result<Vec<f64>> {
    let mode = r.u8()?;
    get_nums(r, mode, n)
}

fn put_kinds(out: &mut Vec<u8>, kinds: &[u8]) -> Result<()> {
    match kinds.first() {
        None => {
            out.push(MODE_CONST8);
            out.push(KIND_FLOAT);
            Ok(())
        }
        Some(&k) if kinds.iter().all(|&x| x == k) => {
            out.push(MODE_CONST8);
            out.push(k);
            Ok(())
        }
        Some(_) => {
            out.push(MODE_RAW8);
            put_section(out, kinds)
        }
    }
}

/// Numeric points of one series, sorted by step unless stated otherwise.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Points {
    pub steps: Vec<u64>,
    pub vals: Vec<f64>,
    pub kinds: Vec<u8>,
}

impl Points {
    pub(crate) fn len(&self) -> usize {
        self.steps.len()
    }
    pub(crate) fn push(&mut self, step: u64, val: f64, kind: u8) {
        self.steps.push(step);
        self.vals.push(val);
        self.kinds.push(kind);
    }
    pub(crate) fn extend_from(&mut self, o: &Points, from: usize, to: usize) {
        self.steps.extend_from_slice(&o.steps[from..to]);
        self.vals.extend_from_slice(&o.vals[from..to]);
        self.kinds.extend_from_slice(&o.kinds[from..to]);
    }
    pub(crate) fn truncate(&mut self, n: usize) {
        self.steps.truncate(n);
        self.vals.truncate(n);
        self.kinds.truncate(n);
    }
    /// Keep only points with lo <= step <= hi (input sorted by step), in place.
    pub(crate) fn clip(&mut self, lo: u64, hi: u64) {
        let a = self.steps.partition_point(|&s| s < lo);
        let b = self.steps.partition_point(|&s| s <= hi);
        if a == 0 && b == self.len() {
            return;
        }
        fn keep<T: Copy>(v: &mut Vec<T>, a: usize, b: usize) {
            if b <= v.len() {
                v.copy_within(a..b, 0);
                v.truncate(b - a);
            }
        }
        keep(&mut self.steps, a, b);
        keep(&mut self.vals, a, b);
        keep(&mut self.kinds, a, b);
    }
}

/// `[u32 n][steps][values][kinds]`.
pub(crate) fn encode_points(p: &Points, compress: bool) -> Result<Vec<u8>> {
    let n = u32::try_from(p.len()).map_err(|_| HistoryError::Internal("too many points".into()))?;
    let mut out = Vec::with_capacity(16 + p.len() * if compress { 4 } else { 17 });
    put_u32(&mut out, n);
    put_u64s(&mut out, &p.steps, compress)?;
    put_f64s(&mut out, &p.vals, compress)?;
    put_kinds(&mut out, &p.kinds)?;
    Ok(out)
}

/// Decode points; with `with_values` false only steps are filled (values and kinds left empty).
pub(crate) fn decode_points(blob: &[u8], with_values: bool) -> Result<Points> {
    let mut p = Points::default();
    decode_points_into(blob, with_values, &mut p)?;
    Ok(p)
}

/// Like `decode_points`, reusing `out`'s buffers (chart scans decode many chunks in a row).
pub(crate) fn decode_points_into(blob: &[u8], with_values: bool, out: &mut Points) -> Result<()> {
    let mut r = Reader::new(blob);
    let n = r.u32()? as usize;
    get_u64s_into(&mut r, n, &mut out.steps)?;
    out.vals.clear();
    out.kinds.clear();
    if !with_values {
        return Ok(());
    }
    let mode = r.u8()?;
    get_nums_into(&mut r, mode, n, &mut out.vals)?;
    match r.u8()? {
        MODE_CONST8 => {
            let k = r.u8()?;
            out.kinds.resize(n, k);
        }
        MODE_RAW8 => {
            let b = r.section()?;
            if b.len() != n {
                return Err(corrupt("kinds length mismatch"));
            }
            out.kinds.extend_from_slice(b);
        }
        _ => return Err(corrupt("unknown kinds mode")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_round_trip_in_every_mode() {
        let mut p = Points::default();
        for (i, s) in [0u64, 1, 2, 5, 9, 10, u64::MAX].iter().enumerate() {
            let v = match i {
                0 => f64::NAN,
                1 => -0.0,
                2 => f64::INFINITY,
                _ => i as f64 * 0.1,
            };
            p.push(*s, v, if i == 3 { KIND_INT } else { KIND_FLOAT });
        }
        for compress in [false, true] {
            let q = decode_points(&encode_points(&p, compress).expect("encode"), true).expect("decode");
            assert_eq!(q.steps, p.steps);
            assert_eq!(q.kinds, p.kinds);
            let a: Vec<u64> = p.vals.iter().map(|v| v.to_bits()).collect();
            let b: Vec<u64> = q.vals.iter().map(|v| v.to_bits()).collect();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn arithmetic_steps_cost_no_bytes_per_point() {
        let p =
            Points { steps: (100..10_100).step_by(5).collect(), vals: vec![1.0; 2000], kinds: vec![KIND_FLOAT; 2000] };
        let blob = encode_points(&p, true).expect("encode");
        assert!(blob.len() < 200, "{}", blob.len());
        assert_eq!(decode_points(&blob, true).expect("decode"), p);
    }

    #[test]
    fn truncated_blobs_are_errors_not_panics() {
        let p = Points { steps: vec![1, 3, 4], vals: vec![1.0, 2.0, 3.0], kinds: vec![0, 1, 0] };
        let blob = encode_points(&p, false).expect("encode");
        for cut in 0..blob.len() {
            assert!(decode_points(&blob[..cut], true).is_err());
        }
    }
}
