"""Python-side value conversion.

`fallback` is handed to the native writer and is only called for objects it does not know
(numpy/torch/TF/JAX values, sets, dates, anything else), so the common case (floats, ints, str,
dicts) never enters Python. Array libraries are recognised by `type(x).__module__`, never
imported here: a script that does not use numpy does not pay for it.
"""
import math
from collections.abc import Mapping

HISTOGRAM_THRESHOLD = 32  # arrays with more elements are logged as a 32-bin histogram
HISTOGRAM_BINS = 32
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
            return _histogram(obj.flatten().double().cpu().tolist())
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
        return _numpy_histogram(obj)
    return obj.tolist()


def _numpy_histogram(arr):
    import numpy  # already imported by whoever built `arr`

    flat = numpy.asarray(arr, dtype=numpy.float64).ravel()
    flat = flat[numpy.isfinite(flat)]
    if flat.size == 0:
        return {"_type": "histogram", "bins": [], "values": []}
    values, bins = numpy.histogram(flat, bins=HISTOGRAM_BINS)
    return {"_type": "histogram", "bins": bins.tolist(), "values": values.tolist()}


def _histogram(values: list):
    """32 equal-width bins over the finite values (pure Python, for torch without numpy)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return {"_type": "histogram", "bins": [], "values": []}
    lo, hi = min(finite), max(finite)
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    width = (hi - lo) / HISTOGRAM_BINS
    counts = [0] * HISTOGRAM_BINS
    for v in finite:
        counts[min(int((v - lo) / width), HISTOGRAM_BINS - 1)] += 1
    bins = [lo + i * width for i in range(HISTOGRAM_BINS)] + [hi]
    return {"_type": "histogram", "bins": bins, "values": counts}


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
