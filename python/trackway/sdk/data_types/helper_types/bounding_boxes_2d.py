"""`wandb.sdk.data_types.helper_types.bounding_boxes_2d`."""

from ....data_types.image import BoundingBoxes2D  # noqa: F401
