"""`wandb.sdk.data_types.table`."""

from ...data_types.table import Table  # noqa: F401
