"""Custom charts (wandb's `wandb.plot`): each helper builds a `Table` and names the chart preset
(`spec`) and the columns it draws. Logged under key `k`, the table is stored under `k_table`
and a `custom-chart` descriptor under `k` (docs/media-api.md "Custom charts")."""

from __future__ import annotations

from ..data_types._base import InvalidValue, WBValue
from ..data_types.table import Table
from ._curves import confusion_matrix, pr_curve, roc_curve

__all__ = [
    "CustomChart",
    "Visualize",
    "bar",
    "confusion_matrix",
    "custom_chart",
    "histogram",
    "line",
    "line_series",
    "plot_table",
    "pr_curve",
    "roc_curve",
    "scatter",
    "visualize",
]


class CustomChart(WBValue):
    """A chart preset (`spec`) over a table, with the columns (`fields`) and texts
    (`string_fields`) it uses."""

    _log_type = "custom-chart"

    def __init__(
        self, spec: str, table: Table, fields=None, string_fields=None, split_table: bool = False
    ) -> None:
        if not isinstance(table, Table):
            raise InvalidValue(f"a custom chart needs a trackway.Table, got {type(table).__name__}")
        fields = {str(k): str(v) for k, v in (fields or {}).items() if v is not None}
        missing = [v for v in fields.values() if v not in table.columns]
        if missing:
            raise ValueError(
                f"custom chart {spec!r}: fields name columns {missing} that the table "
                f"does not have (columns: {table.columns})"
            )
        self.spec = str(spec)
        self.table = table
        self.fields = fields
        self.string_fields = {str(k): str(v) for k, v in (string_fields or {}).items()}
        self.split_table = bool(split_table)

    @property
    def spec_name(self) -> str:
        return self.spec

    def _trackway_json(self) -> dict:
        return {
            "_type": "custom-chart",
            "spec": self.spec,
            "fields": dict(self.fields),
            "string_fields": dict(self.string_fields),
            "table": self.table._trackway_json(),
        }


Visualize = CustomChart


def plot_table(vega_spec_name, data_table, fields, string_fields=None, split_table=False):
    return CustomChart(vega_spec_name, data_table, fields, string_fields, split_table)


custom_chart = plot_table


def visualize(id, value):
    return CustomChart(id, value)


def line(table, x, y, stroke=None, title="", split_table=False):
    return CustomChart(
        "wandb/line/v0", table, {"x": x, "y": y, "stroke": stroke}, {"title": title}, split_table
    )


def scatter(table, x, y, title="", split_table=False):
    return CustomChart("wandb/scatter/v0", table, {"x": x, "y": y}, {"title": title}, split_table)


def bar(table, label, value, title="", split_table=False):
    return CustomChart(
        "wandb/bar/v0", table, {"label": label, "value": value}, {"title": title}, split_table
    )


def histogram(table, value, title="", split_table=False):
    return CustomChart("wandb/histogram/v0", table, {"value": value}, {"title": title}, split_table)


def line_series(xs, ys, keys=None, title="", xname="x", split_table=False):
    """Several lines in one chart: `ys` is a list of series, `xs` one shared x list or one per
    series, `keys` the series names (default `key_0`, `key_1`, ...)."""
    ys = [list(_plain_list(y)) for y in ys]
    xs = list(_plain_list(xs))
    shared = not xs or not isinstance(xs[0], (list, tuple)) and not hasattr(xs[0], "__len__")
    xss = [xs] * len(ys) if shared else [list(_plain_list(x)) for x in xs]
    if len(xss) != len(ys):
        raise ValueError(f"line_series: {len(xss)} x series for {len(ys)} y series")
    names = list(keys) if keys is not None else [f"key_{i}" for i in range(len(ys))]
    if len(names) != len(ys):
        raise ValueError(f"line_series: {len(names)} keys for {len(ys)} series")
    rows = [
        [x, str(name), y]
        for name, xvals, yvals in zip(names, xss, ys)
        for x, y in zip(xvals, yvals)
    ]
    table = Table(columns=["step", "lineKey", "lineVal"], data=rows, allow_mixed_types=True)
    return CustomChart(
        "wandb/lineseries/v0",
        table,
        {"step": "step", "lineKey": "lineKey", "lineVal": "lineVal"},
        {"title": title, "xname": xname},
        split_table,
    )


def _plain_list(values):
    return values.tolist() if hasattr(values, "tolist") else values
