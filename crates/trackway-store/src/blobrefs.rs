//! The blob store's reference rule, shared by every metadata backend: a content-addressed blob
//! stays while any row of [`BLOB_REFERENCES`] names its sha256 (a run file version, an artifact
//! entry); deleting the last such row makes it garbage, which the caller removes from the blob
//! store once the transaction has committed. A new table that points at blobs joins this list.

/// `(table, column)` pairs whose column holds the sha256 of a blob in the blob store.
pub const BLOB_REFERENCES: &[(&str, &str)] = &[("run_files", "sha256"), ("artifact_entries", "sha256")];

/// A `SELECT` of one boolean: is the digest bound to `placeholder` (`?1`, `$1`) named by any
/// reference table for which `present` holds (a backend that has not created a table yet
/// passes a filter; a missing table holds no references). `SELECT FALSE` when none is present.
pub fn referenced_sql(present: impl Fn(&str) -> bool, placeholder: &str) -> String {
    let parts: Vec<String> = BLOB_REFERENCES
        .iter()
        .filter(|(table, _)| present(table))
        .map(|(table, col)| format!("EXISTS (SELECT 1 FROM {table} WHERE {col} = {placeholder})"))
        .collect();
    if parts.is_empty() { "SELECT FALSE".into() } else { format!("SELECT {}", parts.join(" OR ")) }
}

#[cfg(test)]
mod tests {
    use super::referenced_sql;

    #[test]
    fn every_present_table_is_asked() {
        let all = referenced_sql(|_| true, "?1");
        assert_eq!(
            all,
            "SELECT EXISTS (SELECT 1 FROM run_files WHERE sha256 = ?1) OR \
             EXISTS (SELECT 1 FROM artifact_entries WHERE sha256 = ?1)"
        );
        assert_eq!(
            referenced_sql(|t| t == "run_files", "$1"),
            "SELECT EXISTS (SELECT 1 FROM run_files WHERE sha256 = $1)"
        );
        assert_eq!(referenced_sql(|_| false, "$1"), "SELECT FALSE");
    }
}
