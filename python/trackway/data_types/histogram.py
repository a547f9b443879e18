"""`Histogram`, and the one rule for arrays logged directly: more than `ARRAY_THRESHOLD`
elements become a histogram of `ARRAY_BINS` bins (`_convert` applies it; nothing else does)."""

from __future__ import annotations

import math

from ._base import WBValue, module_root

MAX_BINS = 512
ARRAY_THRESHOLD = 32  # arrays with more elements, logged directly, become histograms
ARRAY_BINS = 32


def _finite_floats(sequence) -> list:
    return [v for v in (float(x) for x in sequence) if math.isfinite(v)]


def bins_of(sequence, num_bins: int):
    """(edges, counts) of equal-width bins over the finite values; numpy when the data is numpy
    (or numpy is loaded), else pure Python (torch without numpy)."""
    root = module_root(sequence)
    if root == "torch":
        sequence = sequence.detach().flatten().double().cpu()
        try:
            sequence = sequence.numpy()
            root = "numpy"
        except (AttributeError, RuntimeError, TypeError):  # torch built without numpy
            sequence = sequence.tolist()
    if root in ("numpy", "tensorflow", "jax", "jaxlib", "cupy"):
        import numpy

        flat = numpy.asarray(sequence, dtype=numpy.float64).ravel()
        flat = flat[numpy.isfinite(flat)]
        if flat.size == 0:
            return [], []
        counts, edges = numpy.histogram(flat, bins=num_bins)
        return edges.tolist(), counts.tolist()
    finite = _finite_floats(sequence)
    if not finite:
        return [], []
    lo, hi = min(finite), max(finite)
    if lo == hi:  # numpy's rule for a single value
        lo, hi = lo - 0.5, hi + 0.5
    width = (hi - lo) / num_bins
    counts = [0] * num_bins
    for v in finite:
        counts[min(int((v - lo) / width), num_bins - 1)] += 1
    return [lo + i * width for i in range(num_bins)] + [hi], counts


class Histogram(WBValue):
    """`Histogram(sequence=None, np_histogram=None, num_bins=64)`: `bins` are the edges
    (`len(histogram) + 1`), `histogram` the counts."""

    _log_type = "histogram"
    MAX_LENGTH = MAX_BINS

    def __init__(self, sequence=None, np_histogram=None, num_bins=64) -> None:
        if np_histogram is not None:
            if len(np_histogram) != 2:
                raise ValueError(
                    "Histogram(np_histogram=) expects (values, bin_edges), as "
                    "numpy.histogram returns"
                )
            counts, edges = np_histogram
            self.histogram = [_count(c) for c in _tolist(counts)]
            self.bins = [float(e) for e in _tolist(edges)]
            if len(self.bins) != len(self.histogram) + 1:
                raise ValueError(
                    f"Histogram(np_histogram=): {len(self.histogram)} values need "
                    f"{len(self.histogram) + 1} bin edges, got {len(self.bins)}"
                )
        elif sequence is not None:
            num_bins = int(num_bins)
            if not 1 <= num_bins <= MAX_BINS:
                raise ValueError(
                    f"Histogram(num_bins={num_bins}): must be between 1 and {MAX_BINS}"
                )
            try:
                self.bins, self.histogram = bins_of(sequence, num_bins)
            except (TypeError, ValueError) as e:
                raise ValueError(
                    f"Histogram(sequence=): expected a sequence of numbers ({e})"
                ) from e
        else:
            raise ValueError("Histogram needs sequence= or np_histogram=")
        if len(self.histogram) > MAX_BINS:
            raise ValueError(
                f"Histogram: {len(self.histogram)} bins, more than the {MAX_BINS} allowed"
            )

    def _trackway_json(self) -> dict:
        return {"_type": "histogram", "bins": list(self.bins), "values": list(self.histogram)}


def _tolist(x) -> list:
    return x.tolist() if hasattr(x, "tolist") else list(x)


def _count(c):
    f = float(c)
    return int(f) if f.is_integer() else f


def array_histogram(arr) -> dict:
    """The value an array of more than ARRAY_THRESHOLD elements is logged as."""
    edges, counts = bins_of(arr, ARRAY_BINS)
    return {"_type": "histogram", "bins": edges, "values": counts}
