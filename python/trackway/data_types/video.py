"""`Video(data_or_path, caption=None, fps=None, format=None)`: arrays (TxCxHxW or BxTxCxHxW,
uint8 or floats) are encoded to GIF with Pillow, or to MP4/WebM/OGG with imageio + ffmpeg."""

from __future__ import annotations

import io
import os

from ._base import Media, module_root, over_limit, read_path, store_file, to_numpy

_FORMATS = ("gif", "mp4", "webm", "ogg")
_SHAPES = "TxCxHxW or BxTxCxHxW with C in 1, 3, 4"


def _frames(arr):
    """T x H x W x C uint8 frames from TxCxHxW (a batch is tiled side by side)."""
    import numpy as np

    if arr.ndim == 5:  # B x T x C x H x W -> T x C x H x (B*W)
        arr = np.concatenate(list(arr), axis=-1)
    if arr.ndim != 4 or arr.shape[1] not in (1, 3, 4) or 0 in arr.shape:
        raise ValueError(
            f"Video(data_or_path): unsupported shape {tuple(arr.shape)}; accepted: {_SHAPES}"
        )
    if arr.dtype != np.uint8:
        data = np.nan_to_num(arr.astype(np.float64))
        if data.max() <= 1.0:
            data = data * 255.0
        arr = np.clip(np.rint(data), 0, 255).astype(np.uint8)
    frames = arr.transpose(0, 2, 3, 1)
    return np.repeat(frames, 3, axis=3) if frames.shape[3] == 1 else frames


def _gif(frames, fps: float) -> bytes:
    try:
        from PIL import Image as PILImage
    except ImportError as e:
        raise ValueError("Video(format='gif') needs Pillow (pip install pillow)") from e
    mode = "RGBA" if frames.shape[3] == 4 else "RGB"
    images = [PILImage.fromarray(f, mode) for f in frames]
    buf = io.BytesIO()
    images[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(1, int(1000 / fps)),
        loop=0,
    )
    return buf.getvalue()


def _ffmpeg(frames, fps: float, fmt: str) -> bytes:
    try:
        import imageio.v3 as iio
    except ImportError as e:
        raise ValueError(
            f"Video(format={fmt!r}) needs imageio with ffmpeg (pip install imageio "
            "imageio-ffmpeg); format='gif' needs only Pillow"
        ) from e
    return iio.imwrite("<bytes>", frames[..., :3], extension=f".{fmt}", fps=fps)


class Video(Media):
    _log_type = "video-file"

    def __init__(self, data_or_path, caption=None, fps=None, format=None) -> None:
        super().__init__(caption)
        self._fps = fps
        self._width = self._height = None
        if isinstance(data_or_path, (str, os.PathLike)):
            self._data = read_path(data_or_path, "Video(data_or_path)")
            ext = os.path.splitext(os.fspath(data_or_path))[1].lstrip(".").lower()
            self._format = ext or "mp4"
            return
        if module_root(data_or_path) not in ("numpy", "torch", "tensorflow", "jax", "jaxlib"):
            raise ValueError(
                f"Video(data_or_path): expected an array ({_SHAPES}) or a file path, "
                f"got {type(data_or_path).__name__}"
            )
        fmt = (format or "gif").lower()
        if fmt not in _FORMATS:
            raise ValueError(f"Video(format={format!r}): expected one of {', '.join(_FORMATS)}")
        frames = _frames(to_numpy(data_or_path, "Video(data_or_path)"))
        self._fps = fps = fps or 4
        self._height, self._width = int(frames.shape[1]), int(frames.shape[2])
        self._data = _gif(frames, fps) if fmt == "gif" else _ffmpeg(frames, fps, fmt)
        self._format = fmt

    def _trackway_json(self) -> dict | None:
        if over_limit("a video", len(self._data)):
            return None
        ref = store_file("video-file", "videos", self._format, self._data)
        ref["format"] = self._format
        if self._width is not None:
            ref.update(width=self._width, height=self._height)
        if self._fps is not None:
            ref["fps"] = self._fps
        return self._with_caption(ref)
