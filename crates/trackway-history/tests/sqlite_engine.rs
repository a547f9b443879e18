//! SQLite-engine specifics: the caller's-transaction contract, export formats, storage size.

use std::sync::Arc;

use rusqlite::Connection;
use trackway_history::{
    HistoryRow, HistoryRowRef, HistoryStore, HistoryTx, Map, SQLITE_MIGRATIONS, ScanQuery, SqliteHistory,
    SqliteHistoryTx, Value, export,
};
use trackway_sqlite::{Database, Migration, Synchronous};

fn rows(from: u64, to: u64) -> Vec<HistoryRow> {
    (from..to)
        .map(|i| {
            let mut data = Map::new();
            data.insert("loss".into(), Value::Float(1.0 / (1.0 + i as f64)));
            if i % 2 == 0 {
                data.insert("note".into(), Value::Str(format!("a,\"b\" {i}")));
            }
            HistoryRow { step: i, ts: 1e9 + i as f64, rt: i as f64, data }
        })
        .collect()
}

fn count_rows(h: &SqliteHistory, run: i64) -> usize {
    let q = ScanQuery { limit: 1_000_000, ..ScanQuery::default() };
    h.scan(run, &q).expect("scan").rows.len()
}

fn borrowed(rows: &[HistoryRow]) -> Vec<HistoryRowRef<'_>> {
    rows.iter().map(HistoryRowRef::from).collect()
}

#[test]
fn history_tx_commits_and_rolls_back_with_the_callers_transaction() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = Arc::new(Database::open(&dir.path().join("server.db"), Synchronous::Full, None)?);
    // The caller's own table first, then the history steps: one list, one version counter.
    let mut steps = vec![Migration::Sql("CREATE TABLE marks(run INTEGER PRIMARY KEY, mark INTEGER)")];
    steps.extend_from_slice(SQLITE_MIGRATIONS);
    db.migrate(&steps)?;
    let h = SqliteHistory::over(db.clone());
    let batch = rows(0, 20_000);

    // Rolled back: neither the mark nor the history exists, even across a compaction.
    let failed: anyhow::Result<()> = db.write(|tx| {
        tx.execute("INSERT INTO marks VALUES (1, 100)", [])?;
        SqliteHistoryTx::new(tx).append(1, &borrowed(&batch))?;
        anyhow::bail!("the caller's next write fails")
    });
    assert!(failed.is_err());
    assert_eq!(count_rows(&h, 1), 0);
    assert!(h.keys(1)?.is_empty());

    db.write(|tx| -> anyhow::Result<()> {
        tx.execute("INSERT INTO marks VALUES (1, 100)", [])?;
        SqliteHistoryTx::new(tx).append(1, &borrowed(&batch))?;
        assert_eq!(count_rows(&h, 1), 0, "readers see committed data only");
        Ok(())
    })?;
    assert_eq!(count_rows(&h, 1), 20_000);
    assert_eq!(h.keys(1)?, vec!["loss".to_string(), "note".to_string()]);
    Ok(())
}

#[test]
fn invalid_input_is_an_error_not_a_panic() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let h = SqliteHistory::open(dir.path().join("t.db"))?;
    let mut r = rows(0, 1);
    r[0].step = u64::MAX;
    assert!(h.append(1, &r).is_err());
    let mut r = rows(0, 1);
    r[0].data.insert("_step".into(), Value::Int(1));
    assert!(h.append(1, &r).is_err());
    assert_eq!(count_rows(&h, 1), 0, "a rejected batch changes nothing");
    Ok(())
}

#[test]
fn exports_stream_every_row() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let h = SqliteHistory::open(dir.path().join("t.db"))?;
    h.append(7, &rows(0, 2500))?;
    let mut csv = Vec::new();
    assert_eq!(export::write_csv(&h, 7, None, &mut csv)?, 2500);
    let text = String::from_utf8(csv)?;
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("_step,_runtime,_timestamp,loss,note"));
    assert_eq!(lines.next(), Some("0,0.0,1000000000.0,1.0,\"a,\"\"b\"\" 0\""));
    assert_eq!(lines.next(), Some("1,1.0,1000000001.0,0.5,"));
    assert_eq!(text.lines().count(), 2501);

    let mut jsonl = Vec::new();
    assert_eq!(export::write_jsonl(&h, 7, Some(&["note".to_string()]), &mut jsonl)?, 1250);
    let first = String::from_utf8(jsonl)?.lines().next().map(str::to_string);
    assert_eq!(first.as_deref(), Some(r#"{"_step":0,"_runtime":0.0,"_timestamp":1000000000.0,"note":"a,\"b\" 0"}"#));
    Ok(())
}

#[test]
fn parquet_export_reads_back() -> anyhow::Result<()> {
    use parquet::file::reader::FileReader;
    use parquet::file::serialized_reader::SerializedFileReader;
    use parquet::record::Field;

    let dir = tempfile::tempdir()?;
    let h = SqliteHistory::open(dir.path().join("t.db"))?;
    let mut r = rows(0, 70_000); // more than one row group
    r[3].data.insert("mixed".into(), Value::Int(3));
    r[5].data.insert("mixed".into(), Value::Str("x".into()));
    r[4].data.insert("epoch".into(), Value::Int(1));
    r[8].data.insert("epoch".into(), Value::Int(2));
    r[9].data.insert("loss".into(), Value::Float(f64::NAN));
    h.append(3, &r)?;
    let path = dir.path().join("h.parquet");
    let n = export::write_parquet(&h, 3, None, std::fs::File::create(&path)?)?;
    assert_eq!(n, 70_000);
    let reader = SerializedFileReader::try_from(std::fs::File::open(&path)?)?;
    assert!(reader.metadata().num_row_groups() > 1);
    assert_eq!(reader.metadata().file_metadata().num_rows(), 70_000);
    let rows: Vec<_> = reader.into_iter().take(10).collect::<Result<_, _>>()?;
    let get = |i: usize, name: &str| -> Field {
        rows[i].get_column_iter().find(|(n, _)| n.as_str() == name).map(|(_, f)| f.clone()).expect(name)
    };
    assert_eq!(get(2, "_step"), Field::Long(2));
    assert_eq!(get(2, "_timestamp"), Field::Double(1e9 + 2.0));
    assert_eq!(get(2, "loss"), Field::Double(1.0 / 3.0));
    assert!(matches!(get(9, "loss"), Field::Double(f) if f.is_nan()));
    assert_eq!(get(2, "note"), Field::Str("a,\"b\" 2".into()));
    assert_eq!(get(3, "note"), Field::Null);
    assert_eq!(get(4, "epoch"), Field::Long(1));
    assert_eq!(get(3, "mixed"), Field::Str("3".into()), "mixed types are Trackway JSON");
    assert_eq!(get(5, "mixed"), Field::Str("\"x\"".into()));
    Ok(())
}

#[test]
fn tiny_batches_and_repeated_overwrites_keep_the_tail_small() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("t.db");
    let h = SqliteHistory::open(&path)?;
    // One row per append (an agent flushing every record) and the same step written again and
    // again: the tail must neither keep one row per append nor grow without bound.
    for i in 0..20_000u64 {
        let step = if i < 10_000 { i } else { 9_999 };
        let mut data = Map::new();
        data.insert("v".into(), Value::Float(i as f64));
        h.append(1, &[HistoryRow { step, ts: i as f64, rt: i as f64, data }])?;
    }
    let conn = Connection::open(&path)?;
    let tail_rows: i64 = conn.query_row("SELECT count(*) FROM hist_tail", [], |r| r.get(0))?;
    let tail_points: i64 = conn.query_row("SELECT coalesce(max(n_tail), 0) FROM hist_series", [], |r| r.get(0))?;
    assert!(tail_rows <= 3 * 64, "{tail_rows} tail rows");
    assert!(tail_points < 2 * 8192 + 64, "{tail_points} tail points");
    let all = h.scan(1, &ScanQuery { limit: 100_000, ..ScanQuery::default() })?.rows;
    assert_eq!(all.len(), 10_000);
    assert_eq!(all[9_999].data.get("v"), Some(&Value::Float(19_999.0)));
    assert_eq!(all[9_999].ts, 19_999.0);
    Ok(())
}

#[test]
fn opens_a_database_made_by_the_first_schema_version() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("old.db");
    {
        let c = Connection::open(&path)?;
        c.execute_batch(
            "CREATE TABLE hist_series(run INTEGER NOT NULL, key INTEGER NOT NULL,
               n_tail INTEGER NOT NULL DEFAULT 0, tail_min INTEGER, tail_max INTEGER,
               n_chunk INTEGER NOT NULL DEFAULT 0, chunk_min INTEGER, chunk_max INTEGER,
               min_level INTEGER NOT NULL DEFAULT -1, has_obj INTEGER NOT NULL DEFAULT 0,
               PRIMARY KEY(run, key)) WITHOUT ROWID;",
        )?;
    }
    let h = SqliteHistory::open(&path)?;
    h.append(1, &rows(0, 100))?;
    assert_eq!(count_rows(&h, 1), 100);
    Ok(())
}

fn row(step: u64, pairs: &[(&str, Value)]) -> HistoryRow {
    let data: Map = pairs.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect();
    HistoryRow { step, ts: step as f64, rt: step as f64, data }
}

#[test]
fn rows_whose_keys_repeat_reorder_or_change_keep_every_value() -> anyhow::Result<()> {
    // Append reuses the previous row's key slots when the keys repeat in order; a reordered or
    // changed key set must not put a value under the wrong key.
    let dir = tempfile::tempdir()?;
    let h = SqliteHistory::open(dir.path().join("t.db"))?;
    let f = Value::Float;
    let written = vec![
        row(0, &[("a", f(0.5)), ("b", f(1.5))]),
        row(1, &[("a", f(2.5)), ("b", f(3.5))]),
        row(2, &[("b", f(4.5)), ("a", f(5.5))]),
        row(3, &[("b", f(6.5)), ("c", Value::Str("x".into()))]),
        row(4, &[("b", f(7.5)), ("c", Value::Int(8))]),
        row(5, &[("a", f(9.5))]),
    ];
    h.append(1, &written)?;
    let got = h.scan(1, &ScanQuery { limit: 100, ..ScanQuery::default() })?.rows;
    assert_eq!(got.len(), written.len());
    for (w, g) in written.iter().zip(&got) {
        assert_eq!(g.step, w.step);
        for (k, v) in &w.data {
            assert_eq!(g.data.get(k), Some(v), "step {} key {k}", w.step);
        }
        assert_eq!(g.data.len(), w.data.len(), "step {}", w.step);
    }
    Ok(())
}

#[test]
fn a_reserved_key_after_repeated_rows_is_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let h = SqliteHistory::open(dir.path().join("t.db"))?;
    let f = Value::Float;
    let bad = vec![row(0, &[("a", f(1.0))]), row(1, &[("a", f(2.0))]), row(2, &[("a", f(3.0)), ("_runtime", f(4.0))])];
    assert!(h.append(1, &bad).is_err());
    assert_eq!(count_rows(&h, 1), 0);
    Ok(())
}
