"""The local artifact cache: verified blobs under `<cache dir>/artifacts/sha256/ab/cdef...`.

`TRACKWAY_CACHE_DIR` (alias `WANDB_CACHE_DIR`, default `~/.cache/trackway`) picks the
directory. A blob enters the cache only after its bytes matched its SHA-256 (the native
download verifies while it streams and renames into place), so a cached file is trusted by its
name and size. `cleanup(target_bytes)` removes the least recently used blobs until the cache
holds at most that many bytes; `TRACKWAY_CACHE_MAX_BYTES` applies the same cap after each
download.

Where the cache lives, how sizes are written and which blobs go first have one home, the
native `trackway_cli::artifact_cache` (also behind `trackway artifact cache cleanup`); this
module calls it.
"""

from __future__ import annotations

import os

from ..apis._http import env


def cache_dir() -> str:
    from .. import _native

    return _native.artifact_cache_dir()


def blob_path(sha256: str) -> str:
    return os.path.join(cache_dir(), sha256[:2], sha256[2:])


def cached(sha256: str, size: int) -> str | None:
    path = blob_path(sha256)
    try:
        if os.path.getsize(path) == size:
            os.utime(path)  # recently used: the last to go at cleanup
            return path
    except OSError:
        pass
    return None


def cleanup(target_size=0) -> int:
    """Removes least recently used blobs until the cache holds at most `target_size` bytes
    (an int or '10GB'); returns the bytes freed. A malformed size raises ValueError."""
    from .. import _native

    return _native.artifact_cache_cleanup(str(target_size))


def apply_cap() -> None:
    cap = env("CACHE_MAX_BYTES")
    if cap:
        cleanup(cap)
