"""Python-side value conversion.

`fallback` is handed to the native writer and is only called for objects it does not know
(numpy/torch/TF/JAX values, sets, dates, anything else), so the common case (floats, ints, str,
dicts) never enters Python. Array libraries are recognised by `type(x).__module__`, never
imported here: a script that does not use numpy does not pay for it.
"""

from collections.abc import Mapping

from .data_types import _figures
from .data_types.histogram import ARRAY_THRESHOLD as HISTOGRAM_THRESHOLD
from .data_types.histogram import array_histogram

_ARRAY_ROOTS = ("numpy", "torch", "tensorflow", "jax", "jaxlib", "cupy")


def _root_module(obj) -> str:
    return (type(obj).__module__ or "").partition(".")[0]


def fallback(obj):
    """Turn an object the native encoder does not know into one it does (never raises)."""
    try:
        return _convert(obj, histograms=True)
    except Exception:  # a broken __str__/tolist must not stop training
        try:
            return str(obj)
        except Exception:
            return f"<unprintable {type(obj).__name__}>"


def _convert(obj, histograms: bool):
    root = _root_module(obj)
    if root in _ARRAY_ROOTS:
        return _array_like(obj, root, histograms)
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj).decode("utf-8", "replace")
    to_json = getattr(type(obj), "_trackway_json", None)  # media objects (Image, Table, ...)
    if to_json is not None:
        return to_json(obj)
    if isinstance(
        obj, list
    ):  # a list the native writer hands over whole (it starts with an object)
        return _list(obj, histograms)
    rich = _figures.rich_value(obj, root)  # figures, DataFrames, custom charts
    if rich is not None:
        return rich._trackway_json()
    iso = getattr(obj, "isoformat", None)  # datetime, date, time
    if callable(iso):
        return iso()
    if hasattr(obj, "__fspath__"):
        return str(obj)
    return str(obj)


def _array_like(obj, root: str, histograms: bool):
    if root == "torch":
        obj = obj.detach()
        if obj.dim() == 0:
            return obj.item()
        if histograms and obj.numel() > HISTOGRAM_THRESHOLD:
            return array_histogram(obj)
        return obj.cpu().tolist()
    if root == "tensorflow" and hasattr(obj, "numpy"):
        obj = obj.numpy()
        root = "numpy"
    if root != "numpy" and hasattr(obj, "__array__"):
        import numpy  # the object came from an array library, so numpy is installed

        obj = numpy.asarray(obj)
    size = getattr(obj, "size", None)
    shape = getattr(obj, "shape", ())
    if shape == () and hasattr(obj, "item"):
        return obj.item()  # numpy scalar or 0-d array
    if histograms and size is not None and size > HISTOGRAM_THRESHOLD:
        return array_histogram(obj)
    return obj.tolist()


def _list(items: list, histograms: bool):
    """A list whose first element is an object: media of one class under one key become one
    value (`images/separated` for images); anything else is converted element by element."""
    cls = type(items[0])
    list_json = getattr(cls, "_trackway_list_json", None)
    if list_json is not None and all(type(i) is cls for i in items):
        return list_json(items)
    return [_deep(i, histograms) for i in items]


def _deep(obj, histograms: bool):
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        return {k: _deep(v, histograms) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_deep(v, histograms) for v in obj]
    return _deep(_convert(obj, histograms), histograms)


def friendly(value, depth: int = 0):
    """A JSON-friendly copy of a config value: str keys, lists for tuples/sets, no objects."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if depth > 64:
        return str(value)
    if isinstance(value, Mapping):
        return {friendly_key(k): friendly(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [friendly(v, depth + 1) for v in value]
    if _root_module(value) in _ARRAY_ROOTS:
        return friendly(fallback_plain(value), depth + 1)
    return friendly(fallback(value), depth + 1)


def fallback_plain(obj):
    """Like `fallback` but arrays stay lists (config keeps exact values, not histograms)."""
    try:
        return _convert(obj, histograms=False)
    except Exception:
        return str(obj)


def friendly_key(key) -> str:
    if not isinstance(key, str):
        key = fallback_plain(key) if _root_module(key) in _ARRAY_ROOTS else key
        key = str(key)
    return key
