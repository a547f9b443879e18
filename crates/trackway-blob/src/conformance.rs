//! The behaviour every [`BlobStore`] must have. Backends call [`run_all`] from a test with a
//! fresh, empty store; each check panics with a message naming what broke.
use std::io::Read;
use std::sync::Arc;

use crate::{BlobError, BlobStore, Digest};

/// Runs every check against `store` (which must start empty).
pub fn run_all<S: BlobStore + 'static>(store: Arc<S>) {
    put_get_roundtrip(&*store);
    identical_content_stored_once(&*store);
    empty_and_binary_blobs(&*store);
    reader_put_matches_bytes_put(&*store);
    missing_blob_is_not_found(&*store);
    delete_removes_only_that_blob(&*store);
    put_file_adopts_a_hashed_file(&*store);
    concurrent_puts_of_same_content(store);
}

/// The SHA-256 of "hello\n", computed independently (sha256sum).
const HELLO_SHA: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

pub fn put_get_roundtrip(s: &dyn BlobStore) {
    let out = s.put(b"hello\n").expect("put");
    assert_eq!(out.digest.as_str(), HELLO_SHA, "digest must be the sha256 of the content");
    assert_eq!(out.size, 6);
    assert_eq!(s.get(&out.digest).expect("get"), b"hello\n");
    let mut via_open = Vec::new();
    s.open(&out.digest).expect("open").read_to_end(&mut via_open).expect("read");
    assert_eq!(via_open, b"hello\n");
    assert!(s.exists(&out.digest).expect("exists"));
    assert_eq!(s.size(&out.digest).expect("size"), Some(6));
}

pub fn identical_content_stored_once(s: &dyn BlobStore) {
    let a = s.put(b"same bytes").expect("put 1");
    let b = s.put(b"same bytes").expect("put 2");
    assert_eq!(a.digest, b.digest);
    assert!(a.created, "first put of new content must report created");
    assert!(!b.created, "second put of identical content must not store it again");
}

pub fn empty_and_binary_blobs(s: &dyn BlobStore) {
    let empty = s.put(b"").expect("put empty");
    assert_eq!(empty.size, 0);
    assert_eq!(s.get(&empty.digest).expect("get empty"), b"");
    let bin: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let out = s.put(&bin).expect("put binary");
    assert_eq!(s.get(&out.digest).expect("get binary"), bin, "large binary blob must round-trip");
}

pub fn reader_put_matches_bytes_put(s: &dyn BlobStore) {
    let data = b"streamed content".repeat(10_000);
    let mut r: &[u8] = &data;
    let via_reader = s.put_reader(&mut r).expect("put_reader");
    assert_eq!(via_reader.digest, Digest::of(&data));
    assert_eq!(via_reader.size, data.len() as u64);
}

pub fn missing_blob_is_not_found(s: &dyn BlobStore) {
    let d = Digest::of(b"never stored");
    assert!(!s.exists(&d).expect("exists"));
    assert_eq!(s.size(&d).expect("size"), None);
    assert!(matches!(s.get(&d), Err(BlobError::NotFound(_))), "get of a missing blob must be NotFound");
    assert!(!s.delete(&d).expect("delete missing"), "deleting a missing blob reports false");
}

pub fn delete_removes_only_that_blob(s: &dyn BlobStore) {
    let keep = s.put(b"keep me").expect("put keep");
    let gone = s.put(b"delete me").expect("put gone");
    assert!(s.delete(&gone.digest).expect("delete"));
    assert!(!s.exists(&gone.digest).expect("exists gone"));
    assert_eq!(s.get(&keep.digest).expect("get keep"), b"keep me");
    let again = s.put(b"delete me").expect("re-put");
    assert!(again.created, "content can be stored again after delete");
}

pub fn concurrent_puts_of_same_content<S: BlobStore + 'static>(s: Arc<S>) {
    let data: Vec<u8> = b"raced".repeat(50_000);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let s = Arc::clone(&s);
            let data = data.clone();
            std::thread::spawn(move || s.put(&data).expect("concurrent put").digest)
        })
        .collect();
    let digests: Vec<Digest> = handles.into_iter().map(|h| h.join().expect("join")).collect();
    assert!(digests.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(s.get(&digests[0]).expect("get raced"), data);
}

/// A file written to the system's temporary directory under a random name.
fn temp_file(content: &[u8]) -> std::path::PathBuf {
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).expect("random name");
    let path = std::env::temp_dir().join(format!("trackway-blob-conformance-{}", hex::encode(rnd)));
    std::fs::write(&path, content).expect("write temp file");
    path
}

pub fn put_file_adopts_a_hashed_file(s: &dyn BlobStore) {
    let content = b"a staged upload, hashed as it arrived";
    let digest = Digest::of(content);
    let path = temp_file(content);
    let out = s.put_file(&path, &digest).expect("put_file");
    assert_eq!((out.digest.clone(), out.size, out.created), (digest.clone(), content.len() as u64, true));
    assert!(!path.exists(), "put_file consumes the file");
    assert_eq!(s.get(&digest).expect("get"), content);
    let again = temp_file(content);
    assert!(!s.put_file(&again, &digest).expect("second put_file").created, "stored once");
    assert!(!again.exists(), "a duplicate's file is removed too");
}
