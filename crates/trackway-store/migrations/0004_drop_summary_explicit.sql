-- The server no longer freezes the summary at the first `summary` record (one summary rule for
-- every reader, see docs/run-format.md), so the flag that did it goes.
ALTER TABLE runs DROP COLUMN summary_explicit;
