"""`wandb.sdk.data_types.image`."""
from ...data_types.image import Image, Classes, BoundingBoxes2D, ImageMask  # noqa: F401
