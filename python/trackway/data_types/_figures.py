"""Values that are not media objects but are logged as media: matplotlib figures (and the
`matplotlib.pyplot` module itself), Plotly figures and pandas DataFrames."""

from __future__ import annotations


def rich_value(obj, root: str):
    """The media value `obj` is logged as, or None when it is not one of these."""
    if root == "pandas" and type(obj).__name__ == "DataFrame":
        from .table import Table

        return Table(dataframe=obj)
    if root == "plotly" and hasattr(obj, "to_plotly_json"):
        from .plotly import Plotly

        return Plotly(obj)
    if (root == "matplotlib" and hasattr(obj, "savefig")) or getattr(
        obj, "__name__", None
    ) == "matplotlib.pyplot":
        from .plotly import Plotly

        return Plotly.make_plot_media(obj)
    return None
