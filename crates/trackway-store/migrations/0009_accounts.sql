-- Accounts (issue 16): team roles are admin/member/viewer (the old `owner` is a team admin);
-- users can be deactivated, have an optional argon2 password hash or an OIDC subject, and may
-- be service accounts (no password login). Keys get an optional expiry, a scope and a last-used
-- time. Invites, cookie sessions and the audit log are new tables; projects get a visibility.
UPDATE memberships SET role = 'admin' WHERE role = 'owner';
ALTER TABLE users ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
ALTER TABLE users ADD COLUMN service INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX users_by_oidc ON users (oidc_subject) WHERE oidc_subject IS NOT NULL;
ALTER TABLE api_keys ADD COLUMN expires_at REAL;
ALTER TABLE api_keys ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN ingest_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN entity_id INTEGER REFERENCES entities(id);
ALTER TABLE api_keys ADD COLUMN last_used_at REAL;
CREATE INDEX api_keys_by_user ON api_keys (user_id);
-- Only the SHA-256 of an invite token or session id is stored, like keys.
CREATE TABLE invites (
    id           INTEGER PRIMARY KEY,
    hash         TEXT NOT NULL UNIQUE,
    entity_id    INTEGER NOT NULL REFERENCES entities(id),
    role         TEXT NOT NULL,
    created_by   INTEGER NOT NULL REFERENCES users(id),
    created_at   REAL NOT NULL,
    expires_at   REAL NOT NULL,
    accepted_by  INTEGER REFERENCES users(id),
    accepted_at  REAL,
    revoked_at   REAL
);
CREATE TABLE sessions (
    hash         TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    csrf         TEXT NOT NULL,
    created_at   REAL NOT NULL,
    expires_at   REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           REAL NOT NULL,
    actor        TEXT,
    action       TEXT NOT NULL,
    target       TEXT,
    detail       TEXT NOT NULL DEFAULT '{}'
);
ALTER TABLE projects ADD COLUMN visibility TEXT NOT NULL DEFAULT 'private';
