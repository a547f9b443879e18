-- Run history (see trackway-history's crate docs for the semantics).
-- One row per (run, step) for the row's _timestamp/_runtime; one row per (run, key, step) for
-- values: numeric ones as (num, kind) so charts read a plain float column, others as Trackway
-- JSON text. Last write wins through ON CONFLICT upserts.
CREATE TABLE hist_steps (
    run   BIGINT NOT NULL,
    step  BIGINT NOT NULL,
    ts    DOUBLE PRECISION NOT NULL,
    rt    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (run, step)
);
-- A run's keys in first-seen order (`seq`).
CREATE TABLE hist_keys (
    run   BIGINT NOT NULL,
    key   TEXT NOT NULL,
    seq   BIGSERIAL,
    PRIMARY KEY (run, key)
);
CREATE TABLE hist_points (
    run   BIGINT NOT NULL,
    key   TEXT NOT NULL,
    step  BIGINT NOT NULL,
    num   DOUBLE PRECISION,
    kind  SMALLINT,
    val   TEXT,
    PRIMARY KEY (run, key, step)
);
CREATE INDEX hist_points_by_step ON hist_points (run, step);
