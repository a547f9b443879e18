-- The log (attempt) that wrote a run's `last_step`: the next fragment of that attempt's open
-- row may still arrive at the same step, while any other attempt's rows at or below it are
-- dropped instead of overwriting acknowledged history (see `StepGuard` in sqlite/ingest.rs).
ALTER TABLE runs ADD COLUMN last_step_log TEXT;
