"""Compat package mirroring `wandb.sdk` paths that integrations import."""

from . import data_types, lib, wandb_run
from .wandb_run import Run

__all__ = ["Run", "data_types", "lib", "wandb_run"]
