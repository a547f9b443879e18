"""Compat path `wandb.sdk.lib.config_util.ConfigError` (transformers WandbCallback)."""

from ...errors import ConfigError

__all__ = ["ConfigError"]
