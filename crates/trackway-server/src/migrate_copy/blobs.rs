//! The blobs a page of run files or artifact entries names, copied between blob stores before
//! the rows that name them (so a copied row never points at a missing blob).

use std::collections::BTreeSet;

use trackway_blob::{BlobError, Digest};
use trackway_store::copy::{Cell, Row};

use super::{CopyError, Side};

/// Missing blobs listed by name (the rest are counted).
pub const MAX_LISTED: usize = 20;

/// What the blob copy did.
#[derive(Clone, Debug, Default)]
pub struct BlobReport {
    /// Written to the destination, each hashed on the way (its name is its SHA-256).
    pub copied: u64,
    pub bytes: u64,
    /// Already in the destination with the source's size.
    pub present: u64,
    /// Named by a row but absent from the source store (an installation that lost them): the
    /// first [`MAX_LISTED`] of them.
    pub missing: Vec<String>,
    pub missing_count: u64,
}

/// Copies the distinct blobs named in column `col` of `rows` (NULL: an artifact reference).
///
/// # Errors
/// A store failure, a malformed digest, or content that does not hash to its name.
pub(super) fn copy_named(
    from: &Side,
    to: &Side,
    rows: &[Row],
    col: usize,
    report: &mut BlobReport,
) -> Result<(), CopyError> {
    let names: BTreeSet<&str> = rows
        .iter()
        .filter_map(|r| match r.get(col) {
            Some(Cell::Text(s)) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    for name in names {
        let digest: Digest = name.parse().map_err(|e: trackway_blob::DigestError| CopyError::Blob {
            digest: name.to_owned(),
            source: BlobError::Config(e.to_string()),
        })?;
        copy_one(from, to, &digest, report)?;
    }
    Ok(())
}

fn copy_one(from: &Side, to: &Side, digest: &Digest, report: &mut BlobReport) -> Result<(), CopyError> {
    let err = |source| CopyError::Blob { digest: digest.to_string(), source };
    let Some(size) = from.blobs.size(digest).map_err(err)? else {
        report.missing_count += 1;
        if report.missing.len() < MAX_LISTED {
            report.missing.push(digest.to_string());
        }
        return Ok(());
    };
    if to.blobs.size(digest).map_err(err)? == Some(size) {
        report.present += 1;
        return Ok(());
    }
    let mut reader = from.blobs.open(digest).map_err(err)?;
    let put = to.blobs.put_reader(&mut reader).map_err(err)?;
    if &put.digest != digest {
        if put.created {
            to.blobs.delete(&put.digest).map_err(err)?;
        }
        return Err(err(BlobError::Corrupt { expected: digest.clone(), actual: put.digest }));
    }
    report.copied += 1;
    report.bytes += put.size;
    Ok(())
}
