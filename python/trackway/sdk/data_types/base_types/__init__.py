"""`wandb.sdk.data_types.base_types`."""

from . import media, wb_value  # noqa: F401
