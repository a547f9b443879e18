"""Compat path `wandb.sdk.wandb_run.Run` (optuna-integration checks isinstance against it)."""

from .._run import Run

__all__ = ["Run"]
