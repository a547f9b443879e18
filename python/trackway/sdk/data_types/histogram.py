"""`wandb.sdk.data_types.histogram`."""

from ...data_types.histogram import Histogram  # noqa: F401
