//! Local-directory specifics (the shared conformance suite runs in the crate's unit tests).

use trackway_blob::{BlobError, BlobStore, LocalBlobStore};

#[test]
fn local_layout_is_two_level_hex_and_leaves_no_temp_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalBlobStore::open_dir(dir.path().join("blobs")).expect("open");
    let d = store.put(b"hello\n").expect("put").digest;
    let expected = dir.path().join("blobs/58/91b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
    assert_eq!(store.path_of(&d), expected);
    assert_eq!(std::fs::read(&expected).expect("read"), b"hello\n");
    store.put(b"hello\n").expect("put again");
    let tmp_left = std::fs::read_dir(dir.path().join("blobs/tmp")).expect("tmp dir").count();
    assert_eq!(tmp_left, 0, "no temporary files may remain after puts");
}

#[test]
fn local_store_detects_corruption_and_clears_crash_leftovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("blobs");
    let store = LocalBlobStore::open_dir(&root).expect("open");
    let d = store.put(b"original").expect("put").digest;
    store.verify(&d).expect("fresh blob verifies");
    std::fs::write(store.path_of(&d), b"tampered").expect("tamper");
    assert!(matches!(store.verify(&d), Err(BlobError::Corrupt { .. })));
    std::fs::write(root.join("tmp/put-deadbeef"), b"half written").expect("leftover");
    let _reopened = LocalBlobStore::open_dir(&root).expect("reopen");
    assert_eq!(std::fs::read_dir(root.join("tmp")).expect("tmp").count(), 0);
}

#[test]
fn digest_parsing_rejects_paths() {
    for bad in ["../../etc/passwd", "ABC", &"g".repeat(64), &"A".repeat(64)] {
        assert!(bad.parse::<trackway_blob::Digest>().is_err(), "{bad} must not parse");
    }
    assert!(
        "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03".parse::<trackway_blob::Digest>().is_ok()
    );
}
