"""`wandb.sdk.data_types.helper_types.image_mask`."""

from ....data_types.image import ImageMask  # noqa: F401
