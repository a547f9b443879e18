//! S3-compatible backend (AWS S3, SeaweedFS, MinIO, ...) through the `object_store` crate.
//!
//! Layout: `<prefix>/blobs/<first 2 hex>/<remaining 62 hex>`. A put of at most one part
//! (8 MiB) is hashed in memory and written with one PUT under its final name. Larger content is
//! streamed as a multipart upload to `<prefix>/tmp/<random>` while hashing (memory: a few parts),
//! then copied server-side under its digest and the temporary object deleted, so a blob name
//! either does not exist or holds the complete content. Identical content is detected with a
//! HEAD before writing (`created: false`).
//!
//! The [`BlobStore`] trait is synchronous (the server calls it on blocking threads); this store
//! owns a small tokio runtime and blocks on it. Presigned GET URLs let clients download directly
//! from the object store ([`BlobStore::presigned_get`]).

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest as _, Sha256};

use crate::{BlobError, BlobStore, Digest, PutOutcome};

/// Content up to this size is written with one PUT; above, multipart parts of this size.
const PART: usize = 8 << 20;
/// Parts in flight per upload.
const PARTS_IN_FLIGHT: usize = 4;

/// Where an S3 store lives and how to reach it.
#[derive(Clone, Debug, Default)]
pub struct S3Options {
    /// `s3://bucket[/prefix]`.
    pub url: String,
    /// Endpoint of an S3-compatible service (`http://127.0.0.1:8333`); `None`: AWS.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

pub struct S3BlobStore {
    store: Arc<AmazonS3>,
    prefix: String,
    rt: tokio::runtime::Runtime,
}

fn remote(op: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> BlobError {
    BlobError::Remote { op, source: Box::new(e) }
}

impl S3BlobStore {
    /// Opens a store; unset options are read from the usual `AWS_*` environment variables
    /// (`AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, ...).
    ///
    /// # Errors
    /// A URL that is not `s3://bucket[/prefix]`, or a configuration `object_store` refuses.
    pub fn open(o: &S3Options) -> Result<Self, BlobError> {
        let rest =
            o.url.strip_prefix("s3://").ok_or_else(|| BlobError::Config(format!("not an s3:// URL: {}", o.url)))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(BlobError::Config(format!("no bucket in {}", o.url)));
        }
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(e) = &o.endpoint {
            b = b.with_endpoint(e).with_allow_http(e.starts_with("http://"));
        }
        if let Some(v) = &o.region {
            b = b.with_region(v);
        }
        if let Some(v) = &o.access_key_id {
            b = b.with_access_key_id(v);
        }
        if let Some(v) = &o.secret_access_key {
            b = b.with_secret_access_key(v);
        }
        let store = b.build().map_err(|e| remote("configure", e))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("trackway-s3")
            .enable_all()
            .build()
            .map_err(BlobError::Source)?;
        Ok(S3BlobStore { store: Arc::new(store), prefix: prefix.trim_matches('/').to_owned(), rt })
    }

    fn key(&self, rel: &str) -> Path {
        if self.prefix.is_empty() { Path::from(rel) } else { Path::from(format!("{}/{rel}", self.prefix)) }
    }

    fn path_of(&self, digest: &Digest) -> Path {
        let s = digest.as_str();
        self.key(&format!("blobs/{}/{}", &s[..2], &s[2..]))
    }

    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Stores `first` (which ended the content) under its digest with one PUT.
    fn put_small(&self, first: Vec<u8>) -> Result<PutOutcome, BlobError> {
        let digest = Digest::of(&first);
        let size = first.len() as u64;
        if self.exists(&digest)? {
            return Ok(PutOutcome { digest, size, created: false });
        }
        let path = self.path_of(&digest);
        self.block_on(self.store.put(&path, PutPayload::from(first))).map_err(|e| remote("put", e))?;
        Ok(PutOutcome { digest, size, created: true })
    }

    /// Streams `first` and the rest of `reader` to a temporary object, then copies it under its
    /// digest.
    fn put_large(&self, first: Vec<u8>, reader: &mut dyn Read) -> Result<PutOutcome, BlobError> {
        let mut rnd = [0u8; 12];
        getrandom::fill(&mut rnd).map_err(|e| BlobError::Config(format!("no randomness: {e}")))?;
        let tmp = self.key(&format!("tmp/{}", hex::encode(rnd)));
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        // The reader is read outside the runtime: it may block (a channel fed by the server).
        let result = (|| {
            let upload = self.block_on(self.store.put_multipart(&tmp)).map_err(|e| remote("multipart start", e))?;
            let mut w = WriteMultipart::new_with_chunk_size(upload, PART);
            let mut buf = first;
            while !buf.is_empty() {
                hasher.update(&buf);
                size += buf.len() as u64;
                self.block_on(async {
                    w.write(&buf);
                    w.wait_for_capacity(PARTS_IN_FLIGHT).await
                })
                .map_err(|e| remote("multipart part", e))?;
                buf = read_chunk(reader, PART)?;
            }
            self.block_on(w.finish()).map_err(|e| remote("multipart finish", e))?;
            Ok::<(), BlobError>(())
        })();
        if let Err(e) = result {
            let _ = self.block_on(self.store.delete(&tmp));
            return Err(e);
        }
        let digest = Digest::from_hasher(hasher);
        let created = !self.exists(&digest)?;
        if created {
            self.block_on(self.store.copy(&tmp, &self.path_of(&digest))).map_err(|e| remote("copy", e))?;
        }
        self.block_on(self.store.delete(&tmp)).map_err(|e| remote("delete", e))?;
        Ok(PutOutcome { digest, size, created })
    }
}

/// A reader over one object named by an `s3://bucket/key` URL (an artifact reference), with
/// the endpoint and credentials of the `AWS_*` environment (`AWS_ENDPOINT_URL` or
/// `AWS_ENDPOINT` for an S3-compatible service). It owns the store's runtime.
pub struct S3ObjectReader {
    inner: StreamReader,
    _store: S3BlobStore,
}

impl Read for S3ObjectReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(out)
    }
}

impl S3ObjectReader {
    /// Opens `s3://bucket/key`; returns the reader and the object's size.
    ///
    /// # Errors
    /// A URL without bucket or key, a missing object, or the service's refusal.
    pub fn open(url: &str) -> Result<(Self, u64), BlobError> {
        let rest = url.strip_prefix("s3://").ok_or_else(|| BlobError::Config(format!("not an s3:// URL: {url}")))?;
        let (bucket, key) = rest
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(|| BlobError::Config(format!("{url}: an S3 reference names s3://bucket/key")))?;
        let endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
        let store = S3BlobStore::open(&S3Options { url: format!("s3://{bucket}"), endpoint, ..S3Options::default() })?;
        let path = Path::from(key);
        let got = store.block_on(store.store.get(&path)).map_err(|e| remote("get", e))?;
        let size = got.meta.size;
        let inner = StreamReader { stream: got.into_stream(), buf: Bytes::new(), handle: store.rt.handle().clone() };
        Ok((S3ObjectReader { inner, _store: store }, size))
    }
}

/// Reads until `max` bytes or the end; a short result means the end was reached.
fn read_chunk(reader: &mut dyn Read, max: usize) -> Result<Vec<u8>, BlobError> {
    let mut buf = Vec::with_capacity(max.min(1 << 20));
    reader.take(max as u64).read_to_end(&mut buf).map_err(BlobError::Source)?;
    Ok(buf)
}

/// A blocking reader over an object's byte stream.
struct StreamReader {
    stream: BoxStream<'static, object_store::Result<Bytes>>,
    buf: Bytes,
    handle: tokio::runtime::Handle,
}

impl Read for StreamReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.buf.is_empty() {
            match self.handle.block_on(self.stream.next()) {
                Some(Ok(b)) => self.buf = b,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf.split_to(n));
        Ok(n)
    }
}

impl BlobStore for S3BlobStore {
    fn put_reader(&self, reader: &mut dyn Read) -> Result<PutOutcome, BlobError> {
        let first = read_chunk(reader, PART)?;
        if first.len() < PART { self.put_small(first) } else { self.put_large(first, reader) }
    }

    fn get(&self, digest: &Digest) -> Result<Vec<u8>, BlobError> {
        let mut out = Vec::new();
        self.open(digest)?.read_to_end(&mut out).map_err(|e| remote("get", e))?;
        Ok(out)
    }

    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + Send>, BlobError> {
        let got = self.block_on(self.store.get(&self.path_of(digest))).map_err(|e| match e {
            object_store::Error::NotFound { .. } => BlobError::NotFound(digest.clone()),
            e => remote("get", e),
        })?;
        Ok(Box::new(StreamReader { stream: got.into_stream(), buf: Bytes::new(), handle: self.rt.handle().clone() }))
    }

    fn size(&self, digest: &Digest) -> Result<Option<u64>, BlobError> {
        match self.block_on(self.store.head(&self.path_of(digest))) {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(remote("head", e)),
        }
    }

    fn delete(&self, digest: &Digest) -> Result<bool, BlobError> {
        if !self.exists(digest)? {
            return Ok(false);
        }
        self.block_on(self.store.delete(&self.path_of(digest))).map_err(|e| remote("delete", e))?;
        Ok(true)
    }

    fn presigned_get(&self, digest: &Digest, ttl: Duration) -> Result<Option<String>, BlobError> {
        let url = self
            .block_on(self.store.signed_url(object_store::signer::Method::GET, &self.path_of(digest), ttl))
            .map_err(|e| remote("presign", e))?;
        Ok(Some(url.to_string()))
    }
}
