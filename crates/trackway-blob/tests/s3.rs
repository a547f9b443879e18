//! The blob conformance suite (the one the local and in-memory stores pass) against the S3
//! backend on a real S3 server: SeaweedFS started by `trackway_blob::testweed`.

use std::sync::Arc;
use std::time::Duration;

use trackway_blob::testweed::{http_status, options, start_weed};
use trackway_blob::{BlobStore, S3BlobStore, S3Options, conformance};

#[test]
fn s3_store_conforms_and_streams_multipart_uploads() {
    let weed = start_weed("trackway");
    let store = Arc::new(S3BlobStore::open(&options(&weed, "s3://trackway/conformance")).expect("open"));
    conformance::run_all(Arc::clone(&store));

    // Bigger than one part: streamed as a multipart upload, then copied under its digest.
    let big: Vec<u8> = (0..20_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let mut reader: &[u8] = &big;
    let out = store.put_reader(&mut reader).expect("multipart put");
    assert!(out.created);
    assert_eq!(out.size, big.len() as u64);
    assert_eq!(out.digest, trackway_blob::Digest::of(&big));
    assert_eq!(store.get(&out.digest).expect("get big"), big);
    let mut again: &[u8] = &big;
    assert!(!store.put_reader(&mut again).expect("second put").created);

    // A presigned URL is a plain GET any client can use. (This SeaweedFS runs without
    // identities, so it proves the URL names the right object; the signature itself is
    // object_store's SigV4, checked by real S3.)
    let url = store.presigned_get(&out.digest, Duration::from_secs(60)).expect("presign").expect("a URL");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let path = url.split_once(&format!("127.0.0.1:{}", weed.s3_port)).map(|(_, p)| p.to_owned()).expect("our endpoint");
    assert_eq!(http_status(weed.s3_port, "GET", &path), 200, "presigned URL {url}");

    // The prefix isolates stores sharing a bucket.
    let other = S3BlobStore::open(&options(&weed, "s3://trackway/other")).expect("open other");
    assert!(!other.exists(&out.digest).expect("exists"));
}

#[test]
fn bad_urls_are_refused() {
    for url in ["http://x/y", "s3://", "s3:///prefix"] {
        let o = S3Options { url: url.into(), ..S3Options::default() };
        assert!(S3BlobStore::open(&o).is_err(), "{url}");
    }
}
