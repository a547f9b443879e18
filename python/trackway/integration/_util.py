"""Shared helpers of the integrations."""

from __future__ import annotations


def active_run(what: str):
    """The active run, or a clear error naming the integration that needed one."""
    import trackway

    if trackway.run is None:
        raise trackway.Error(f"You must call trackway.init() before using {what}")
    return trackway.run


def scalar(value):
    """A Python number from a numpy/torch/tf scalar or a plain number (None when not one)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value
    item = getattr(value, "item", None)
    if callable(item):
        try:
            out = item()
        except (ValueError, RuntimeError):  # not a single element
            return None
        return out if isinstance(out, (int, float, bool)) else None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
