"""LightGBM integration under wandb's path: ``wandb_callback()`` and ``log_summary()``."""

from __future__ import annotations

from .._util import active_run

__all__ = ["log_summary", "wandb_callback"]


def wandb_callback(log_params: bool = True, define_metric: bool = True):
    """A ``lightgbm.train(callbacks=[...])`` callback logging each iteration's evaluation
    results as ``<dataset>_<metric>`` (wandb's keys), and the params into the config once."""
    state = {"params_logged": False, "defined": set()}

    def _callback(env) -> None:
        run = active_run("lightgbm wandb_callback")
        if log_params and not state["params_logged"]:
            run.config.update(dict(env.params), allow_val_change=True)
            state["params_logged"] = True
        row = {}
        for item in env.evaluation_result_list:
            data_name, eval_name, result = item[0], item[1], item[2]
            key = f"{data_name}_{eval_name}"
            if define_metric and key not in state["defined"]:
                higher_better = item[3] if len(item) > 3 else False
                run.define_metric(key, summary="max" if higher_better else "min")
                state["defined"].add(key)
            row[key] = float(result)
        row["iteration"] = env.iteration
        run.log(row, commit=True)

    _callback.order = 20
    return _callback


def log_summary(model, feature_importance: bool = True, save_model_checkpoint: bool = False):
    """Best iteration/score into the summary; feature importance as a summary dict
    (wandb logs a bar chart from a Table); optionally the model file into the run's files."""
    import os
    import tempfile

    run = active_run("lightgbm log_summary")
    run.summary["best_iteration"] = model.best_iteration
    best = getattr(model, "best_score", None) or {}
    for data_name, metrics in best.items():
        for metric, value in metrics.items():
            run.summary[f"best_score/{data_name}_{metric}"] = float(value)
    if feature_importance:
        names = model.feature_name()
        values = model.feature_importance()
        run.summary["feature_importance"] = {n: float(v) for n, v in zip(names, values)}
    if save_model_checkpoint:
        path = os.path.join(tempfile.mkdtemp(prefix="trackway-lgbm-"), "model.txt")
        model.save_model(path)
        run.save(path, base_path=os.path.dirname(path), policy="now")
