//! TensorBoard log directories: every directory holding `*tfevents*` files is one run (as in
//! TensorBoard). Scalars, histograms, images, text and hparams become history rows, media files
//! and config; events of a run's files are merged by step.

use std::path::{Path, PathBuf};

use prost::Message;
use sha2::{Digest, Sha256};
use trackway_types::{Map, Value};

use crate::proto::{self, Event, HParamsPluginData, Kind, SummaryValue, TensorProto, What};
use crate::sink::{RunSink, RunSpec, Written, stable_id};
use crate::tfrecord::RecordReader;
use crate::{ImportError, Result};

/// Directory levels searched below a log dir (bounds a walk into a symlink loop or a huge tree).
const MAX_DEPTH: usize = 16;

/// One TensorBoard run: a directory and its event files (sorted by name, i.e. creation time).
#[derive(Clone, Debug)]
pub struct TbRun {
    pub source: PathBuf,
    pub name: String,
    pub files: Vec<PathBuf>,
}

/// Where and as what imported runs are written.
#[derive(Clone, Debug)]
pub struct Target {
    pub root: PathBuf,
    pub project: String,
    pub entity: Option<String>,
}

/// Every run under `logdir` (the directory itself included).
pub fn discover(logdir: &Path) -> Result<Vec<TbRun>> {
    let base = logdir.canonicalize().map_err(|e| ImportError::io(logdir, e))?;
    let base_name = base.file_name().map_or_else(|| "run".to_owned(), |n| n.to_string_lossy().into_owned());
    let mut runs = Vec::new();
    let mut stack = vec![(base.clone(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let mut files = Vec::new();
        let entries = std::fs::read_dir(&dir).map_err(|e| ImportError::io(&dir, e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && depth < MAX_DEPTH {
                stack.push((path, depth + 1));
            } else if kind.is_file() && entry.file_name().to_string_lossy().contains("tfevents") {
                files.push(path);
            }
        }
        if !files.is_empty() {
            files.sort();
            let name = match dir.strip_prefix(&base) {
                Ok(rel) if rel.as_os_str().is_empty() => base_name.clone(),
                Ok(rel) => format!("{base_name}/{}", rel.display()),
                Err(_) => dir.display().to_string(),
            };
            runs.push(TbRun { source: dir, name, files });
        }
    }
    runs.sort_by(|a, b| a.source.cmp(&b.source));
    Ok(runs)
}

/// The stable run id of a TensorBoard run directory.
#[must_use]
pub fn run_id(run: &TbRun) -> String {
    stable_id("tb", &run.source.to_string_lossy())
}

struct Stream {
    rel: String,
    reader: RecordReader,
    next: Option<Event>,
}

impl Stream {
    fn advance(&mut self) -> Result<()> {
        self.next = None;
        while let Some(data) = self.reader.next_record()? {
            match Event::decode(data) {
                Ok(ev) if matches!(ev.what, Some(What::Summary(_))) => {
                    self.next = Some(ev);
                    return Ok(());
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(file = %self.rel, "undecodable event skipped: {e}"),
            }
        }
        Ok(())
    }
}

/// Imports (or continues importing) one run. `finished`: write a `finish` record (a one-off
/// import); a live sync passes false until it stops.
pub fn import_run(run: &TbRun, target: &Target, finished: bool) -> Result<(PathBuf, Written)> {
    let spec = RunSpec {
        run_id: run_id(run),
        project: target.project.clone(),
        entity: target.entity.clone(),
        name: Some(run.name.clone()),
        tags: vec!["tensorboard".to_owned()],
        group: None,
        created_at: first_wall_time(run),
    };
    let mut sink = RunSink::open(&target.root, &spec)?;
    let mut streams = open_streams(run, &sink)?;
    let mut row: Option<(u64, f64, Map)> = None;
    while let Some(i) = earliest(&streams) {
        let Some(ev) = streams[i].next.take() else {
            break;
        };
        let step = u64::try_from(ev.step).unwrap_or(0);
        if row.as_ref().is_some_and(|(s, _, _)| *s != step)
            && let Some((s, ts, data)) = row.take()
        {
            sink.row(s, ts, data)?;
        }
        let (_, ts, data) = row.get_or_insert_with(|| (step, ev.wall_time, Map::new()));
        *ts = ts.max(ev.wall_time);
        if let Some(What::Summary(summary)) = ev.what {
            for value in summary.value {
                convert(value, data, &mut sink)?;
            }
        }
        streams[i].advance()?;
    }
    if let Some((s, ts, data)) = row.take() {
        sink.row(s, ts, data)?;
    }
    for s in &streams {
        sink.state.offsets.insert(s.rel.clone(), s.reader.offset());
    }
    let end = sink.state.start_time.unwrap_or(spec.created_at);
    let path = sink.path();
    let written = sink.close(finished, end.max(spec.created_at))?;
    Ok((path, written))
}

fn first_wall_time(run: &TbRun) -> f64 {
    let Some(first) = run.files.first() else {
        return 0.0;
    };
    let Ok(mut reader) = RecordReader::open(first, 0) else {
        return 0.0;
    };
    match reader.next_record() {
        Ok(Some(data)) => Event::decode(data).map_or(0.0, |e| e.wall_time),
        _ => 0.0,
    }
}

fn open_streams(run: &TbRun, sink: &RunSink) -> Result<Vec<Stream>> {
    let mut out = Vec::with_capacity(run.files.len());
    for path in &run.files {
        let rel = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let offset = sink.state.offsets.get(&rel).copied().unwrap_or(0);
        let mut s = Stream { rel, reader: RecordReader::open(path, offset)?, next: None };
        s.advance()?;
        out.push(s);
    }
    Ok(out)
}

/// The stream whose next event has the lowest step (ties: the earlier file).
fn earliest(streams: &[Stream]) -> Option<usize> {
    streams.iter().enumerate().filter_map(|(i, s)| s.next.as_ref().map(|e| (e.step, i))).min().map(|(_, i)| i)
}

fn plugin(v: &SummaryValue) -> &str {
    v.metadata.as_ref().and_then(|m| m.plugin_data.as_ref()).map_or("", |p| p.plugin_name.as_str())
}

/// Adds one summary value to the row (`data`), or to config/files.
fn convert(v: SummaryValue, data: &mut Map, sink: &mut RunSink) -> Result<()> {
    if plugin(&v) == "hparams" {
        let content = v.metadata.and_then(|m| m.plugin_data).map(|p| p.content).unwrap_or_default();
        return hparams(&content, sink);
    }
    let plugin_name = plugin(&v).to_owned();
    let value = match v.value {
        Some(Kind::SimpleValue(f)) => Some(Value::Float(f64::from(f))),
        Some(Kind::Histo(h)) => Some(histogram(h.min, h.max, &h.bucket_limit, &h.bucket)),
        Some(Kind::Image(img)) => Some(image(&img.encoded_image_string, sink)?),
        Some(Kind::Tensor(t)) => tensor(&plugin_name, t, sink)?,
        None => None,
    };
    if let Some(value) = value {
        data.insert(v.tag, value);
    }
    Ok(())
}

fn tensor(plugin: &str, t: TensorProto, sink: &mut RunSink) -> Result<Option<Value>> {
    Ok(match plugin {
        "text" => text(&t),
        "images" => match t.string_val.get(2) {
            Some(bytes) => Some(image(bytes, sink)?),
            None => None,
        },
        "histograms" => tensor_histogram(&t),
        _ => scalar(&t),
    })
}

fn text(t: &TensorProto) -> Option<Value> {
    let mut items: Vec<Value> =
        t.string_val.iter().map(|b| Value::Str(String::from_utf8_lossy(b).into_owned())).collect();
    match items.len() {
        0 => None,
        1 => items.pop(),
        _ => Some(Value::List(items)),
    }
}

/// A single-element numeric tensor as a float (TF2-style `tf.summary.scalar`, `new_style`).
fn scalar(t: &TensorProto) -> Option<Value> {
    let f = if let Some(f) = t.float_val.first() {
        f64::from(*f)
    } else if let Some(d) = t.double_val.first() {
        *d
    } else if let Some(i) = t.int_val.first() {
        return Some(Value::Int(i64::from(*i)));
    } else if let Some(i) = t.int64_val.first() {
        return Some(Value::Int(*i));
    } else if let Some(b) = t.bool_val.first() {
        return Some(Value::Bool(*b));
    } else {
        let c = &t.tensor_content;
        match (t.dtype, c.len()) {
            (proto::dtype::FLOAT, 4) => f64::from(f32::from_le_bytes(c[..4].try_into().ok()?)),
            (proto::dtype::DOUBLE, 8) => f64::from_le_bytes(c[..8].try_into().ok()?),
            (proto::dtype::INT64, 8) => {
                return Some(Value::Int(i64::from_le_bytes(c[..8].try_into().ok()?)));
            }
            (proto::dtype::INT32, 4) => {
                return Some(Value::Int(i64::from(i32::from_le_bytes(c[..4].try_into().ok()?))));
            }
            (proto::dtype::BOOL, 1) => return Some(Value::Bool(c[0] != 0)),
            _ => return None,
        }
    };
    Some(Value::Float(f))
}

/// TF2 histogram tensors: `[k, 3]` rows of (left edge, right edge, count).
fn tensor_histogram(t: &TensorProto) -> Option<Value> {
    let vals: Vec<f64> = if t.double_val.is_empty() && !t.tensor_content.is_empty() {
        match t.dtype {
            proto::dtype::DOUBLE => {
                t.tensor_content.chunks_exact(8).filter_map(|c| c.try_into().ok().map(f64::from_le_bytes)).collect()
            }
            _ => t
                .tensor_content
                .chunks_exact(4)
                .filter_map(|c| c.try_into().ok().map(|b| f64::from(f32::from_le_bytes(b))))
                .collect(),
        }
    } else if !t.double_val.is_empty() {
        t.double_val.clone()
    } else {
        t.float_val.iter().map(|f| f64::from(*f)).collect()
    };
    if vals.len() < 3 || !vals.len().is_multiple_of(3) {
        return None;
    }
    let mut bins: Vec<f64> = vals.chunks_exact(3).map(|r| r[0]).collect();
    bins.push(vals[vals.len() - 2]);
    let counts: Vec<f64> = vals.chunks_exact(3).map(|r| r[2]).collect();
    Some(histogram_value(bins, &counts))
}

/// A TensorBoard `HistogramProto` as Trackway's histogram value: `bins` are the `n+1` edges
/// (`min`, then each bucket's right limit, the last clamped to `max`), `values` the counts.
#[must_use]
pub fn histogram(min: f64, max: f64, limits: &[f64], counts: &[f64]) -> Value {
    let mut bins = Vec::with_capacity(limits.len() + 1);
    bins.push(min);
    for (i, limit) in limits.iter().enumerate() {
        let last = i + 1 == limits.len();
        bins.push(if last && (!limit.is_finite() || *limit > max) { max } else { *limit });
    }
    histogram_value(bins, counts)
}

/// Trackway histograms hold at most this many bins (docs/media-api.md).
pub const MAX_BINS: usize = 512;

fn histogram_value(mut bins: Vec<f64>, counts: &[f64]) -> Value {
    let mut counts = counts.to_vec();
    if counts.len() > MAX_BINS && bins.len() == counts.len() + 1 {
        // Merge runs of `k` adjacent buckets: counts add up exactly, edges are a subset.
        let k = counts.len().div_ceil(MAX_BINS);
        counts = counts.chunks(k).map(|c| c.iter().sum()).collect();
        let last = bins[bins.len() - 1];
        bins = bins.iter().copied().step_by(k).collect();
        bins.truncate(counts.len());
        bins.push(last);
    }
    let mut m = Map::new();
    m.insert("_type".to_owned(), Value::Str("histogram".to_owned()));
    m.insert("values".to_owned(), Value::List(counts.iter().map(|c| count(*c)).collect()));
    m.insert("bins".to_owned(), Value::List(bins.into_iter().map(Value::Float).collect()));
    Value::Map(m)
}

/// Bucket counts are doubles in the proto but whole numbers in practice.
fn count(c: f64) -> Value {
    if c.fract() == 0.0 && c.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        Value::Int(c as i64)
    } else {
        Value::Float(c)
    }
}

fn image(bytes: &[u8], sink: &mut RunSink) -> Result<Value> {
    let (format, width, height) = image_info(bytes);
    let sha = hex::encode(Sha256::digest(bytes));
    // Named after the content (docs/run-format.md, `media`): the same image is stored once.
    let rel = format!("media/images/{}.{format}", &sha[..32]);
    sink.media(&rel, bytes)?;
    let mut m = Map::new();
    m.insert("_type".to_owned(), Value::Str("image-file".to_owned()));
    m.insert("path".to_owned(), Value::Str(rel));
    m.insert("sha256".to_owned(), Value::Str(sha));
    m.insert("size".to_owned(), Value::Int(i64::try_from(bytes.len()).unwrap_or(i64::MAX)));
    m.insert("format".to_owned(), Value::Str(format.to_owned()));
    if let (Some(w), Some(h)) = (width, height) {
        m.insert("width".to_owned(), Value::Int(i64::from(w)));
        m.insert("height".to_owned(), Value::Int(i64::from(h)));
    }
    Ok(Value::Map(m))
}

/// Format and (for PNG) size from the file header.
fn image_info(b: &[u8]) -> (&'static str, Option<u32>, Option<u32>) {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") && b.len() >= 24 {
        let w = b[16..20].try_into().ok().map(u32::from_be_bytes);
        let h = b[20..24].try_into().ok().map(u32::from_be_bytes);
        ("png", w, h)
    } else if b.starts_with(&[0xff, 0xd8]) {
        ("jpg", None, None)
    } else if b.starts_with(b"GIF8") {
        ("gif", None, None)
    } else {
        ("bin", None, None)
    }
}

fn hparams(content: &[u8], sink: &mut RunSink) -> Result<()> {
    let Ok(data) = HParamsPluginData::decode(content) else {
        return Ok(());
    };
    let Some(start) = data.session_start_info else {
        return Ok(());
    };
    let mut config = Map::new();
    let mut keys: Vec<_> = start.hparams.into_iter().collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, v) in keys {
        config.insert(k, pb_value(v));
    }
    sink.config(config)
}

fn pb_value(v: prost_types::Value) -> Value {
    use prost_types::value::Kind as K;
    match v.kind {
        Some(K::NumberValue(n)) => Value::Float(n),
        Some(K::StringValue(s)) => Value::Str(s),
        Some(K::BoolValue(b)) => Value::Bool(b),
        Some(K::ListValue(l)) => Value::List(l.values.into_iter().map(pb_value).collect()),
        Some(K::StructValue(s)) => Value::Map(s.fields.into_iter().map(|(k, v)| (k, pb_value(v))).collect()),
        Some(K::NullValue(_)) | None => Value::Null,
    }
}
