"""`run.summary`: a dict-like view of the native summary; writes go straight to the run log."""

from .errors import UsageError


class _Nested(dict):
    """A nested summary dict whose writes go through to the summary (`s["a"]["b"] = 1`)."""

    def __init__(self, owner: "Summary", path: list, data: dict) -> None:
        super().__init__(data)
        self._owner = owner
        self._path = path

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if isinstance(value, dict):
            return _Nested(self._owner, self._path + [key], value)
        return value

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setitem__(self, key, value) -> None:
        self._owner._set(self._path + [str(key)], value)
        super().__setitem__(key, value)

    def __delitem__(self, key) -> None:
        self._owner._del(self._path + [str(key)])
        super().__delitem__(key)

    def update(self, other=(), **kw) -> None:
        for k, v in dict(other, **kw).items():
            self[k] = v

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default


class Summary:
    """Dict-like access to a run's summary (last logged values, aggregates, explicit values)."""

    def __init__(self, backend, check=None) -> None:
        object.__setattr__(self, "_backend", backend)  # NativeRun or the in-memory backend
        object.__setattr__(self, "_check", check)  # raises UsageError once the run finished

    def _data(self) -> dict:
        return self._backend.summary()

    def _set(self, path: list, value) -> None:
        if self._check is not None:
            self._check("summary")
        self._backend.summary_set(path, value)

    def _del(self, path: list) -> None:
        if self._check is not None:
            self._check("summary")
        self._backend.summary_del(path)

    def __getitem__(self, key):
        value = self._data()[key]
        if isinstance(value, dict):
            return _Nested(self, [key], value)
        return value

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"summary has no key {key!r}") from None

    def __setitem__(self, key, value) -> None:
        self._set([str(key)], value)

    def __setattr__(self, key, value) -> None:
        self._set([str(key)], value)

    def __delitem__(self, key) -> None:
        self._del([str(key)])

    def __delattr__(self, key) -> None:
        try:
            self._del([str(key)])
        except KeyError:
            raise AttributeError(key) from None

    def update(self, d=None, **kwargs) -> None:
        data = dict(d or {}, **kwargs)
        if not data:
            return
        if self._check is not None:
            self._check("summary")
        self._backend.summary_update({str(k): v for k, v in data.items()})

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self):
        return list(self._data().keys())

    def values(self):
        return list(self._data().values())

    def items(self):
        return list(self._data().items())

    def __iter__(self):
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._data())

    def __contains__(self, key) -> bool:
        return key in self._data()

    def as_dict(self) -> dict:
        return self._data()

    _as_dict = as_dict

    def __repr__(self) -> str:
        return repr(self._data())


def closed_check(message: str):
    def check(_what: str) -> None:
        raise UsageError(message)

    return check
