"""Compat package for `wandb.sdk.lib`."""

from . import config_util, printer


class RunDisabled:
    """Imported by Lightning for an isinstance check; disabled runs are `Run` instances."""


__all__ = ["RunDisabled", "config_util", "printer"]
