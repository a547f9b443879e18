"""Ultralytics YOLO integration under wandb's path (``wandb.integration.ultralytics``):
``add_wandb_callback(model, ...)`` and ``WandBUltralyticsCallback``.

As wandb's: it adds callbacks to a ``YOLO`` model that log, as Tables, the model's predictions
on the first validation batches after each training epoch (``Train-Table``, with an ``Epoch``
column), after ``model.val()`` (``Validation-Table``) and for ``model.predict()``
(``Prediction-Table``); detection, segmentation and pose results carry their boxes (and the
ground truth, for validation) as image overlays, classification results the top-5 classes.
With ``enable_model_checkpointing=True`` each epoch's weights become a ``model`` artifact
``run_<id>_model`` with the alias ``epoch_<n>``. Per-epoch metrics, plots and the best weights
come from Ultralytics' own wandb callback (``yolo settings wandb=True``), which logs through
the ``wandb`` module as well.
"""

from __future__ import annotations

import copy

import torch
from ultralytics.utils import RANK

import trackway

from ._tables import TABLE_COLUMNS, prediction_rows, validation_rows

__all__ = ["WandBUltralyticsCallback", "add_wandb_callback"]

SUPPORTED_TASKS = ("detect", "segment", "pose", "classify")


class WandBUltralyticsCallback:
    """Stateful callbacks logging predictions, ground truth and checkpoints of a YOLO model."""

    def __init__(
        self,
        model,
        epoch_logging_interval: int = 1,
        max_validation_batches: int = 1,
        enable_model_checkpointing: bool = False,
        visualize_skeleton: bool = False,
    ) -> None:
        self.epoch_logging_interval = max(1, int(epoch_logging_interval))
        self.max_validation_batches = max_validation_batches
        self.enable_model_checkpointing = enable_model_checkpointing
        self.visualize_skeleton = visualize_skeleton
        self.task = model.task
        self.model_name = (
            str(model.overrides["model"]).split(".")[0] if "model" in model.overrides else None
        )
        overrides = copy.deepcopy(model.overrides)
        overrides.update(conf=0.1, save=False, save_txt=False, save_crop=False, verbose=False)
        self.predictor = model.task_map[self.task]["predictor"](overrides=overrides)
        self.predictor.callbacks = {}  # its own predictions must not re-enter these callbacks
        self.train_validation_table = self._table("train")
        self.validation_table = self._table("validation")
        self.prediction_table = self._table("prediction")
        self.train_epoch = None
        self.model = None
        self.run_id = None

    def _table(self, kind: str):
        return trackway.Table(columns=list(TABLE_COLUMNS[(self._family(), kind)]))

    def _family(self) -> str:
        return "classify" if self.task == "classify" else "boxes"

    def _save_model(self, trainer) -> None:
        from ultralytics.utils.torch_utils import unwrap_model

        path = trainer.wdir / f"epoch{trainer.epoch}.pt"
        torch.save(
            {
                "epoch": trainer.epoch,
                "best_fitness": trainer.best_fitness,
                "model": copy.deepcopy(unwrap_model(trainer.model)).half(),
                "train_args": vars(trainer.args),
            },
            path,
        )
        artifact = trackway.Artifact(f"run_{trackway.run.id}_model", "model")
        artifact.add_file(str(path))
        trackway.log_artifact(artifact, aliases=[f"epoch_{trainer.epoch}"])

    def on_train_start(self, trainer) -> None:
        trackway.config.train = vars(trainer.args)
        self.run_id = trackway.run.id

    @torch.no_grad()
    def on_fit_epoch_end(self, trainer) -> None:
        if self.task not in SUPPORTED_TASKS or self.train_epoch == trainer.epoch:
            return
        self.train_epoch = trainer.epoch
        model = getattr(trainer.model, "module", trainer.model)  # DDP wraps it
        device = next(model.parameters()).device
        if (trainer.epoch + 1) % self.epoch_logging_interval == 0:
            self.model = copy.deepcopy(model).eval()
            self.predictor.setup_model(model=self.model, verbose=False)
            for row in validation_rows(self, trainer.validator):
                self.train_validation_table.add_data(self.model_name, trainer.epoch, *row)
        if self.enable_model_checkpointing:
            self._save_model(trainer)
        trainer.model.to(device)

    def on_train_end(self, trainer) -> None:
        if self.task in SUPPORTED_TASKS:
            trackway.log({"Train-Table": self.train_validation_table}, commit=False)

    def on_val_start(self, validator) -> None:
        if trackway.run is None:
            trackway.init(
                project=validator.args.project or "YOLOv8", job_type="validation_" + self.task
            )

    @torch.no_grad()
    def on_val_end(self, validator) -> None:
        if self.task not in SUPPORTED_TASKS or getattr(validator, "training", False):
            return  # during training, on_fit_epoch_end logs the epoch's table
        if self.model is None:
            self.model = copy.deepcopy(validator.model).eval()
            self.predictor.setup_model(model=self.model, verbose=False)
        for row in validation_rows(self, validator):
            self.validation_table.add_data(self.model_name, *row)
        trackway.log({"Validation-Table": self.validation_table}, commit=False)

    def on_predict_start(self, predictor) -> None:
        if trackway.run is None:
            trackway.init(
                project=predictor.args.project or "YOLOv8",
                config=vars(predictor.args),
                job_type="prediction_" + self.task,
            )

    def on_predict_end(self, predictor) -> None:
        trackway.config.update({"prediction_configs": vars(predictor.args)}, allow_val_change=True)
        if self.task not in SUPPORTED_TASKS:
            return
        for row in prediction_rows(self, predictor.results):
            self.prediction_table.add_data(self.model_name, *row)
        trackway.log({"Prediction-Table": self.prediction_table}, commit=False)

    @property
    def callbacks(self) -> dict:
        """The callbacks to add to a YOLO model, by Ultralytics event name."""
        return {
            "on_train_start": self.on_train_start,
            "on_fit_epoch_end": self.on_fit_epoch_end,
            "on_train_end": self.on_train_end,
            "on_val_start": self.on_val_start,
            "on_val_end": self.on_val_end,
            "on_predict_start": self.on_predict_start,
            "on_predict_end": self.on_predict_end,
        }


def add_wandb_callback(
    model,
    epoch_logging_interval: int = 1,
    enable_model_checkpointing: bool = False,
    enable_train_validation_logging: bool = True,
    enable_validation_logging: bool = True,
    enable_prediction_logging: bool = True,
    max_validation_batches: int | None = 1,
    visualize_skeleton: bool | None = True,
):
    """Add `WandBUltralyticsCallback`'s callbacks to a `YOLO` model (rank 0 only); returns it."""
    if RANK not in (-1, 0):
        trackway.termerror(
            "The RANK of the process to add the callbacks was neither 0 or -1. No "
            "callbacks were added to this instance of the YOLO model."
        )
        return model
    callback = WandBUltralyticsCallback(
        copy.deepcopy(model),
        epoch_logging_interval,
        max_validation_batches or 1,
        enable_model_checkpointing,
        bool(visualize_skeleton),
    )
    callbacks = callback.callbacks
    for enabled, events in (
        (enable_train_validation_logging, ("on_fit_epoch_end", "on_train_end")),
        (enable_validation_logging, ("on_val_start", "on_val_end")),
        (enable_prediction_logging, ("on_predict_start", "on_predict_end")),
    ):
        if not enabled:
            for event in events:
                callbacks.pop(event)
    for event, fn in callbacks.items():
        model.add_callback(event, fn)
    return model
