-- The metadata store (the same tables as the SQLite store's, crates/trackway-store/migrations).
-- Text compares and sorts bytewise (COLLATE "C") as in SQLite, whatever the database locale.
-- config / summary / metadata hold Trackway JSON text (tagged values and number spelling
-- survive verbatim); queries read them as jsonb.
CREATE TABLE entities (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT COLLATE "C" NOT NULL UNIQUE,
    kind        TEXT NOT NULL DEFAULT 'user',
    created_at  DOUBLE PRECISION NOT NULL
);
CREATE TABLE users (
    id          BIGSERIAL PRIMARY KEY,
    username    TEXT COLLATE "C" NOT NULL UNIQUE,
    admin       BOOLEAN NOT NULL DEFAULT FALSE,
    entity_id   BIGINT REFERENCES entities(id),
    created_at  DOUBLE PRECISION NOT NULL
);
CREATE TABLE memberships (
    user_id     BIGINT NOT NULL REFERENCES users(id),
    entity_id   BIGINT NOT NULL REFERENCES entities(id),
    role        TEXT NOT NULL,
    PRIMARY KEY (user_id, entity_id)
);
CREATE TABLE api_keys (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id),
    hash        TEXT NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,
    name        TEXT,
    created_at  DOUBLE PRECISION NOT NULL,
    revoked_at  DOUBLE PRECISION
);
CREATE TABLE projects (
    id          BIGSERIAL PRIMARY KEY,
    entity_id   BIGINT NOT NULL REFERENCES entities(id),
    name        TEXT COLLATE "C" NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    UNIQUE (entity_id, name)
);
CREATE TABLE runs (
    pk            BIGSERIAL PRIMARY KEY,
    project_id    BIGINT NOT NULL REFERENCES projects(id),
    run_id        TEXT COLLATE "C" NOT NULL,
    name          TEXT COLLATE "C",
    state         TEXT COLLATE "C" NOT NULL,
    created_at    DOUBLE PRECISION NOT NULL,
    updated_at    DOUBLE PRECISION NOT NULL,
    heartbeat_at  DOUBLE PRECISION,
    exit_code     BIGINT,
    tags          TEXT NOT NULL DEFAULT '[]',
    notes         TEXT,
    grp           TEXT COLLATE "C",
    job_type      TEXT COLLATE "C",
    host          TEXT COLLATE "C",
    config        TEXT NOT NULL DEFAULT '{}',
    summary       TEXT NOT NULL DEFAULT '{}',
    metadata      TEXT NOT NULL DEFAULT '{}',
    last_step     BIGINT,
    last_step_log TEXT,
    row_count     BIGINT NOT NULL DEFAULT 0,
    UNIQUE (project_id, run_id)
);
CREATE INDEX runs_by_created ON runs (project_id, created_at);
CREATE INDEX runs_by_updated ON runs (project_id, updated_at);
CREATE INDEX runs_by_state ON runs (project_id, state);
CREATE INDEX runs_by_name ON runs (project_id, name);
CREATE INDEX runs_by_group ON runs (project_id, grp);
CREATE INDEX runs_by_job_type ON runs (project_id, job_type);
CREATE TABLE ingest_marks (
    run_pk      BIGINT NOT NULL REFERENCES runs(pk),
    log_id      TEXT NOT NULL,
    high_water  BIGINT NOT NULL,
    updated_at  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (run_pk, log_id)
);
CREATE TABLE project_keys (
    project_id  BIGINT NOT NULL REFERENCES projects(id),
    source      TEXT NOT NULL,
    key         TEXT COLLATE "C" NOT NULL,
    path        TEXT NOT NULL,
    PRIMARY KEY (project_id, source, key)
);
CREATE TABLE run_tags (
    project_id  BIGINT NOT NULL REFERENCES projects(id),
    tag         TEXT COLLATE "C" NOT NULL,
    run_pk      BIGINT NOT NULL REFERENCES runs(pk),
    PRIMARY KEY (project_id, tag, run_pk)
);
CREATE INDEX run_tags_by_run ON run_tags (run_pk);
CREATE TABLE run_files (
    run_pk      BIGINT NOT NULL REFERENCES runs(pk),
    path        TEXT COLLATE "C" NOT NULL,
    version     BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    size        BIGINT NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (run_pk, path, version)
);
CREATE INDEX run_files_by_sha ON run_files (sha256);
CREATE TABLE run_output (
    run_pk      BIGINT NOT NULL REFERENCES runs(pk),
    line        BIGINT NOT NULL,
    stream      TEXT NOT NULL,
    text        TEXT NOT NULL,
    ts          DOUBLE PRECISION,
    PRIMARY KEY (run_pk, line)
);
CREATE TABLE run_output_logs (
    run_pk      BIGINT NOT NULL REFERENCES runs(pk),
    log_id      TEXT NOT NULL,
    base        BIGINT NOT NULL,
    PRIMARY KEY (run_pk, log_id)
);
