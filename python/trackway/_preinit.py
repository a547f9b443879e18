"""The placeholders `trackway.config` / `trackway.summary` hold before init(). Their own small
module, so `import trackway` can bind them without importing the run machinery."""

from __future__ import annotations

from .errors import Error


class PreInitError(Error, AttributeError):
    """Raised by the pre-init placeholders (an AttributeError too, so `hasattr` is safe)."""


class PreInit:
    """`trackway.config` / `trackway.summary` before init(): any use raises `trackway.Error`."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _fail(self, *args, **kwargs):
        raise PreInitError(f"You must call trackway.init() before trackway.{self._name}")

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        self._fail()

    __setattr__ = __getitem__ = __setitem__ = __delitem__ = __contains__ = _fail

    def __repr__(self) -> str:
        return f"<trackway.{self._name} (call trackway.init() first)>"
