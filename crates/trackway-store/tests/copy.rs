//! The copy catalogue (`trackway_store::copy`) against the SQLite store: it names every table
//! and column the migrations create, and a copy keeps ids, so keys keep working, adds nothing
//! the second time, and checksums tell copies apart bit for bit. (PostgreSQL:
//! crates/trackway-server/tests/migrate_copy.rs.)

use trackway_store::copy::{Cell, Checksum, TABLES, TableRows, check_schema, checksum, for_each_page, table};
use trackway_store::{MetadataStore, SqliteStore};

fn copy_all(from: &SqliteStore, to: &SqliteStore) -> u64 {
    let mut new = 0;
    for t in TABLES {
        for_each_page(from, t, 2, |rows| {
            new += to.insert_rows(t, rows)?;
            Ok::<_, trackway_store::StoreError>(())
        })
        .expect("copy");
        to.finish_table(t).expect("finish");
    }
    new
}

#[test]
fn the_catalogue_names_every_sqlite_table_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("db")).expect("open");
    let problems = check_schema(&store.schema().expect("schema"));
    assert!(problems.is_empty(), "update copy::TABLES: {problems:#?}");
}

#[test]
fn rows_copy_with_their_ids_once_and_checksums_tell_a_difference() {
    let dir = tempfile::tempdir().expect("tempdir");
    let from = SqliteStore::open(&dir.path().join("a")).expect("open a");
    let to = SqliteStore::open(&dir.path().join("b")).expect("open b");
    from.create_user("zed", false).expect("user zed");
    from.create_user("alice", true).expect("user alice");
    from.create_team("lab", "alice").expect("team");
    let key = from.create_api_key("alice", Some("laptop")).expect("key");
    let new = copy_all(&from, &to);
    assert!(new >= 7, "entities, users, memberships, key: {new}");
    assert_eq!(copy_all(&from, &to), 0, "a second copy adds nothing");
    for t in TABLES {
        assert_eq!(checksum(&from, t, 3).expect("a"), checksum(&to, t, 3).expect("b"), "{}", t.name);
    }
    let who = to.authenticate(&key.key).expect("auth").expect("the copied key works");
    assert_eq!((who.username.as_str(), who.user_id), ("alice", 2));
    to.create_user("bob", false).expect("a new user after the copied ids");

    let users = table("users").expect("users");
    assert_ne!(checksum(&from, users, 10).expect("a"), checksum(&to, users, 10).expect("b"));
    let mut one = Checksum::default();
    one.add(&[Cell::Real(0.0)]);
    let mut other = Checksum::default();
    other.add(&[Cell::Real(-0.0)]);
    assert_ne!(one, other, "values compare bit for bit");
}
