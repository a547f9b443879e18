"""Compat path `wandb.wandb_run.Run` (Lightning, Ray)."""

from ._run import Run

__all__ = ["Run"]
