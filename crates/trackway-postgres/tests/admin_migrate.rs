//! `trackway admin migrate` on PostgreSQL ([`migrate_url`]): applies every step on an empty
//! database, nothing on a second run, and leaves a database newer than this binary untouched.

use postgres::NoTls;
use trackway_postgres::{MIGRATIONS, PgError, migrate_url, testpg};

fn known() -> i64 {
    i64::try_from(MIGRATIONS.len()).expect("few migrations")
}

#[test]
fn migrate_applies_every_step_once_and_is_idempotent() {
    let url = testpg::fresh_database();
    assert_eq!(migrate_url(&url).expect("first run"), (0, known()));
    assert_eq!(migrate_url(&url).expect("second run"), (known(), known()));
    let mut c = postgres::Client::connect(&url, NoTls).expect("connect");
    let rows: i64 = c.query_one("SELECT count(*) FROM schema_migrations", &[]).expect("count").get(0);
    assert_eq!(rows, known(), "each step recorded once");
}

#[test]
fn a_database_newer_than_the_binary_is_refused_and_left_alone() {
    let url = testpg::fresh_database();
    migrate_url(&url).expect("migrate");
    let newer = known() + 1;
    let mut c = postgres::Client::connect(&url, NoTls).expect("connect");
    c.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&newer]).expect("record a newer step");
    match migrate_url(&url) {
        Err(PgError::TooNew { found, known: k }) => assert_eq!((found, k), (newer, MIGRATIONS.len())),
        other => panic!("expected TooNew, got {other:?}"),
    }
    let rows: i64 = c.query_one("SELECT count(*) FROM schema_migrations", &[]).expect("count").get(0);
    assert_eq!(rows, newer, "nothing applied or removed");
}
