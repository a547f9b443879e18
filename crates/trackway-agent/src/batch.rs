//! Building one ingest request from the log: the complete, valid records in `[from, to)`.
//!
//! Valid lines are spliced into the body as they are on disk (no re-encoding), so the server
//! receives exactly the bytes the writer wrote and the agent spends its CPU only on validation.

use std::collections::BTreeSet;
use std::path::Path;

use trackway_runlog::LogReader;

use crate::Result;

/// Where a batch goes.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub entity: String,
    pub project: String,
    pub run_id: String,
    pub log_id: String,
}

/// Bytes of left-out lines (corrupt, or refused before) one batch may cover: the server takes
/// at most 64 MiB beyond the records it is sent (`trackway_server::MAX_SKIPPED_BYTES`), and one
/// more line of any size may follow this much.
const MAX_SKIPPED: u64 = 16 << 20;

/// Limits of one batch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub max_bytes: usize,
    pub max_records: usize,
}

/// One ingest request, ready to send.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub from: u64,
    pub to: u64,
    pub body: Vec<u8>,
    /// `body` compressed for the wire, when it was packed ahead of sending.
    pub packed: Option<Vec<u8>>,
    pub records: usize,
    /// Position and end of the first record (to skip it when the server rejects it alone).
    pub first: Option<(u64, u64)>,
    pub has_finish: bool,
    /// Corrupt lines skipped in this batch: (position, reason).
    pub corrupt: Vec<(u64, String)>,
}

/// Reads complete lines from `from` until `limits` are reached and encodes the request.
/// `run_line` replaces the `run` record (or a stream's `stream` header) at position 0 (sync
/// with overrides); `skip` holds
/// positions the server rejected, which are left out but still covered by `[from, to)`.
pub(crate) fn read_batch(
    log: &Path,
    from: u64,
    target: &Target,
    limits: Limits,
    run_line: Option<&[u8]>,
    skip: &BTreeSet<u64>,
) -> Result<Batch> {
    let mut reader = LogReader::open(log, from)?;
    let mut b = Batch { from, to: from, ..Batch::default() };
    b.body.reserve(limits.max_bytes.min(1 << 20) + 256);
    write_header(&mut b.body, target, from);
    let mut skipped = 0u64;
    while b.records < limits.max_records && b.body.len() < limits.max_bytes && skipped < MAX_SKIPPED {
        let Some((pos, end, line)) = reader.next_line()? else {
            break;
        };
        b.to = end;
        // Counted as left out until it is spliced into the body below.
        skipped += end - pos;
        let tag = match frame_tag(line) {
            Ok(t) => t,
            Err(e) => {
                b.corrupt.push((pos, e));
                continue;
            }
        };
        // A refused `finish` still ends the run: the server acknowledged its position.
        b.has_finish |= tag == "finish";
        if skip.contains(&pos) {
            continue;
        }
        let line = match (pos, run_line) {
            (0, Some(over)) if tag == "run" || tag == "stream" => over,
            _ => line,
        };
        if b.records > 0 {
            b.body.push(b',');
        }
        b.body.push(b'[');
        b.body.extend_from_slice(pos.to_string().as_bytes());
        b.body.push(b',');
        b.body.extend_from_slice(line);
        b.body.push(b']');
        skipped -= end - pos;
        b.first.get_or_insert((pos, end));
        b.records += 1;
    }
    b.body.extend_from_slice(b"],\"to\":");
    b.body.extend_from_slice(b.to.to_string().as_bytes());
    b.body.push(b'}');
    Ok(b)
}

/// The line's `t` if it is a JSON object with a string `t` (the format's definition of a
/// non-corrupt line). Field-level checks are the server's: it refuses a bad record with
/// `invalid_record`, and the uploader then isolates and skips it. Parsing only the frame keeps
/// the agent at a fraction of the CPU a full record decode costs.
fn frame_tag(line: &[u8]) -> std::result::Result<String, String> {
    #[derive(serde::Deserialize)]
    struct Frame<'a> {
        #[serde(borrow)]
        t: std::borrow::Cow<'a, str>,
    }
    // serde would also read a struct from a JSON array; a record must be an object.
    if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err("not a JSON object".into());
    }
    match serde_json::from_slice::<Frame<'_>>(line) {
        Ok(f) => Ok(f.t.into_owned()),
        Err(e) => Err(e.to_string()),
    }
}

fn write_header(out: &mut Vec<u8>, t: &Target, from: u64) {
    let head = serde_json::json!({
        "entity": t.entity, "project": t.project, "run_id": t.run_id, "log_id": t.log_id, "from": from,
    });
    // Serializing a json! map into a Vec cannot fail; drop the closing brace to keep appending.
    let _ = serde_json::to_writer(&mut *out, &head);
    out.pop();
    out.extend_from_slice(b",\"records\":[");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target { entity: "e".into(), project: "p".into(), run_id: "r".into(), log_id: "abcdabcdabcdabcd".into() }
    }

    const RUN: &str = r#"{"t":"run","v":1,"log_id":"abcdabcdabcdabcd","run_id":"r"}"#;
    const ROW: &str = r#"{"t":"history","step":0,"ts":1.0,"rt":0.5,"data":{"x":{"$f":"NaN"}}}"#;

    #[test]
    fn splices_valid_lines_and_skips_corrupt_ones() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let log = tmp.path().join("run.jsonl");
        let text =
            format!("{RUN}\nnot json\n[\"history\"]\n{ROW}\n{{\"t\":\"finish\",\"exit_code\":0}}\n{{\"t\":\"hist");
        std::fs::write(&log, &text).expect("write");
        let limits = Limits { max_bytes: 1 << 20, max_records: usize::MAX };
        let b = read_batch(&log, 0, &target(), limits, None, &BTreeSet::new()).expect("batch");
        let v: serde_json::Value = serde_json::from_slice(&b.body).expect("valid json");
        assert_eq!(v["from"], 0);
        let complete = text.rfind('\n').expect("newline") as u64 + 1;
        assert_eq!(v["to"], complete);
        assert_eq!(b.to, complete);
        let recs = v["records"].as_array().expect("records");
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[1][0], RUN.len() as u64 + 22);
        assert_eq!(recs[1][1]["data"]["x"]["$f"], "NaN");
        assert_eq!(b.corrupt.len(), 2);
        assert!(b.has_finish);
    }

    #[test]
    fn respects_limits_skips_and_run_override() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let log = tmp.path().join("run.jsonl");
        std::fs::write(&log, format!("{RUN}\n{ROW}\n{ROW}\n")).expect("write");
        let over = br#"{"t":"run","v":1,"log_id":"abcdabcdabcdabcd","run_id":"other"}"#;
        let one = Limits { max_bytes: 1 << 20, max_records: 1 };
        let b = read_batch(&log, 0, &target(), one, Some(over), &BTreeSet::new()).expect("batch");
        let v: serde_json::Value = serde_json::from_slice(&b.body).expect("json");
        assert_eq!(v["records"][0][1]["run_id"], "other");
        assert_eq!(b.to, RUN.len() as u64 + 1);
        let skip: BTreeSet<u64> = [b.to].into_iter().collect();
        let all = Limits { max_bytes: 1 << 20, max_records: usize::MAX };
        let b2 = read_batch(&log, b.to, &target(), all, None, &skip).expect("batch");
        assert_eq!(b2.records, 1);
        assert_eq!(b2.first.map(|f| f.0), Some(b.to + ROW.len() as u64 + 1));
    }
}
