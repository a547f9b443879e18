"""`wandb.sdk.data_types.image`."""

from ...data_types.image import BoundingBoxes2D, Classes, Image, ImageMask  # noqa: F401
