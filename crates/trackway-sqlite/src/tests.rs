use super::*;

fn open(dir: &tempfile::TempDir) -> Database {
    Database::open(&dir.path().join("t.db"), Synchronous::Normal, None).expect("open")
}

fn add_b(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch("ALTER TABLE t ADD COLUMN b INTEGER")
}

#[test]
fn migrations_apply_once_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let steps = [Migration::Sql("CREATE TABLE t(a INTEGER)"), Migration::Code(add_b)];
    let db = open(&dir);
    assert_eq!(db.migrate(&steps[..1]).expect("first"), 1);
    assert_eq!(db.migrate(&steps).expect("second"), 2);
    assert_eq!(db.migrate(&steps).expect("again: nothing to do"), 2);
    drop(db);
    let db = open(&dir);
    assert_eq!(db.migrate(&steps).expect("reopen"), 2);
    db.write(|tx| tx.execute("INSERT INTO t(a, b) VALUES (1, 2)", [])).expect("both columns exist");
}

#[test]
fn a_failed_step_rolls_back_and_a_newer_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = open(&dir);
    let bad = [Migration::Sql("CREATE TABLE t(a INTEGER)"), Migration::Sql("CREATE TABLE u(x); SELECT nope()")];
    assert!(matches!(db.migrate(&bad), Err(DbError::Migration { version: 2, .. })));
    let tables: i64 = db
        .read(|c| c.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'u'", [], |r| r.get(0)))
        .expect("read");
    assert_eq!(tables, 0, "the failed step left nothing behind");
    assert!(matches!(db.migrate(&[]), Err(DbError::TooNew { found: 1, known: 0 })));
}

#[test]
fn one_writer_and_readers_see_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = open(&dir);
    db.migrate(&[Migration::Sql("CREATE TABLE t(a INTEGER)")]).expect("migrate");
    let failed: rusqlite::Result<()> = db.write(|tx| {
        tx.execute("INSERT INTO t VALUES (1)", [])?;
        Err(rusqlite::Error::InvalidQuery)
    });
    assert!(failed.is_err());
    db.write(|tx| tx.execute("INSERT INTO t VALUES (2)", [])).expect("write");
    let rows: Vec<i64> =
        db.read(|c| c.prepare("SELECT a FROM t")?.query_map([], |r| r.get(0))?.collect()).expect("read");
    assert_eq!(rows, [2], "the rolled-back insert is gone");
    let held: Vec<_> = (0..READER_POOL + 2).map(|_| db.reader().expect("reader")).collect();
    drop(held);
    assert_eq!(lock(&db.readers).len(), READER_POOL, "idle readers are capped");
}
