-- Run history as chunks + pyramid: the tables of trackway-history's engine (see its crate docs
-- for the layout; the SQLite engine has the same ones). The one-row-per-point tables of 0001
-- (hist_steps, hist_keys, hist_points) are read once by `trackway_postgres::history_legacy`,
-- which moves their rows into these tables on start, run by run, and empties them.
CREATE TABLE hist_key (
    id    BIGSERIAL PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE
);
CREATE TABLE hist_series (
    run        BIGINT NOT NULL,
    key        BIGINT NOT NULL,
    n_tail     BIGINT NOT NULL DEFAULT 0,
    tail_rows  BIGINT NOT NULL DEFAULT 0,
    tail_min   BIGINT,
    tail_max   BIGINT,
    n_chunk    BIGINT NOT NULL DEFAULT 0,
    chunk_min  BIGINT,
    chunk_max  BIGINT,
    min_level  BIGINT NOT NULL DEFAULT -1,
    has_obj    BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (run, key)
);
-- The live tail: one row per (series, append), raw point arrays.
CREATE TABLE hist_tail (
    id    BIGSERIAL PRIMARY KEY,
    run   BIGINT NOT NULL,
    key   BIGINT NOT NULL,
    n     BIGINT NOT NULL,
    data  BYTEA NOT NULL
);
CREATE INDEX hist_tail_series ON hist_tail (run, key, id);
-- Immutable compressed chunks of 4096 points.
CREATE TABLE hist_chunk (
    id          BIGSERIAL PRIMARY KEY,
    run         BIGINT NOT NULL,
    key         BIGINT NOT NULL,
    start_step  BIGINT NOT NULL,
    end_step    BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    data        BYTEA NOT NULL
);
CREATE UNIQUE INDEX hist_chunk_series ON hist_chunk (run, key, start_step, end_step);
-- Pyramid pages of up to 512 aggregate buckets per (series, level).
CREATE TABLE hist_pyr (
    id            BIGSERIAL PRIMARY KEY,
    run           BIGINT NOT NULL,
    key           BIGINT NOT NULL,
    level         BIGINT NOT NULL,
    first_bucket  BIGINT NOT NULL,
    last_bucket   BIGINT NOT NULL,
    n             BIGINT NOT NULL,
    data          BYTEA NOT NULL
);
CREATE UNIQUE INDEX hist_pyr_series ON hist_pyr (run, key, level, first_bucket, last_bucket);
-- Non-numeric values as Trackway JSON.
CREATE TABLE hist_obj (
    run   BIGINT NOT NULL,
    key   BIGINT NOT NULL,
    step  BIGINT NOT NULL,
    json  TEXT NOT NULL,
    PRIMARY KEY (run, key, step)
);
-- Chunks and pages are compressed by the codec already: TOAST should store them, not pglz them again.
ALTER TABLE hist_tail ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE hist_chunk ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE hist_pyr ALTER COLUMN data SET STORAGE EXTERNAL;
