"""Exceptions, with the names and module paths wandb code catches (`wandb.errors.*`)."""

from __future__ import annotations

__all__ = ["Error", "CommError", "UsageError", "UnsupportedError", "ConfigError"]


class Error(Exception):
    """Base class of every Trackway error (`wandb.Error`)."""

    def __init__(self, message: str = "", context=None) -> None:
        super().__init__(message)
        self.message = message
        self.context = context


class CommError(Error):
    """Talking to the server failed (kept for `except wandb.errors.CommError`)."""

    def __init__(self, message: str = "", exc: BaseException | None = None) -> None:
        super().__init__(message)
        self.exc = exc


class UsageError(Error):
    """The API was used wrongly (e.g. a method of a finished run)."""


class UnsupportedError(UsageError):
    """A feature this implementation does not provide."""


class ConfigError(Error):
    """A config key was changed without `allow_val_change=True`.

    Also importable as `trackway.sdk.lib.config_util.ConfigError` (transformers imports it there).
    """
