"""Compat package mirroring `wandb.sdk` paths that integrations import."""
from . import lib, wandb_run
from .wandb_run import Run

__all__ = ["Run", "lib", "wandb_run"]
