"""`wandb.sdk.data_types` paths; the classes live in `trackway.data_types`."""

from ...data_types import *  # noqa: F403 (re-exports the whole public module, as wandb does)
from ...data_types import __all__  # noqa: F401
from . import base_types, helper_types  # noqa: F401
