"""Rich values for `log()` (wandb's `wandb.data_types`): images, histograms, tables, audio,
video, HTML, Plotly charts, 3D objects and molecules. Stored shapes: docs/media-api.md.

Importing this package imports no third-party module; numpy, Pillow, matplotlib, plotly and
pandas are imported only when a value needs them.
"""

from ._base import Media, WBValue
from .audio import Audio
from .histogram import Histogram
from .html import Html
from .image import BoundingBoxes2D, Classes, Image, ImageMask
from .molecule import Molecule
from .object_3d import Object3D
from .plotly import Plotly
from .table import Table
from .video import Video

__all__ = [
    "Audio",
    "BoundingBoxes2D",
    "Classes",
    "Histogram",
    "Html",
    "Image",
    "ImageMask",
    "Media",
    "Molecule",
    "Object3D",
    "Plotly",
    "Table",
    "Video",
    "WBValue",
]
