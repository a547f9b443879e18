-- Reports (issue 16): the same tables as the SQLite store's (crates/trackway-store/migrations/
-- 0010_reports.sql): documents owned by an entity, their kept versions and comments.
CREATE TABLE reports (
    id          BIGSERIAL PRIMARY KEY,
    entity      TEXT COLLATE "C" NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    visibility  TEXT NOT NULL DEFAULT 'private',
    version     BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    updated_at  DOUBLE PRECISION NOT NULL
);
CREATE INDEX reports_by_entity ON reports (entity, updated_at);
CREATE TABLE report_versions (
    report_id   BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (report_id, version)
);
CREATE TABLE report_comments (
    id          BIGSERIAL PRIMARY KEY,
    report_id   BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    author      TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL
);
CREATE INDEX report_comments_by_report ON report_comments (report_id, id);
