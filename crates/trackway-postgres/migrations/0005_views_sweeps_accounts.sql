-- Saved views, sweeps and accounts on PostgreSQL: the tables of the SQLite store's migrations
-- 0006 (views), 0007 (sweeps) and 0009 (accounts), so that no store stays in a replica's local
-- SQLite file. Text that the API sorts compares bytewise (COLLATE "C"), as in SQLite.
CREATE TABLE views (
    id          BIGSERIAL PRIMARY KEY,
    entity      TEXT COLLATE "C" NOT NULL,
    project     TEXT COLLATE "C" NOT NULL,
    owner       TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    state       TEXT NOT NULL,
    shared      BOOLEAN NOT NULL DEFAULT FALSE,
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  DOUBLE PRECISION NOT NULL,
    updated_at  DOUBLE PRECISION NOT NULL,
    UNIQUE (entity, project, owner, name)
);
-- At most one default per project, even if a writer forgot the advisory lock.
CREATE UNIQUE INDEX views_one_default ON views (entity, project) WHERE is_default;

CREATE TABLE sweeps (
    id          TEXT COLLATE "C" PRIMARY KEY,
    entity      TEXT COLLATE "C" NOT NULL,
    project     TEXT COLLATE "C" NOT NULL,
    name        TEXT,
    config      TEXT NOT NULL,
    method      TEXT NOT NULL,
    state       TEXT NOT NULL,
    seed        BIGINT NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    updated_at  DOUBLE PRECISION NOT NULL
);
CREATE INDEX sweeps_by_project ON sweeps (entity, project, created_at);
CREATE TABLE sweep_trials (
    sweep_id    TEXT COLLATE "C" NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    run_id      TEXT NOT NULL,
    config      TEXT NOT NULL,
    state       TEXT NOT NULL,
    metric      DOUBLE PRECISION,
    settled     BOOLEAN NOT NULL DEFAULT FALSE,
    agent       TEXT,
    claimed_at  DOUBLE PRECISION NOT NULL,
    ended_at    DOUBLE PRECISION,
    PRIMARY KEY (sweep_id, seq),
    UNIQUE (sweep_id, run_id)
);

-- Accounts (docs/teams.md): roles admin/member/viewer; deactivation, passwords (argon2 PHC),
-- OIDC subjects, service accounts; scoped expiring keys with a last-used time; invites, cookie
-- sessions (only SHA-256 of their secrets stored) and the audit log; project visibility.
UPDATE memberships SET role = 'admin' WHERE role = 'owner';
ALTER TABLE users
    ADD COLUMN active        BOOLEAN NOT NULL DEFAULT TRUE,
    ADD COLUMN password_hash TEXT,
    ADD COLUMN oidc_subject  TEXT,
    ADD COLUMN service       BOOLEAN NOT NULL DEFAULT FALSE;
CREATE UNIQUE INDEX users_by_oidc ON users (oidc_subject) WHERE oidc_subject IS NOT NULL;
ALTER TABLE api_keys
    ADD COLUMN expires_at    DOUBLE PRECISION,
    ADD COLUMN read_only     BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN ingest_only   BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN entity_id     BIGINT REFERENCES entities(id),
    ADD COLUMN last_used_at  DOUBLE PRECISION;
CREATE INDEX api_keys_by_user ON api_keys (user_id);
CREATE TABLE invites (
    id           BIGSERIAL PRIMARY KEY,
    hash         TEXT NOT NULL UNIQUE,
    entity_id    BIGINT NOT NULL REFERENCES entities(id),
    role         TEXT NOT NULL,
    created_by   BIGINT NOT NULL REFERENCES users(id),
    created_at   DOUBLE PRECISION NOT NULL,
    expires_at   DOUBLE PRECISION NOT NULL,
    accepted_by  BIGINT REFERENCES users(id),
    accepted_at  DOUBLE PRECISION,
    revoked_at   DOUBLE PRECISION
);
CREATE INDEX invites_by_entity ON invites (entity_id);
CREATE TABLE sessions (
    hash         TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users(id),
    csrf         TEXT NOT NULL,
    created_at   DOUBLE PRECISION NOT NULL,
    expires_at   DOUBLE PRECISION NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE TABLE audit_log (
    id           BIGSERIAL PRIMARY KEY,
    at           DOUBLE PRECISION NOT NULL,
    actor        TEXT,
    action       TEXT NOT NULL,
    target       TEXT,
    detail       TEXT NOT NULL DEFAULT '{}'
);
ALTER TABLE projects ADD COLUMN visibility TEXT NOT NULL DEFAULT 'private';
