"""`run.config`: wandb's Config semantics, written through to the run log on every change."""

from collections.abc import Mapping

from . import _term
from ._convert import friendly, friendly_key
from .errors import ConfigError, UsageError

_MISSING = object()


def _key(key) -> str:
    key = friendly_key(key)
    return key.lstrip("-") or key


def _same(a, b) -> bool:
    if a is b:
        return True
    try:
        if a == b:
            return True
    except Exception:
        return False
    return a != a and b != b  # both NaN: the same value for our purposes


def to_dict(params) -> dict:
    """Accept a dict, Mapping, argparse.Namespace, absl FLAGS or any object with __dict__."""
    if params is None:
        return {}
    if isinstance(params, Config):
        return dict(params._items)
    if isinstance(params, Mapping):
        return dict(params)
    flag_values = getattr(params, "flag_values_dict", None)  # absl.flags.FLAGS
    if callable(flag_values):
        return dict(flag_values())
    if hasattr(params, "__dict__"):
        return dict(vars(params))
    raise TypeError(
        f"config must be a dict or an object with attributes, not {type(params).__name__}"
    )


class Config:
    """Attribute and item access over a flat dict of JSON-friendly values.

    `_items` is a real instance attribute because transformers reads `vars(config)["_items"]`.
    """

    def __init__(self, items=None, writer=None, allow_val_change: bool = False) -> None:
        object.__setattr__(self, "_items", {})
        object.__setattr__(self, "_writer", writer)  # callable(dict) or None
        object.__setattr__(self, "_allow_val_change", bool(allow_val_change))
        object.__setattr__(self, "_closed", None)  # message once the run finished
        object.__setattr__(self, "_locked", {})  # key -> who locked it (a sweep)
        if items:
            for k, v in items.items():
                self._items[_key(k)] = friendly(v)

    # -- writes ---------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise UsageError(self._closed)

    def update(self, d=None, allow_val_change=None, **kwargs) -> None:
        self._check_open()
        data = to_dict(d)
        data.update(kwargs)
        allow = self._allow_val_change if allow_val_change is None else bool(allow_val_change)
        changes = {}
        for k, v in data.items():
            k, v = _key(k), friendly(v)
            old = self._items.get(k, _MISSING)
            if k in self._locked:
                if old is _MISSING or not _same(old, v):
                    _term.warn_once(
                        f"Config item '{k}' was locked by '{self._locked[k]}' (ignored update)."
                    )
                continue
            if old is not _MISSING and _same(old, v):
                continue
            if old is not _MISSING and not allow:
                raise ConfigError(
                    f'Attempted to change value of key "{k}" from {old!r} to {v!r}\n'
                    "If you really want to do this, pass allow_val_change=True to config.update()"
                )
            changes[k] = v
        self._apply(changes)

    def _apply(self, changes: dict) -> None:
        if not changes:
            return
        self._items.update(changes)
        if self._writer is not None:
            self._writer(changes)

    def update_locked(self, d, user=None, _allow_val_change=None) -> None:
        """Sets keys and locks them (wandb: sweep parameters): later user updates to these keys
        warn and are ignored."""
        self._check_open()
        data = {_key(k): friendly(v) for k, v in to_dict(d).items()}
        changes = {k: v for k, v in data.items() if not _same(self._items.get(k, _MISSING), v)}
        self._apply(changes)
        self._lock(data, user or "user")

    def _lock(self, keys, user) -> None:
        for k in keys:
            self._locked[_key(k)] = user

    def setdefaults(self, d) -> None:
        self._check_open()
        changes = {}
        for k, v in to_dict(d).items():
            k = _key(k)
            if k not in self._items and k not in changes:
                changes[k] = friendly(v)
        self._apply(changes)

    def persist(self) -> None:
        """Rewrite every key (after mutating a nested value in place)."""
        self._check_open()
        if self._writer is not None and self._items:
            self._writer(dict(self._items))

    def __setitem__(self, key, value) -> None:
        self.update({key: value})

    def __setattr__(self, key, value) -> None:
        self.update({key: value})

    def __delitem__(self, key) -> None:
        self._check_open()
        key = _key(key)
        del self._items[key]
        remover = getattr(self._writer, "remove", None)
        if remover is not None:
            remover([key])

    def __delattr__(self, key) -> None:
        try:
            self.__delitem__(key)
        except KeyError:
            raise AttributeError(key) from None

    # -- reads ----------------------------------------------------------------------------------
    def __getitem__(self, key):
        return self._items[_key(key)]

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._items[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r}") from None

    def get(self, key, default=None):
        return self._items.get(_key(key), default)

    def __contains__(self, key) -> bool:
        return _key(key) in self._items

    def keys(self):
        return [k for k in self._items if not k.startswith("_")]

    def values(self):
        return [self._items[k] for k in self.keys()]

    def items(self):
        return [(k, self._items[k]) for k in self.keys()]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def as_dict(self) -> dict:
        return dict(self._items)

    def __repr__(self) -> str:
        return repr(self.as_dict())

    def __dir__(self):
        return list(super().__dir__()) + list(self._items)

    def __getstate__(self):
        return {"items": dict(self._items), "allow": self._allow_val_change, "locked": self._locked}

    def __setstate__(self, state) -> None:
        object.__setattr__(self, "_items", dict(state["items"]))
        object.__setattr__(self, "_writer", None)
        object.__setattr__(self, "_allow_val_change", state["allow"])
        object.__setattr__(self, "_closed", None)
        object.__setattr__(self, "_locked", dict(state.get("locked", {})))


class ConfigWriter:
    """Writes config changes through a NativeRun (callable + `.remove`)."""

    __slots__ = ("_native",)

    def __init__(self, native) -> None:
        self._native = native

    def __call__(self, changes: dict) -> None:
        self._native.config_update(changes)

    def remove(self, keys: list) -> None:
        self._native.config_remove(keys)


def load_yaml_config(path: str) -> dict:
    """A YAML config file; `{key: {value: v, desc: ...}}` entries are unwrapped as wandb does."""
    import yaml  # only when a YAML config is used

    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise TypeError(f"{path}: a config file must hold a mapping")
    out = {}
    for k, v in data.items():
        if k in ("wandb_version", "_wandb"):
            continue
        if isinstance(v, dict) and "value" in v and set(v) <= {"value", "desc"}:
            v = v["value"]
        out[k] = v
    return out
