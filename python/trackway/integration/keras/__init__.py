"""Keras 3 callbacks under wandb's paths: ``WandbMetricsLogger``, ``WandbModelCheckpoint``,
``WandbEvalCallback`` (any Keras backend; ``KERAS_BACKEND=torch`` avoids TensorFlow)."""

from __future__ import annotations

import os

import keras

from .._util import active_run, scalar

__all__ = ["WandbEvalCallback", "WandbMetricsLogger", "WandbModelCheckpoint"]


def _learning_rate(model):
    opt = getattr(model, "optimizer", None)
    lr = getattr(opt, "learning_rate", None)
    if lr is None:
        return None
    try:
        return float(keras.ops.convert_to_numpy(lr))
    except Exception:  # a schedule object or a backend without conversion
        return scalar(lr)


class WandbMetricsLogger(keras.callbacks.Callback):
    """Logs ``epoch/<metric>`` at each epoch end (with ``epoch/epoch`` and
    ``epoch/learning_rate``) and, with ``log_freq="batch"`` or an int N, ``batch/<metric>`` every
    N batches with a ``batch/batch_step`` counter — wandb's keys and step metrics."""

    def __init__(self, log_freq="epoch", initial_global_step: int = 0, *args, **kwargs):
        super().__init__()
        run = active_run("WandbMetricsLogger()")
        if log_freq == "batch":
            log_freq = 1
        self.logging_batch_wise = isinstance(log_freq, int)
        self.log_freq = log_freq if self.logging_batch_wise else None
        self.global_batch = 0
        self.global_step = initial_global_step
        run.define_metric("epoch/epoch")
        run.define_metric("epoch/*", step_metric="epoch/epoch")
        if self.logging_batch_wise:
            run.define_metric("batch/batch_step")
            run.define_metric("batch/*", step_metric="batch/batch_step")

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch/epoch": epoch}
        for k, v in (logs or {}).items():
            value = scalar(v)
            if value is not None:
                row[f"epoch/{k}"] = value
        lr = _learning_rate(self.model)
        if lr is not None:
            row["epoch/learning_rate"] = lr
        active_run("WandbMetricsLogger").log(row)

    def on_batch_end(self, batch, logs=None):
        self.global_step += 1
        if self.logging_batch_wise and batch % self.log_freq == 0:
            row = {"batch/batch_step": self.global_batch}
            for k, v in (logs or {}).items():
                value = scalar(v)
                if value is not None:
                    row[f"batch/{k}"] = value
            lr = _learning_rate(self.model)
            if lr is not None:
                row["batch/learning_rate"] = lr
            active_run("WandbMetricsLogger").log(row)
            self.global_batch += self.log_freq

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)


class WandbModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """``keras.callbacks.ModelCheckpoint`` that also saves each checkpoint into the run's files
    (``run.save(path, policy="now")``). wandb stores checkpoints as model Artifacts; Trackway has
    no artifacts yet, so the file is attached to the run instead."""

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
        **kwargs,
    ):
        super().__init__(
            filepath=filepath,
            monitor=monitor,
            verbose=verbose,
            save_best_only=save_best_only,
            save_weights_only=save_weights_only,
            mode=mode,
            save_freq=save_freq,
            initial_value_threshold=initial_value_threshold,
            **kwargs,
        )
        active_run("WandbModelCheckpoint()")
        self.saved_paths: list[str] = []

    def _save_model(self, epoch, batch, logs):
        super()._save_model(epoch, batch, logs)
        path = self._get_file_path(epoch, batch, logs)
        if os.path.exists(path):
            run = active_run("WandbModelCheckpoint")
            run.save(path, base_path=os.path.dirname(os.path.abspath(path)), policy="now")
            self.saved_paths.append(path)


class WandbEvalCallback(keras.callbacks.Callback):
    """wandb's abstract evaluation-table callback: subclasses implement
    ``add_ground_truth(logs)`` (fill ``self.data_table``) and ``add_model_predictions(epoch,
    logs)`` (fill ``self.pred_table``); the tables are logged as ``eval/data_table`` once and
    ``eval/pred_table`` each epoch. Needs ``trackway.Table``."""

    def __init__(self, data_table_columns, pred_table_columns, *args, **kwargs):
        super().__init__()
        active_run("WandbEvalCallback()")
        self.data_table_columns = list(data_table_columns)
        self.pred_table_columns = list(pred_table_columns)
        self.data_table = None
        self.pred_table = None

    @staticmethod
    def _table_class():
        import trackway

        table = getattr(trackway, "Table", None)
        if table is None:
            raise trackway.Error("WandbEvalCallback needs trackway.Table, which this build lacks")
        return table

    def on_train_begin(self, logs=None):
        self.init_data_table(self.data_table_columns)
        self.add_ground_truth(logs)
        self.log_data_table()

    def on_epoch_end(self, epoch, logs=None):
        self.init_pred_table(self.pred_table_columns)
        self.add_model_predictions(epoch, logs)
        self.log_pred_table()

    def add_ground_truth(self, logs=None):
        raise NotImplementedError(f"{self.__class__.__name__}.add_ground_truth")

    def add_model_predictions(self, epoch, logs=None):
        raise NotImplementedError(f"{self.__class__.__name__}.add_model_predictions")

    def init_data_table(self, column_names):
        self.data_table = self._table_class()(columns=column_names, allow_mixed_types=True)

    def init_pred_table(self, column_names):
        self.pred_table = self._table_class()(columns=column_names)

    def log_data_table(self, name="eval", type="dataset", table_name="eval_data"):
        active_run("WandbEvalCallback").log({f"{name}/{table_name}": self.data_table}, commit=False)

    def log_pred_table(self, type="evaluation", table_name="eval_data", aliases=None):
        active_run("WandbEvalCallback").log({"eval/pred_table": self.pred_table}, commit=False)
