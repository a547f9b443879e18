"""`wandb.sdk.data_types.base_types.wb_value`."""

from ....data_types._base import WBValue  # noqa: F401
