"""Stable-Baselines3 ``WandbCallback`` under wandb's path.

As in wandb: the algorithm's hyperparameters go into the config, ``gradient_save_freq > 0``
watches the policy's gradients, and the model is saved to ``model_save_path`` every
``model_save_freq`` calls and at the end (the file is also attached to the run). SB3's own
metrics reach the run through its TensorBoard logger with ``init(sync_tensorboard=True)``.
"""

from __future__ import annotations

import os

from stable_baselines3.common.callbacks import BaseCallback

from .._util import active_run

__all__ = ["WandbCallback"]


class WandbCallback(BaseCallback):
    def __init__(
        self,
        verbose: int = 0,
        model_save_path: str | None = None,
        model_save_freq: int = 0,
        gradient_save_freq: int = 0,
        log: str = "all",
    ):
        super().__init__(verbose)
        active_run("WandbCallback()")
        if log not in ("gradients", "parameters", "all", None):
            raise ValueError("log must be one of 'gradients', 'parameters', 'all' or None")
        self.model_save_path = model_save_path
        self.model_save_freq = model_save_freq
        self.gradient_save_freq = gradient_save_freq
        self.log = log
        self.path = None
        if model_save_path is not None:
            os.makedirs(model_save_path, exist_ok=True)
            self.path = os.path.join(model_save_path, "model.zip")
        elif model_save_freq > 0:
            raise ValueError("model_save_freq needs model_save_path")

    def _init_callback(self) -> None:
        run = active_run("WandbCallback")
        d = {"algo": type(self.model).__name__}
        for key, value in self.model.__dict__.items():
            if key in run.config:
                continue
            if isinstance(value, (float, int, str, bool)) or value is None:
                d[key] = value
            else:
                d[key] = str(value)
        if self.gradient_save_freq > 0:
            run.watch(self.model.policy, log_freq=self.gradient_save_freq, log=self.log)
        run.config.setdefaults(d)

    def _on_step(self) -> bool:
        if self.model_save_freq > 0 and self.n_calls % self.model_save_freq == 0:
            self.save_model()
        return True

    def _on_training_end(self) -> None:
        if self.model_save_path is not None:
            self.save_model()

    def save_model(self) -> None:
        self.model.save(self.path)
        active_run("WandbCallback").save(self.path, base_path=self.model_save_path, policy="now")
