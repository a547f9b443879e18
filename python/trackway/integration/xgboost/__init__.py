"""XGBoost integration under wandb's path: ``WandbCallback`` (an XGBoost ``TrainingCallback``)."""

from __future__ import annotations

import json
import os
import tempfile

import xgboost as xgb

from .._util import active_run

__all__ = ["WandbCallback"]


class WandbCallback(xgb.callback.TrainingCallback):
    """Logs each boosting round's evaluation results as ``<dataset>-<metric>`` with an ``epoch``
    column, the booster's config into the run config before training, and best score/iteration
    plus feature importance into the summary after it (wandb's keys). ``log_model=True``
    attaches the saved model file to the run (wandb: a model Artifact)."""

    def __init__(
        self,
        log_model: bool = False,
        log_feature_importance: bool = True,
        importance_type: str = "gain",
        define_metric: bool = True,
    ):
        super().__init__()
        active_run("xgboost WandbCallback()")
        self.log_model = log_model
        self.log_feature_importance = log_feature_importance
        self.importance_type = importance_type
        self.define_metric = define_metric
        self._defined = False

    def before_training(self, model):
        run = active_run("xgboost WandbCallback")
        try:
            config = json.loads(model.save_config())
        except (ValueError, AttributeError):
            config = {}
        run.config.update(config, allow_val_change=True)
        return model

    def after_iteration(self, model, epoch, evals_log) -> bool:
        run = active_run("xgboost WandbCallback")
        row = {}
        for data, metrics in evals_log.items():
            for name, values in metrics.items():
                value = values[-1]
                if isinstance(value, tuple):  # (mean, std) from cv
                    value = value[0]
                row[f"{data}-{name}"] = float(value)
        if self.define_metric and not self._defined:
            for key in row:
                run.define_metric(key, summary="min")
            self._defined = True
        row["epoch"] = epoch
        run.log(row)
        return False

    def after_training(self, model):
        run = active_run("xgboost WandbCallback")
        for attr in ("best_score", "best_iteration"):
            value = (
                getattr(model, attr, None)
                if hasattr(model, "attr") and model.attr(attr) is not None
                else None
            )
            if value is not None:
                run.summary[attr] = float(value) if attr == "best_score" else int(value)
        if self.log_feature_importance:
            scores = model.get_score(importance_type=self.importance_type)
            run.summary["feature_importance"] = {k: float(v) for k, v in scores.items()}
        if self.log_model:
            path = os.path.join(tempfile.mkdtemp(prefix="trackway-xgb-"), "model.json")
            model.save_model(path)
            run.save(path, base_path=os.path.dirname(path), policy="now")
        return model
