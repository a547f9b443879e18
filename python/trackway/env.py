"""Compat `wandb.env`: constants and the setters transformers' hp-search calls."""

from __future__ import annotations

import os

MODE = "WANDB_MODE"
PROJECT = "WANDB_PROJECT"
ENTITY = "WANDB_ENTITY"
DIR = "WANDB_DIR"
SILENT = "WANDB_SILENT"
API_KEY = "WANDB_API_KEY"
BASE_URL = "WANDB_BASE_URL"
RUN_ID = "WANDB_RUN_ID"
NAME = "WANDB_NAME"


def set_project(value: str, env=None) -> None:
    # TRACKWAY_* wins over WANDB_* in settings resolution, so set ours.
    (env if env is not None else os.environ)["TRACKWAY_PROJECT"] = value or "uncategorized"


def set_entity(value: str, env=None) -> None:
    (env if env is not None else os.environ)["TRACKWAY_ENTITY"] = value


def get_project(default=None, env=None):
    env = env if env is not None else os.environ
    return env.get("TRACKWAY_PROJECT") or env.get(PROJECT) or default


def get_entity(default=None, env=None):
    env = env if env is not None else os.environ
    return env.get("TRACKWAY_ENTITY") or env.get(ENTITY) or default
