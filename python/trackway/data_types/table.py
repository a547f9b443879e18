"""`Table`: rows and columns whose cells may be numbers, text, lists or media (docs/media-api.md
`table-file`). The table is written as one JSON file when logged; media cells become typed
references to their own files."""

from __future__ import annotations

from .. import _term
from ._base import Media, WBValue, dumps, module_root, over_limit, plain, store_file

LOG_MODES = ("IMMUTABLE", "MUTABLE", "INCREMENTAL")
_NUMBER_ROOTS = ("numpy", "torch", "tensorflow", "jax", "jaxlib")


class TableTypeError(TypeError, ValueError):
    """A cell whose type does not fit its column (a TypeError, as in wandb, and a ValueError)."""


def _kind(v) -> str | None:
    """The column type of a cell (docs/media-api.md `column_types`); None for a null cell."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, WBValue):
        return v._log_type or type(v).__name__
    if isinstance(v, (list, tuple)):
        return "list"
    if isinstance(v, dict):
        return "object"
    if module_root(v) in _NUMBER_ROOTS:
        if getattr(v, "ndim", 0) == 0 or getattr(v, "shape", ()) == ():
            kind = getattr(getattr(v, "dtype", None), "kind", "f")
            return "bool" if kind == "b" else "number"
        return "list"
    return "object"


def _dtype_kind(t) -> str | None:
    if t is None:
        return None
    if isinstance(t, str):
        return t
    if t is bool:
        return "bool"
    if t in (int, float):
        return "number"
    if t is str:
        return "string"
    if t in (list, tuple):
        return "list"
    if t is dict:
        return "object"
    if isinstance(t, type) and issubclass(t, WBValue):
        return t._log_type or t.__name__
    return None


class Table(Media):
    """`Table(columns=None, data=None, rows=None, dataframe=None, dtype=None, optional=True,
    allow_mixed_types=False, log_mode="IMMUTABLE")`."""

    _log_type = "table-file"
    MAX_ROWS = 10_000
    MAX_ARTIFACT_ROWS = 200_000

    def __init__(
        self,
        columns=None,
        data=None,
        rows=None,
        dataframe=None,
        dtype=None,
        optional=True,
        allow_mixed_types=False,
        log_mode="IMMUTABLE",
    ) -> None:
        super().__init__()
        mode = str(log_mode or "IMMUTABLE").upper()
        if mode not in LOG_MODES:
            raise ValueError(
                f"Table(log_mode={log_mode!r}): expected one of {', '.join(LOG_MODES)}"
            )
        self.log_mode = mode
        self._allow_mixed = bool(allow_mixed_types)
        self._optional = optional
        self._logged_rows = 0  # INCREMENTAL: rows already written by earlier logs
        self._increment = 0
        if data is None and rows is not None:
            data = rows
        if dataframe is None and module_root(data) == "pandas":
            dataframe, data = data, None
        if dataframe is not None:
            columns = [str(c) for c in dataframe.columns]
            data = [list(r) for r in dataframe.itertuples(index=False, name=None)]
        elif data is not None and module_root(data) in _NUMBER_ROOTS:
            data = data.tolist() if hasattr(data, "tolist") else list(data)
        if data is not None and not isinstance(data, (list, tuple)):
            raise ValueError(
                f"Table(data=): expected a list of rows, a 2-D array or a DataFrame, "
                f"got {type(data).__name__}"
            )
        if columns is None:
            width = len(data[0]) if data else 3
            columns = (
                ["Input", "Output", "Expected"]
                if not data
                else [f"Column_{i}" for i in range(width)]
            )
        self.columns = [str(c) for c in columns]
        if len(set(self.columns)) != len(self.columns):
            raise ValueError(f"Table(columns=): duplicate column names in {self.columns}")
        self._types = self._initial_types(dtype)
        self.data: list[list] = []
        for row in data or []:
            self.add_data(*row)

    def _initial_types(self, dtype) -> list:
        if dtype is None:
            return [None] * len(self.columns)
        kinds = list(dtype) if isinstance(dtype, (list, tuple)) else [dtype] * len(self.columns)
        if len(kinds) != len(self.columns):
            raise ValueError(f"Table(dtype=): {len(kinds)} types for {len(self.columns)} columns")
        return [_dtype_kind(k) for k in kinds]

    def _check(self, col: int, value) -> None:
        kind = _kind(value)
        if kind is None:
            if self._optional is False or (
                isinstance(self._optional, (list, tuple)) and not self._optional[col]
            ):
                raise TableTypeError(
                    f"Table: column {self.columns[col]!r} is not optional; got None"
                )
            return
        have = self._types[col]
        if have is None:
            self._types[col] = kind
        elif have != kind and not self._allow_mixed:
            raise TableTypeError(
                f"Table: column {self.columns[col]!r} holds {have} values, got "
                f"{kind} ({value!r:.60}); pass allow_mixed_types=True to mix"
            )

    @property
    def ncols(self) -> int:
        return len(self.columns)

    def add_data(self, *data) -> None:
        if len(data) != len(self.columns):
            raise ValueError(
                f"Table.add_data: this table expects {len(self.columns)} columns "
                f"{self.columns}, got {len(data)} values"
            )
        for i, v in enumerate(data):
            self._check(i, v)
        self.data.append(list(data))

    def add_row(self, *row) -> None:
        self.add_data(*row)

    def add_column(self, name, data, optional=False) -> None:
        name = str(name)
        if name in self.columns:
            raise ValueError(f"Table.add_column: column {name!r} already exists")
        data = data.tolist() if hasattr(data, "tolist") else list(data)
        if self.data and len(data) != len(self.data):
            raise ValueError(
                f"Table.add_column({name!r}): {len(data)} values for {len(self.data)} rows"
            )
        self.columns.append(name)
        self._types.append(None)
        if not self.data:
            self.data = [[v] for v in data]
        else:
            for row, v in zip(self.data, data):
                row.append(v)
        for v in data:
            self._check(len(self.columns) - 1, v)

    def get_column(self, name, convert_to=None) -> list:
        if name not in self.columns:
            raise ValueError(f"Table.get_column: no column {name!r} (columns: {self.columns})")
        i = self.columns.index(name)
        col = [row[i] for row in self.data]
        if convert_to == "numpy":
            import numpy

            return numpy.array(col)
        return col

    def get_index(self) -> list:
        return list(range(len(self.data)))

    def iterrows(self):
        yield from enumerate(self.data)

    def get_dataframe(self):
        import pandas

        return pandas.DataFrame(self.data, columns=self.columns)

    def add_computed_columns(self, fn) -> None:
        computed = [fn(i, dict(zip(self.columns, row))) for i, row in enumerate(self.data)]
        for name in computed[0] if computed else {}:
            self.add_column(name, [c[name] for c in computed])

    def cast(self, col_name, dtype, optional=False) -> None:
        i = self.columns.index(col_name)
        self._types[i] = _dtype_kind(dtype)

    def _rows_to_write(self) -> list:
        rows = self.data[self._logged_rows :] if self.log_mode == "INCREMENTAL" else self.data
        if len(rows) > self.MAX_ROWS:
            _term.termwarn(
                f"a table of {len(rows)} rows is over the {self.MAX_ROWS} row limit for "
                f"history: only the first {self.MAX_ROWS} rows are logged",
                repeat=False,
            )
            rows = rows[: self.MAX_ROWS]
        return rows

    def _trackway_json(self) -> dict | None:
        rows = self._rows_to_write()
        body = {
            "_type": "table",
            "columns": self.columns,
            "ncols": len(self.columns),
            "nrows": len(rows),
            "column_types": {c: (t or "null") for c, t in zip(self.columns, self._types)},
            "data": [plain(r) for r in rows],
        }
        data = dumps(body)
        if over_limit("a table", len(data)):
            return None
        ref = store_file("table-file", "table", "table.json", data)
        ref.update(
            ncols=len(self.columns),
            nrows=len(rows),
            columns=list(self.columns),
            log_mode=self.log_mode,
        )
        if self.log_mode == "INCREMENTAL":
            ref.update(increment=self._increment, nrows_total=self._logged_rows + len(rows))
            self._increment += 1
            self._logged_rows += len(rows)
        return ref

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Table) and self.columns == other.columns and self.data == other.data
        )

    __hash__ = None

    def __repr__(self) -> str:
        return f"<Table {len(self.data)} rows x {len(self.columns)} columns {self.columns}>"
