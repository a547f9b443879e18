-- Run-table query support: one row per (run, tag) so tag filters are index lookups, and
-- indexes for the remaining filterable/sortable columns.
CREATE TABLE run_tags (
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    tag         TEXT NOT NULL,
    run_pk      INTEGER NOT NULL REFERENCES runs(pk),
    PRIMARY KEY (project_id, tag, run_pk)
) WITHOUT ROWID;
CREATE INDEX run_tags_by_run ON run_tags (run_pk);
INSERT OR IGNORE INTO run_tags (project_id, tag, run_pk)
    SELECT r.project_id, j.value, r.pk FROM runs r, json_each(r.tags) j WHERE j.type = 'text';
CREATE INDEX runs_by_group ON runs (project_id, grp);
CREATE INDEX runs_by_job_type ON runs (project_id, job_type);
CREATE INDEX runs_by_updated ON runs (project_id, updated_at);
