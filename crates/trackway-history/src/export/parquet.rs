//! Parquet export: two streaming passes over `scan` (column types, then row groups), so memory
//! is bounded by one row group whatever the run's length.
//!
//! Columns: `_step` INT64, `_runtime` DOUBLE, `_timestamp` DOUBLE, then one optional column per
//! key. A key whose values are all integers is INT64, all numbers DOUBLE (integers converted),
//! all booleans BOOLEAN, all strings UTF8; anything else (lists, maps, big integers, mixed types)
//! is UTF8 holding each value's Trackway JSON. Floats use BYTE_STREAM_SPLIT, integers
//! DELTA_BINARY_PACKED, everything ZSTD(3), as measured in shared/reference/storage.md.

use std::io::Write;
use std::sync::Arc;

use parquet::basic::{Compression, Encoding, LogicalType, Repetition, Type as Physical, ZstdLevel};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnPath, Type};

use super::for_each_row;
use crate::{HistoryRow, HistoryStore, Result, RunKey, Value};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Empty,
    Int,
    Float,
    Bool,
    Str,
    Json,
}

fn kind_of(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Empty,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Bool(_) => Kind::Bool,
        Value::Str(_) => Kind::Str,
        _ => Kind::Json,
    }
}

fn unify(a: Kind, b: Kind) -> Kind {
    match (a, b) {
        (Kind::Empty, x) | (x, Kind::Empty) => x,
        (x, y) if x == y => x,
        (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Kind::Float,
        _ => Kind::Json,
    }
}

/// One column's values for the current row group, with definition levels (0 = null).
enum Buf {
    I(Vec<i64>),
    F(Vec<f64>),
    B(Vec<bool>),
    S(Vec<ByteArray>),
}

struct Column {
    kind: Kind,
    defs: Vec<i16>,
    buf: Buf,
}

impl Column {
    fn new(kind: Kind) -> Self {
        let buf = match kind {
            Kind::Int => Buf::I(Vec::new()),
            Kind::Float | Kind::Empty => Buf::F(Vec::new()),
            Kind::Bool => Buf::B(Vec::new()),
            Kind::Str | Kind::Json => Buf::S(Vec::new()),
        };
        Column { kind, defs: Vec::new(), buf }
    }

    fn push(&mut self, v: Option<&Value>) {
        let present = match (v, &mut self.buf) {
            (None | Some(Value::Null), _) => false,
            (Some(v), Buf::S(s)) if self.kind == Kind::Json => {
                s.push(ByteArray::from(trackway_types::to_json(v).into_bytes()));
                true
            }
            (Some(Value::Str(x)), Buf::S(s)) => {
                s.push(ByteArray::from(x.as_bytes().to_vec()));
                true
            }
            (Some(Value::Int(i)), Buf::I(b)) => {
                b.push(*i);
                true
            }
            (Some(v), Buf::F(b)) => match v.as_f64() {
                Some(f) => {
                    b.push(f);
                    true
                }
                None => false,
            },
            (Some(Value::Bool(x)), Buf::B(b)) => {
                b.push(*x);
                true
            }
            _ => false,
        };
        self.defs.push(i16::from(present));
    }

    fn write(&mut self, w: &mut ColumnWriter<'_>) -> Result<()> {
        let defs = Some(self.defs.as_slice());
        match (w, &mut self.buf) {
            (ColumnWriter::Int64ColumnWriter(w), Buf::I(b)) => w.write_batch(b, defs, None)?,
            (ColumnWriter::DoubleColumnWriter(w), Buf::F(b)) => w.write_batch(b, defs, None)?,
            (ColumnWriter::BoolColumnWriter(w), Buf::B(b)) => w.write_batch(b, defs, None)?,
            (ColumnWriter::ByteArrayColumnWriter(w), Buf::S(b)) => w.write_batch(b, defs, None)?,
            _ => return Err(crate::HistoryError::Internal("parquet column type mismatch".into())),
        };
        self.defs.clear();
        match &mut self.buf {
            Buf::I(b) => b.clear(),
            Buf::F(b) => b.clear(),
            Buf::B(b) => b.clear(),
            Buf::S(b) => b.clear(),
        }
        Ok(())
    }
}

fn field(name: &str, kind: Kind, required: bool) -> Result<Arc<Type>> {
    let physical = match kind {
        Kind::Int => Physical::INT64,
        Kind::Float | Kind::Empty => Physical::DOUBLE,
        Kind::Bool => Physical::BOOLEAN,
        Kind::Str | Kind::Json => Physical::BYTE_ARRAY,
    };
    let logical = matches!(kind, Kind::Str | Kind::Json).then_some(LogicalType::String);
    let rep = if required { Repetition::REQUIRED } else { Repetition::OPTIONAL };
    Ok(Arc::new(Type::primitive_type_builder(name, physical).with_repetition(rep).with_logical_type(logical).build()?))
}

fn properties(names: &[String], kinds: &[Kind]) -> WriterProperties {
    let mut p = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_dictionary_enabled(false);
    for (name, kind) in names.iter().zip(kinds) {
        let col = ColumnPath::new(vec![name.clone()]);
        p = match kind {
            Kind::Float | Kind::Empty => p.set_column_encoding(col, Encoding::BYTE_STREAM_SPLIT),
            Kind::Int => p.set_column_encoding(col, Encoding::DELTA_BINARY_PACKED),
            Kind::Str | Kind::Json => p.set_column_dictionary_enabled(col, true),
            Kind::Bool => p,
        };
    }
    p.build()
}

/// Write the run's full history as one Parquet file. Returns the number of rows.
pub fn write_parquet<W: Write + Send>(
    store: &dyn HistoryStore,
    run: RunKey,
    keys: Option<&[String]>,
    out: W,
) -> Result<u64> {
    let cols: Vec<String> = match keys {
        Some(k) => k.to_vec(),
        None => store.keys(run)?,
    };
    let mut kinds = vec![Kind::Empty; cols.len()];
    for_each_row(store, run, keys, &mut |row| {
        for (k, c) in kinds.iter_mut().zip(&cols) {
            if let Some(v) = row.data.get(c) {
                *k = unify(*k, kind_of(v));
            }
        }
        Ok(())
    })?;
    let mut names = vec!["_step".to_string(), "_runtime".to_string(), "_timestamp".to_string()];
    names.extend(cols.iter().cloned());
    let mut all_kinds = vec![Kind::Int, Kind::Float, Kind::Float];
    all_kinds.extend(kinds.iter().copied());
    let mut fields = Vec::with_capacity(names.len());
    for (i, (n, k)) in names.iter().zip(&all_kinds).enumerate() {
        fields.push(field(n, *k, i < 3)?);
    }
    let schema = Arc::new(Type::group_type_builder("history").with_fields(fields).build()?);
    let mut writer = SerializedFileWriter::new(out, schema, Arc::new(properties(&names, &all_kinds)))?;
    let mut columns: Vec<Column> = all_kinds.iter().map(|k| Column::new(*k)).collect();
    let group_rows = (1_000_000 / names.len()).clamp(1024, 65_536);
    let mut pending = 0usize;
    let n = for_each_row(store, run, keys, &mut |row: &HistoryRow| {
        push_row(&mut columns, &cols, row);
        pending += 1;
        if pending >= group_rows {
            flush(&mut writer, &mut columns)?;
            pending = 0;
        }
        Ok(())
    })?;
    if pending > 0 {
        flush(&mut writer, &mut columns)?;
    }
    writer.close()?;
    Ok(n)
}

fn push_row(columns: &mut [Column], cols: &[String], row: &HistoryRow) {
    let step = i64::try_from(row.step).unwrap_or(i64::MAX);
    if let Buf::I(b) = &mut columns[0].buf {
        b.push(step);
    }
    if let Buf::F(b) = &mut columns[1].buf {
        b.push(row.rt);
    }
    if let Buf::F(b) = &mut columns[2].buf {
        b.push(row.ts);
    }
    for (c, name) in columns[3..].iter_mut().zip(cols) {
        c.push(row.data.get(name));
    }
}

fn flush<W: Write + Send>(writer: &mut SerializedFileWriter<W>, columns: &mut [Column]) -> Result<()> {
    let mut rg = writer.next_row_group()?;
    let mut i = 0;
    while let Some(mut col) = rg.next_column()? {
        let c = &mut columns[i];
        if i < 3 {
            // Required columns take no definition levels.
            c.defs.clear();
            let w = col.untyped();
            match (w, &mut c.buf) {
                (ColumnWriter::Int64ColumnWriter(w), Buf::I(b)) => w.write_batch(b, None, None)?,
                (ColumnWriter::DoubleColumnWriter(w), Buf::F(b)) => w.write_batch(b, None, None)?,
                _ => return Err(crate::HistoryError::Internal("parquet column type mismatch".into())),
            };
            if let Buf::I(b) = &mut c.buf {
                b.clear();
            } else if let Buf::F(b) = &mut c.buf {
                b.clear();
            }
        } else {
            c.write(col.untyped())?;
        }
        col.close()?;
        i += 1;
    }
    rg.close()?;
    Ok(())
}
