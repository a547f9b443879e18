-- Trackway metadata store, schema version 1.
-- Teams are in the model from day one: a user acts on entities through memberships; a personal
-- entity is just an entity with one owner.
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    username    TEXT NOT NULL UNIQUE,
    admin       INTEGER NOT NULL DEFAULT 0,
    entity_id   INTEGER,              -- default entity (the personal one)
    created_at  REAL NOT NULL
);
CREATE TABLE entities (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL DEFAULT 'user',   -- 'user' | 'team'
    created_at  REAL NOT NULL
);
CREATE TABLE memberships (
    user_id     INTEGER NOT NULL REFERENCES users(id),
    entity_id   INTEGER NOT NULL REFERENCES entities(id),
    role        TEXT NOT NULL,                  -- 'owner' | 'member' | 'viewer'
    PRIMARY KEY (user_id, entity_id)
) WITHOUT ROWID;
-- Only the SHA-256 of a key is stored; `prefix` lets a user recognise a key in listings.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    hash         TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    name         TEXT,
    created_at   REAL NOT NULL,
    revoked_at   REAL
);
CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    entity_id   INTEGER NOT NULL REFERENCES entities(id),
    name        TEXT NOT NULL,
    created_at  REAL NOT NULL,
    UNIQUE (entity_id, name)
);
-- config / summary / metadata hold Trackway JSON text (docs/run-format.md section 3), so
-- json_extract works on them and tagged values ($f, $int) survive verbatim.
CREATE TABLE runs (
    pk               INTEGER PRIMARY KEY,
    project_id       INTEGER NOT NULL REFERENCES projects(id),
    run_id           TEXT NOT NULL,
    name             TEXT,
    state            TEXT NOT NULL,
    created_at       REAL NOT NULL,
    updated_at       REAL NOT NULL,
    heartbeat_at     REAL,
    exit_code        INTEGER,
    tags             TEXT NOT NULL DEFAULT '[]',
    notes            TEXT,
    grp              TEXT,
    job_type         TEXT,
    host             TEXT,
    config           TEXT NOT NULL DEFAULT '{}',
    summary          TEXT NOT NULL DEFAULT '{}',
    summary_explicit INTEGER NOT NULL DEFAULT 0,   -- 1 once a `summary` record arrived
    metadata         TEXT NOT NULL DEFAULT '{}',
    last_step        INTEGER,
    row_count        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (project_id, run_id)
);
CREATE INDEX runs_by_created ON runs (project_id, created_at);
CREATE INDEX runs_by_state ON runs (project_id, state);
CREATE INDEX runs_by_name ON runs (project_id, name);
-- Ingest is idempotent by (run, log, position): everything below high_water is applied.
CREATE TABLE ingest_marks (
    run_pk      INTEGER NOT NULL REFERENCES runs(pk),
    log_id      TEXT NOT NULL,
    high_water  INTEGER NOT NULL,
    updated_at  REAL NOT NULL,
    PRIMARY KEY (run_pk, log_id)
) WITHOUT ROWID;
-- Catalogue of keys seen per project, so key listings and filters never scan every run.
-- `path` is the SQLite JSON path of the key (a dotted key may be nested or literal).
CREATE TABLE project_keys (
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    source      TEXT NOT NULL,                  -- 'config' | 'summary' | 'history'
    key         TEXT NOT NULL,
    path        TEXT NOT NULL,
    PRIMARY KEY (project_id, source, key)
) WITHOUT ROWID;
-- Expression indexes created on demand for config/summary keys used in filters and sorts.
CREATE TABLE key_indexes (
    name        TEXT PRIMARY KEY,
    expr        TEXT NOT NULL,
    created_at  REAL NOT NULL
);
