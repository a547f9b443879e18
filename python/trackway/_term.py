"""Terminal output. Everything Trackway prints goes through here, so silent mode is one check."""

from __future__ import annotations

import os
import sys

_PREFIX = "trackway: "
_seen: set = set()
# Set by the active run from its resolved settings; None = decide from the environment.
silent_override: bool | None = None

_TRUE = ("1", "true", "yes", "on")


def is_silent() -> bool:
    if silent_override is not None:
        return silent_override
    for name in ("TRACKWAY_SILENT", "WANDB_SILENT"):
        value = os.environ.get(name)
        if value:
            return value.strip().lower() in _TRUE
    return False


def _emit(level: str, msg, repeat: bool, prefix: bool, newline: bool) -> None:
    if is_silent():
        return
    text = str(msg)
    if not repeat:
        key = (level, text)
        if key in _seen:
            return
        _seen.add(key)
    head = _PREFIX + level if prefix else ""
    try:
        sys.stderr.write(head + text + ("\n" if newline else ""))
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass  # stderr closed (interpreter shutdown, daemons): printing is best effort


def termlog(
    string="", newline: bool = True, repeat: bool = True, prefix: bool = True, silent: bool = False
) -> None:
    if not silent:
        _emit("", string, repeat, prefix, newline)


def termwarn(string, repeat: bool = True, prefix: bool = True, **_kw) -> None:
    _emit("WARNING ", string, repeat, prefix, True)


def termerror(string, repeat: bool = True, prefix: bool = True, **_kw) -> None:
    _emit("ERROR ", string, repeat, prefix, True)


def warn_once(msg: str) -> None:
    termwarn(msg, repeat=False)
