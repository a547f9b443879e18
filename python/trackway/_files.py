"""Run files: `save()`, and the process facts the agent cannot see from outside.

Entry points (called by `_lifecycle`; everything else here is private):

- ``on_init(run)`` -- right after the run log is created: appends one ``process`` record
  ``{"t":"process","program","code_path","argv","python","executable","cwd","site_packages"}``
  so the agent (which does all capture: metadata, git, diff.patch, requirements.txt) knows the
  program and its Python environment. Returns the finish hook, which secures saved files
  (``secure_saved_files``: every link becomes the file's content before ``finish()`` returns).
- ``save(run, glob_str, base_path=None, policy="live")`` -- puts matching files into the run's
  ``files/`` directory and appends one ``{"t":"file","path":REL,"policy":POLICY}`` record per file
  so the agent uploads it: ``now`` once, ``end`` at finish, ``live`` on every change (the agent
  watches it, see docs/capture.md). Returns the list of paths created under ``files/``.
- ``append_record(log_path, record)`` -- appends one record to a run log by the rules of
  docs/run-format.md section 2 (``O_APPEND``, one ``write(2)``, torn-tail repair).

Path rules (as wandb): the glob is expanded once, at call time. Files keep their path relative to
``base_path`` (default: the current directory; for an absolute glob, the directory *above* the
file's directory, so one directory level is kept). A path with ``..`` segments, or a file outside
``base_path``, is refused with ValueError: nothing can land outside ``files/``. ``live`` and
``end`` files are symlinked (the agent reads the current content); ``now`` files are copied (the
upload is the content at call time). A literal path that does not exist yet is linked anyway,
so ``save("model.pt")`` before the first checkpoint works.
"""

from __future__ import annotations

import glob as _glob
import os
import shutil
import sys

from . import _native

POLICIES = ("live", "now", "end")
_GLOB_CHARS = set("*?[")


# The one run-log writer and encoder (trackway-runlog, through the native module): O_APPEND,
# one write(2) per record, torn-tail repair, Trackway JSON (NaN -> {"$f":"NaN"}).
append_record = _native.append_record
LogAppender = _native.LogAppender


def process_info() -> dict:
    """What only this process knows about itself (see the `process` record above)."""
    import platform

    argv = [str(a) for a in sys.argv]
    program = argv[0] if argv and argv[0] else None
    code_path = os.path.abspath(program) if program and os.path.isfile(program) else None
    site_dirs = [os.path.abspath(p) for p in sys.path if p and os.path.isdir(p)]
    return {
        "t": "process",
        "program": program,
        "code_path": code_path,
        "argv": argv,
        "python": platform.python_version(),
        "executable": sys.executable,
        "cwd": os.getcwd(),
        "site_packages": site_dirs,
    }


def _log_path(run):
    backend = getattr(run, "_backend", None)
    return getattr(backend, "log_path", None)  # None for disabled runs: nothing is recorded


def on_init(run):
    path = _log_path(run)
    if path:
        append_record(path, process_info())
    backend = getattr(run, "_backend", None)
    files_dir = getattr(backend, "files_dir", None)
    if not files_dir:
        return None
    return lambda _code: secure_saved_files(files_dir)


def secure_saved_files(files_dir: str) -> list:
    """At finish, replace every link that save() put in `files_dir` by the file's content (a
    hard link where the file system allows, else a copy), so files saved from a temporary
    directory still upload after the script deletes it. Returns the paths that could not be
    secured (source gone or unreadable), after reporting them."""
    from . import _term

    lost = []
    for dirpath, _dirs, names in os.walk(files_dir):
        for name in names:
            dest = os.path.join(dirpath, name)
            if not os.path.islink(dest):
                continue
            src = os.path.realpath(dest)
            tmp = os.path.join(dirpath, f".{name}.secure-{os.getpid()}")
            try:
                try:
                    os.link(src, tmp)
                except OSError:
                    shutil.copy2(src, tmp)
                os.replace(tmp, dest)
            except OSError as e:
                if os.path.lexists(tmp):
                    os.remove(tmp)
                rel = os.path.relpath(dest, files_dir)
                lost.append(rel)
                _term.termwarn(
                    f"save(): {rel} could not be kept with the run ({src}: "
                    f"{e.strerror or e}); it will not be uploaded"
                )
    return lost


def _split_pattern(pattern: str, base_path):
    if any(part == ".." for part in pattern.replace("\\", "/").split("/")):
        raise ValueError(
            f"save({pattern!r}): '..' is not allowed (files must stay inside the "
            "run's files area; pass base_path instead)"
        )
    if base_path is None:
        if os.path.isabs(pattern):
            literal = pattern.split("*", 1)[0].split("?", 1)[0].split("[", 1)[0]
            file_dir = os.path.dirname(literal) if literal != pattern else os.path.dirname(pattern)
            base_path = os.path.dirname(file_dir.rstrip(os.sep)) or os.sep
        else:
            base_path = "."
    return pattern, os.path.abspath(os.fspath(base_path))


def _relative(path: str, base: str) -> str:
    rel = os.path.relpath(os.path.abspath(path), base)
    parts = rel.replace(os.sep, "/").split("/")
    if os.path.isabs(rel) or ".." in parts or rel in (".", ""):
        raise ValueError(f"save(): {path!r} is not inside base_path {base!r}")
    return "/".join(parts)


def save(run, glob_str=None, base_path=None, policy="live"):
    if policy not in POLICIES:
        raise ValueError(f"save(): policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    if glob_str is None:
        return []  # wandb compatibility: save() without arguments does nothing
    pattern = os.fspath(glob_str)
    if "://" in pattern:
        raise ValueError(f"save({pattern!r}): remote paths are not supported; save local files")
    pattern, base = _split_pattern(pattern, base_path)
    matches = [p for p in _glob.glob(pattern, recursive=True) if os.path.isfile(p)]
    if not matches and not (_GLOB_CHARS & set(pattern)) and policy != "now":
        matches = [pattern]  # not written yet: link it now, the agent uploads it once it exists
    backend = getattr(run, "_backend", None)
    # wandb semantics: run.dir *is* the files directory
    files_dir = getattr(backend, "files_dir", None) or getattr(run, "files_dir", None) or run.dir
    log_path = _log_path(run)
    saved = []
    for src in sorted(matches):
        rel = _relative(src, base)
        dest = os.path.join(files_dir, *rel.split("/"))
        _place(os.path.abspath(src), dest, policy)
        if log_path:
            append_record(log_path, {"t": "file", "path": rel, "policy": policy})
        saved.append(dest)
    return saved


def _place(src: str, dest: str, policy: str) -> None:
    """Symlink (live/end) or copy (now) `src` to `dest`, unless it already is that file."""
    if os.path.exists(dest) and os.path.exists(src) and os.path.samefile(src, dest):
        return  # written straight into files/ (e.g. under run.dir): nothing to link
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if os.path.lexists(dest):
        os.remove(dest)
    if policy != "now":
        try:
            os.symlink(src, dest)
            return
        except OSError:
            if not os.path.exists(src):
                return
    shutil.copy2(src, dest)
