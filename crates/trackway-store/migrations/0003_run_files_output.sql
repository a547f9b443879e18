-- Run files and console output (docs/capture.md sections 5-7).
-- Every upload of new content for a path adds a version; the bytes live in the blob store under
-- `sha256`, so identical content in many runs or versions is stored once.
CREATE TABLE run_files (
    run_pk      INTEGER NOT NULL REFERENCES runs(pk),
    path        TEXT NOT NULL,
    version     INTEGER NOT NULL,               -- 1, 2, ... per (run, path)
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    created_at  REAL NOT NULL,
    PRIMARY KEY (run_pk, path, version)
) WITHOUT ROWID;
CREATE INDEX run_files_by_sha ON run_files (sha256);
-- Console lines. `line` is run-wide: each log (run attempt) counts its lines from 0, so a
-- log's lines are shifted by the `base` it got when its first line arrived.
CREATE TABLE run_output (
    run_pk      INTEGER NOT NULL REFERENCES runs(pk),
    line        INTEGER NOT NULL,
    stream      TEXT NOT NULL,                  -- 'out' | 'err'
    text        TEXT NOT NULL,
    ts          REAL,
    PRIMARY KEY (run_pk, line)
) WITHOUT ROWID;
CREATE TABLE run_output_logs (
    run_pk      INTEGER NOT NULL REFERENCES runs(pk),
    log_id      TEXT NOT NULL,
    base        INTEGER NOT NULL,
    PRIMARY KEY (run_pk, log_id)
) WITHOUT ROWID;
