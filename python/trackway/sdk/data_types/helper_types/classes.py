"""`wandb.sdk.data_types.helper_types.classes`."""

from ....data_types.image import Classes  # noqa: F401
