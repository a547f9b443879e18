-- Reports (issue 16): documents of markdown blocks and live panels owned by an entity, with
-- their kept versions and comments. Visibility follows the project rules (private/team/public).
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    entity      TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    visibility  TEXT NOT NULL DEFAULT 'private',
    version     INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE INDEX reports_by_entity ON reports (entity, updated_at);
CREATE TABLE report_versions (
    report_id   INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  REAL NOT NULL,
    PRIMARY KEY (report_id, version)
);
CREATE TABLE report_comments (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    author      TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  REAL NOT NULL
);
CREATE INDEX report_comments_by_report ON report_comments (report_id, id);
