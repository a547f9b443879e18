"""The local artifact cache: verified blobs under `<cache dir>/artifacts/sha256/ab/cdef...`.

`TRACKWAY_CACHE_DIR` (alias `WANDB_CACHE_DIR`, default `~/.cache/trackway`) picks the
directory. A blob enters the cache only after its bytes matched its SHA-256 (the native
download verifies while it streams and renames into place), so a cached file is trusted by its
name and size. `cleanup(target_bytes)` removes the least recently used blobs until the cache
holds at most that many bytes; `TRACKWAY_CACHE_MAX_BYTES` applies the same cap after each
download.
"""

from __future__ import annotations

import os

from ..apis._http import env

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1 << 10,
    "kb": 1 << 10,
    "m": 1 << 20,
    "mb": 1 << 20,
    "g": 1 << 30,
    "gb": 1 << 30,
}


def cache_dir() -> str:
    base = env("CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "trackway")
    return os.path.join(base, "artifacts", "sha256")


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


def parse_size(text) -> int:
    """`1000`, `10MB`, `2GB` (binary units) -> bytes; ValueError otherwise."""
    if isinstance(text, int):
        return text
    s = str(text).strip().lower().replace(" ", "")
    num = s.rstrip("kmgb")
    unit = s[len(num) :]
    if not num or unit not in _UNITS:
        raise ValueError(f"invalid size {text!r}: use bytes or a number with KB, MB or GB")
    return int(float(num) * _UNITS[unit])


def cleanup(target_size=0) -> int:
    """Removes least recently used blobs until the cache holds at most `target_size` bytes
    (an int or '10GB'); returns the bytes freed."""
    target = parse_size(target_size)
    files = []
    for root, _dirs, names in os.walk(cache_dir()):
        for n in names:
            p = os.path.join(root, n)
            try:
                st = os.stat(p)
            except OSError:
                continue
            files.append((st.st_mtime, st.st_size, p))
    total = sum(f[1] for f in files)
    freed = 0
    for _mtime, size, path in sorted(files):
        if total - freed <= target:
            break
        try:
            os.remove(path)
            freed += size
        except OSError:
            pass
    return freed


def apply_cap() -> None:
    cap = env("CACHE_MAX_BYTES")
    if cap:
        cleanup(cap)
