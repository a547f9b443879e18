-- Artifacts (docs/artifacts.md): the SQLite store's tables (crates/trackway-store/migrations
-- 0008_artifacts.sql, 0011_artifact_ttl.sql). Deleting a run keeps the versions it produced
-- and used: the foreign keys drop only the lineage edges (SET NULL / CASCADE).
CREATE TABLE artifact_collections (
    id            BIGSERIAL PRIMARY KEY,
    project_id    BIGINT NOT NULL REFERENCES projects(id),
    name          TEXT NOT NULL,
    type          TEXT NOT NULL,
    next_version  BIGINT NOT NULL DEFAULT 0,   -- version numbers are never reused
    created_at    DOUBLE PRECISION NOT NULL,
    UNIQUE (project_id, name)
);
CREATE TABLE artifact_versions (
    id              BIGSERIAL PRIMARY KEY,
    collection_id   BIGINT NOT NULL REFERENCES artifact_collections(id),
    version         BIGINT NOT NULL,
    digest          TEXT NOT NULL,
    size            BIGINT NOT NULL,
    file_count      BIGINT NOT NULL,
    description     TEXT,
    metadata        TEXT NOT NULL,
    producer_run_pk BIGINT REFERENCES runs(pk) ON DELETE SET NULL,
    created_at      DOUBLE PRECISION NOT NULL,
    expires_at      DOUBLE PRECISION,
    UNIQUE (collection_id, version),
    UNIQUE (collection_id, digest)
);
CREATE INDEX artifact_versions_by_producer ON artifact_versions (producer_run_pk);
CREATE INDEX artifact_versions_by_expiry ON artifact_versions (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE artifact_entries (
    version_id  BIGINT NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    sha256      TEXT,                           -- NULL for a reference
    size        BIGINT NOT NULL,
    ref         TEXT,
    ref_digest  TEXT,
    PRIMARY KEY (version_id, path)
);
CREATE INDEX artifact_entries_by_sha ON artifact_entries (sha256);
CREATE TABLE artifact_aliases (
    collection_id BIGINT NOT NULL REFERENCES artifact_collections(id),
    alias         TEXT NOT NULL,
    version_id    BIGINT NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE,
    PRIMARY KEY (collection_id, alias)
);
CREATE INDEX artifact_aliases_by_version ON artifact_aliases (version_id);
CREATE TABLE artifact_tags (
    version_id  BIGINT NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE,
    tag         TEXT NOT NULL,
    PRIMARY KEY (version_id, tag)
);
CREATE TABLE artifact_usage (
    version_id  BIGINT NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE,
    run_pk      BIGINT NOT NULL REFERENCES runs(pk) ON DELETE CASCADE,
    used_at     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (version_id, run_pk)
);
CREATE INDEX artifact_usage_by_run ON artifact_usage (run_pk);
