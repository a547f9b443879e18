"""`Plotly(fig)`: a Plotly figure (or a matplotlib figure Plotly can convert), stored as its
figure JSON."""

from __future__ import annotations

import json

from ._base import Media, module_root, over_limit, store_file


def plotly_json(fig) -> bytes:
    """The figure's JSON (`{"data": [...], "layout": {...}}`)."""
    return fig.to_json().encode() if hasattr(fig, "to_json") else json.dumps(fig).encode()


def from_matplotlib(fig):
    """A Plotly figure made from a matplotlib figure, or None when plotly cannot convert it."""
    try:
        from plotly.tools import mpl_to_plotly
    except ImportError:
        return None
    if getattr(fig, "__name__", None) == "matplotlib.pyplot":
        fig = fig.gcf()
    if any(ax.images for ax in getattr(fig, "axes", [])):
        return None  # plotly drops images; an Image keeps them
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return mpl_to_plotly(fig)
    except Exception:
        return None


class Plotly(Media):
    _log_type = "plotly-file"

    def __init__(self, val) -> None:
        super().__init__()
        if (
            module_root(val) == "matplotlib"
            or getattr(val, "__name__", None) == "matplotlib.pyplot"
        ):
            converted = from_matplotlib(val)
            if converted is None:
                raise ValueError(
                    "Plotly: plotly could not convert this matplotlib figure (log it "
                    "as trackway.Image instead)"
                )
            val = converted
        if not (module_root(val) == "plotly" or isinstance(val, dict)):
            raise ValueError(f"Plotly(val): expected a plotly figure, got {type(val).__name__}")
        self._data = plotly_json(val)

    @classmethod
    def make_plot_media(cls, val):
        """A Plotly value when plotly can convert `val`, else an Image (wandb's helper)."""
        from .image import Image

        if module_root(val) == "plotly":
            return cls(val)
        converted = from_matplotlib(val)
        return cls(converted) if converted is not None else Image(val)

    def _trackway_json(self) -> dict | None:
        if over_limit("a Plotly figure", len(self._data)):
            return None
        return store_file("plotly-file", "plotly", "plotly.json", self._data)
