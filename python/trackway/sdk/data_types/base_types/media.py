"""`wandb.sdk.data_types.base_types.media`."""

from ....data_types._base import Media  # noqa: F401
