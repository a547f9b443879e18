"""Artifacts and models (docs/artifacts.md): wandb's `Artifact` API over Trackway's
content-addressed, deduplicated, versioned store.

Logging never uploads in the training process: `run.log_artifact` appends an `artifact` record
(the files it names, staged in the run directory when their policy is "mutable") and the agent
hashes, uploads in resumable parts and commits the manifest. Downloads are streamed, verified
against each file's SHA-256 and go through a local cache (`TRACKWAY_CACHE_DIR`).
"""

from ._artifact import Artifact, ArtifactManifestEntry
from ._cache import cache_dir, cleanup

__all__ = ["Artifact", "ArtifactManifestEntry", "cache_dir", "cleanup"]
