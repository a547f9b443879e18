"""Compat `wandb.util` helpers that integrations import (Ray AIR)."""

from __future__ import annotations

import json

from ._convert import friendly


def json_dumps_safer(obj, **kwargs) -> str:
    """json.dumps that never fails: objects become JSON-friendly values (unknown ones str)."""
    kwargs.setdefault("default", str)
    return json.dumps(friendly(obj), **kwargs)


def json_friendly(obj):
    """(value, converted) like wandb.util.json_friendly."""
    value = friendly(obj)
    return value, value is not obj
