"""`wandb.sdk.data_types.audio`."""

from ...data_types.audio import Audio  # noqa: F401
