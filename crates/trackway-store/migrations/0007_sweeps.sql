-- Sweeps (trackway-sweep's controller state): a sweep's config and state, and one row per trial
-- handed out. A trial's run_id names the run the agent creates for it.
CREATE TABLE sweeps (
    id          TEXT PRIMARY KEY,
    entity      TEXT NOT NULL,
    project     TEXT NOT NULL,
    name        TEXT,
    config      TEXT NOT NULL,
    method      TEXT NOT NULL,
    state       TEXT NOT NULL,
    seed        INTEGER NOT NULL,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE INDEX sweeps_by_project ON sweeps(entity, project, created_at);
CREATE TABLE sweep_trials (
    sweep_id    TEXT NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    run_id      TEXT NOT NULL,
    config      TEXT NOT NULL,
    state       TEXT NOT NULL,
    metric      REAL,
    settled     INTEGER NOT NULL DEFAULT 0,
    agent       TEXT,
    claimed_at  REAL NOT NULL,
    ended_at    REAL,
    PRIMARY KEY (sweep_id, seq),
    UNIQUE (sweep_id, run_id)
);
