-- Saved workspace views (issue 13): per project and per user, optionally shared with everyone
-- who can read the project, at most one of them the project's default.
CREATE TABLE views (
    id          INTEGER PRIMARY KEY,
    entity      TEXT NOT NULL,
    project     TEXT NOT NULL,
    owner       TEXT NOT NULL,
    name        TEXT NOT NULL,
    state       TEXT NOT NULL,
    shared      INTEGER NOT NULL DEFAULT 0,
    is_default  INTEGER NOT NULL DEFAULT 0,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    UNIQUE (entity, project, owner, name)
);
