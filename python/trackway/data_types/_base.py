"""What every rich value shares: the `WBValue` base, Trackway JSON for files the client writes,
and the run directory a value is written to when it is logged.

A media value becomes a typed reference (docs/media-api.md) only when it is logged: the native
writer calls `_convert.fallback`, which calls the value's `_trackway_json`. That looks up the
active run (`trackway.run`) and writes the value's file into the run's `files/media/...`
(content addressed: the name is a hash of the content, so identical content is written and
uploaded once), then appends a `media` record to run.jsonl so the agent uploads it
(docs/run-format.md). Nothing is written for a disabled run or with no run.
"""

from __future__ import annotations

import math
import os
import sys

from .. import _term

DIGEST_HEX = 32  # hex characters of the content hash in media file names
MAX_MEDIA_BYTES = 256 << 20  # one media file; larger values are dropped with a warning
_TAGS = ("$int", "$f", "$map")


class InvalidValue(ValueError, TypeError):
    """A value of the wrong type given to a media constructor: a ValueError (what the API
    promises) that is also a TypeError."""


class WBValue:
    """Base of every loggable rich value (wandb's `WBValue`)."""

    _log_type: str | None = None

    def to_json(self, run_or_artifact=None) -> dict:
        return self._trackway_json()

    def _trackway_json(self):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @classmethod
    def _trackway_list_json(cls, items: list):
        """A list of values of this class under one key (Image overrides it)."""
        return [item._trackway_json() for item in items]


class Media(WBValue):
    """A value stored as a file of the run (wandb's `Media`)."""

    def __init__(self, caption=None) -> None:
        self._caption = None if caption is None else str(caption)

    def _with_caption(self, ref: dict) -> dict:
        if self._caption is not None:
            ref["caption"] = self._caption
        return ref


class Sink:
    """Writes media files into one run's `files/` directory and announces them."""

    def __init__(self, files_dir: str, log_path: str) -> None:
        self.files_dir = files_dir
        self.log_path = log_path
        self.pid = os.getpid()
        self._known: set[str] = set()
        self._append = None

    def _announce(self, record: dict) -> None:
        from .._files import LogAppender

        if self._append is None:
            self._append = LogAppender(self.log_path)
        self._append(record)
        self._known.add(record["path"])

    def write_file(self, rel: str, data) -> None:
        """`data` (bytes-like) as files/<rel>, unless this run already has it."""
        if rel in self._known:
            return
        dest = os.path.join(self.files_dir, *rel.split("/"))
        if not os.path.exists(dest):
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            tmp = f"{dest}.tmp{os.getpid()}"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, dest)
        self._announce({"t": "media", "path": rel})

    def write_raw(self, rel: str, pixels, encode: dict) -> None:
        """Raw pixels for the agent to encode into files/<rel> (docs/run-format.md `media`)."""
        if rel in self._known:
            return
        dest = os.path.join(self.files_dir, *rel.split("/"))
        if not os.path.exists(dest):
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest + ".raw", "wb") as f:
                f.write(pixels)
        self._announce({"t": "media", "path": rel, "encode": dict(encode, src=rel + ".raw")})


_sinks: dict[int, tuple] = {}  # id(native backend) -> (backend, Sink)


def register_run(backend) -> None:
    """Called by init() right after the native run is created: its paths are read here because
    the native object cannot be read while its `log` converts values (it is borrowed)."""
    log_path = getattr(backend, "log_path", None)
    if log_path:
        _sinks[id(backend)] = (backend, Sink(backend.files_dir, log_path))


def active_sink() -> Sink | None:
    """The sink of the active run, or None (no run, a disabled run, a forked child)."""
    run = getattr(sys.modules.get("trackway"), "run", None)
    entry = _sinks.get(id(getattr(run, "_backend", None)))
    if entry is None or entry[0] is not run._backend or entry[1].pid != os.getpid():
        return None
    return entry[1]


def content_name(data) -> str:
    """A media file's name: 32 hex characters of the BLAKE3 hash of its content (native; the
    training process hashes every logged image). Without the native module no run can be
    written; names are then computed with SHA-256 only to build a reference."""
    try:
        from .._native import content_digest
    except ImportError:
        import hashlib

        return hashlib.sha256(data).hexdigest()[:DIGEST_HEX]
    return content_digest(data)


def store_file(type_: str, subdir: str, ext: str, data: bytes) -> dict:
    """Writes `data` as a media file of the active run; the reference's common fields."""
    import hashlib  # imported on first use: `import trackway` stays cheap

    rel = f"media/{subdir}/{content_name(data)}.{ext}"
    sink = active_sink()
    if sink is not None:
        sink.write_file(rel, data)
    return {
        "_type": type_,
        "path": rel,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }


def read_path(path, what: str) -> bytes:
    """The bytes of a file given to a media constructor; raises at construction if unreadable."""
    p = os.fspath(path)
    try:
        size = os.path.getsize(p)
        if size > MAX_MEDIA_BYTES:
            raise ValueError(
                f"{what}: {p!r} is {size} bytes, over the {MAX_MEDIA_BYTES} byte limit "
                "for one media file"
            )
        with open(p, "rb") as f:
            return f.read()
    except OSError as e:
        raise ValueError(f"{what}: cannot read {p!r}: {e.strerror or e}") from e


def over_limit(what: str, size: int) -> bool:
    """True (after a warning) when a value is too large to store."""
    if size <= MAX_MEDIA_BYTES:
        return False
    _term.termwarn(
        f"{what} is {size} bytes, over the {MAX_MEDIA_BYTES} byte limit for one media "
        "value: it is not stored (the rest of the row is)"
    )
    return True


def module_root(obj) -> str:
    return (type(obj).__module__ or "").partition(".")[0]


def to_numpy(obj, what: str):
    """numpy/torch/TF/JAX arrays and nested lists as a numpy array."""
    root = module_root(obj)
    if root == "torch":
        obj = obj.detach().cpu().numpy()
    elif root == "tensorflow" and hasattr(obj, "numpy"):
        obj = obj.numpy()
    try:
        import numpy
    except ImportError as e:
        raise ValueError(f"{what}: arrays need numpy (pip install numpy)") from e
    return numpy.asarray(obj)


def plain(value, depth: int = 0):
    """A value ready for a table file: media bound to the run, arrays as lists, Trackway JSON tags
    for NaN/±Inf, big ints and tag-like maps (docs/run-format.md section 3)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if -(1 << 63) <= value < (1 << 64) else {"$int": str(value)}
    if isinstance(value, float):
        return (
            value
            if math.isfinite(value)
            else {"$f": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
        )
    if depth > 64:
        return str(value)
    if isinstance(value, WBValue):
        return plain(value._trackway_json(), depth + 1)
    if isinstance(value, dict):
        out = {str(k): plain(v, depth + 1) for k, v in value.items()}
        return {"$map": out} if len(out) == 1 and next(iter(out)) in _TAGS else out
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v, depth + 1) for v in value]
    from .._convert import fallback_plain

    converted = fallback_plain(value)
    if converted is value or isinstance(converted, str):
        return converted if isinstance(converted, str) else str(value)
    return plain(converted, depth + 1)


def dumps(obj) -> bytes:
    import json

    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
