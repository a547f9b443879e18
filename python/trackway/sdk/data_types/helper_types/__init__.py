"""`wandb.sdk.data_types.helper_types`."""

from . import bounding_boxes_2d, classes, image_mask  # noqa: F401
