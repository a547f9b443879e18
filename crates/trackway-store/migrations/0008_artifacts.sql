-- Artifacts (docs/artifacts.md): names per project, versions with their manifests, aliases,
-- tags and lineage. Entry bytes live in the blob store under `sha256`, shared by every version
-- and project that lists them (and by run files with the same content).
CREATE TABLE artifact_collections (
    id            INTEGER PRIMARY KEY,
    project_id    INTEGER NOT NULL REFERENCES projects(id),
    name          TEXT NOT NULL,
    type          TEXT NOT NULL,
    next_version  INTEGER NOT NULL DEFAULT 0,   -- version numbers are never reused
    created_at    REAL NOT NULL,
    UNIQUE (project_id, name)
);
CREATE TABLE artifact_versions (
    id              INTEGER PRIMARY KEY,
    collection_id   INTEGER NOT NULL REFERENCES artifact_collections(id),
    version         INTEGER NOT NULL,
    digest          TEXT NOT NULL,
    size            INTEGER NOT NULL,
    file_count      INTEGER NOT NULL,
    description     TEXT,
    metadata        TEXT NOT NULL,
    producer_run_pk INTEGER REFERENCES runs(pk),
    created_at      REAL NOT NULL,
    UNIQUE (collection_id, version),
    UNIQUE (collection_id, digest)
);
CREATE INDEX artifact_versions_by_producer ON artifact_versions (producer_run_pk);
CREATE TABLE artifact_entries (
    version_id  INTEGER NOT NULL REFERENCES artifact_versions(id),
    path        TEXT NOT NULL,
    sha256      TEXT,                           -- NULL for a reference
    size        INTEGER NOT NULL,
    ref         TEXT,
    ref_digest  TEXT,
    PRIMARY KEY (version_id, path)
) WITHOUT ROWID;
CREATE INDEX artifact_entries_by_sha ON artifact_entries (sha256);
CREATE TABLE artifact_aliases (
    collection_id INTEGER NOT NULL REFERENCES artifact_collections(id),
    alias         TEXT NOT NULL,
    version_id    INTEGER NOT NULL REFERENCES artifact_versions(id),
    PRIMARY KEY (collection_id, alias)
) WITHOUT ROWID;
CREATE TABLE artifact_tags (
    version_id  INTEGER NOT NULL REFERENCES artifact_versions(id),
    tag         TEXT NOT NULL,
    PRIMARY KEY (version_id, tag)
) WITHOUT ROWID;
CREATE TABLE artifact_usage (
    version_id  INTEGER NOT NULL REFERENCES artifact_versions(id),
    run_pk      INTEGER NOT NULL REFERENCES runs(pk),
    used_at     REAL NOT NULL,
    PRIMARY KEY (version_id, run_pk)
) WITHOUT ROWID;
CREATE INDEX artifact_usage_by_run ON artifact_usage (run_pk);
