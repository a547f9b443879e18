"""`wandb.sdk.data_types.video`."""

from ...data_types.video import Video  # noqa: F401
