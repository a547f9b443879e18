-- Artifact time to live (wandb's `Artifact.ttl`): a version with `expires_at` is deleted (and
-- its blobs freed when nothing else lists them) once that time has passed.
ALTER TABLE artifact_versions ADD COLUMN expires_at REAL;
CREATE INDEX artifact_versions_by_expiry ON artifact_versions (expires_at) WHERE expires_at IS NOT NULL;
