-- A stop requested from the UI or the API (`POST .../stop`), as wandb's "Stop run" button: the
-- run's clients are told to stop (wandb's filestream answers `stopped: true`, Trackway's agent
-- interrupts the training process); the run's finish then records it as `killed`. A new attempt
-- (resume) clears it.
ALTER TABLE runs ADD COLUMN stop_requested_at DOUBLE PRECISION;
