"""`Image`, `Classes`, and the boxes and masks an image may carry (docs/media-api.md).

Arrays, tensors and PIL images keep their raw 8-bit pixels; when logged they are written as raw
bytes and the agent encodes the PNG (docs/run-format.md `media`), so PNG compression never runs
in the training loop. Files and matplotlib figures keep encoded bytes.
"""

from __future__ import annotations

import io
import os

from .. import _term
from ._base import (
    InvalidValue,
    Media,
    WBValue,
    active_sink,
    content_name,
    module_root,
    over_limit,
    read_path,
    store_file,
    to_numpy,
)

MAX_ITEMS = 108  # images per key per step (wandb's limit)
_SHAPES = "HxW, HxWx1, HxWx3 or HxWx4 (or CxHxW with C in 1, 3, 4)"
_MODES = {1: "L", 3: "RGB", 4: "RGBA"}
_MAGIC = {b"\x89PNG": "png", b"\xff\xd8\xff": "jpeg", b"GIF8": "gif", b"BM": "bmp"}


def _pixels(arr, what: str, normalize: bool = True):
    """A C-contiguous uint8 HxWxC array (C in 1, 3, 4) from any accepted array, copied."""
    import numpy as np

    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[-1] not in (1, 3, 4):
        arr = arr.transpose(1, 2, 0)  # CHW (torch's layout) -> HWC
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or 0 in arr.shape:
        raise ValueError(f"{what}: unsupported image shape {tuple(arr.shape)}; accepted: {_SHAPES}")
    if arr.dtype == np.uint8:
        return arr  # the caller copies it (tobytes)
    if arr.dtype == np.bool_:
        return np.ascontiguousarray(arr, dtype=np.uint8) * 255
    if arr.dtype.kind not in "fiu":
        raise ValueError(
            f"{what}: unsupported image dtype {arr.dtype}; accepted: uint8, bool, "
            "integers, floats (0-1 or 0-255)"
        )
    data = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
    if normalize:  # wandb's rule: negative data is rescaled to 0-1, then 0-1 becomes 0-255
        lo = data.min()
        if lo < 0:
            span = data.max() - lo
            data = (data - lo) / span if span else data - lo
        if data.max() <= 1.0:
            data = data * 255.0
    return np.ascontiguousarray(np.clip(np.rint(data), 0, 255).astype(np.uint8))


def _is_figure(obj) -> bool:
    if getattr(obj, "__name__", None) == "matplotlib.pyplot":
        return True
    return module_root(obj) == "matplotlib" and hasattr(obj, "savefig")


def figure_png(fig) -> bytes:
    """A matplotlib figure (or the pyplot module: its current figure) as PNG bytes."""
    if getattr(fig, "__name__", None) == "matplotlib.pyplot":
        fig = fig.gcf()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _sniff_size(data: bytes, fmt: str):
    if fmt == "png" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    try:
        from PIL import Image as PILImage

        with PILImage.open(io.BytesIO(data)) as im:
            return im.size
    except (ImportError, OSError, ValueError):  # no Pillow, or a format it cannot read
        return None, None


class Classes(WBValue):
    """Class ids and names for boxes and masks: `Classes([{"id": 0, "name": "cat"}])`."""

    _log_type = "classes"

    def __init__(self, class_set) -> None:
        if isinstance(class_set, Classes):
            class_set = class_set._class_set
        if isinstance(class_set, dict):
            class_set = [{"id": int(k), "name": str(v)} for k, v in class_set.items()]
        out = []
        for c in class_set or []:
            if not isinstance(c, dict) or "id" not in c:
                raise ValueError(
                    f"Classes: each class must be a dict with an 'id' (and 'name'), got {c!r}"
                )
            out.append({"id": int(c["id"]), "name": str(c.get("name", c["id"]))})
        self._class_set = out

    def _trackway_json(self) -> dict:
        return {"_type": "classes", "class_set": list(self._class_set)}


def _labels(group: str, labels, what: str) -> dict:
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise InvalidValue(f"{what}: class_labels of {group!r} must be a dict {{id: name}}")
    return {str(int(k)): str(v) for k, v in labels.items()}


def _check_boxes(boxes, what: str) -> dict:
    if boxes is None:
        return {}
    if not isinstance(boxes, dict):
        raise InvalidValue(
            f"{what}: boxes must be a dict {{group: {{'box_data': [...], "
            "'class_labels': {...}}}}"
        )
    out = {}
    for group, spec in boxes.items():
        if isinstance(spec, BoundingBoxes2D):
            spec = spec._spec
        if not isinstance(spec, dict) or not isinstance(spec.get("box_data"), (list, tuple)):
            raise InvalidValue(f"{what}: boxes[{group!r}] needs a 'box_data' list")
        data = []
        for i, box in enumerate(spec["box_data"]):
            pos = box.get("position") if isinstance(box, dict) else None
            corners = isinstance(pos, dict) and {"minX", "maxX", "minY", "maxY"} <= pos.keys()
            centred = isinstance(pos, dict) and {"middle", "width", "height"} <= pos.keys()
            if not (corners or centred):
                raise ValueError(
                    f"{what}: boxes[{group!r}].box_data[{i}] needs a 'position' with "
                    "minX/maxX/minY/maxY or middle/width/height"
                )
            b = {
                "position": {
                    k: (list(map(float, v)) if k == "middle" else float(v)) for k, v in pos.items()
                },
                "class_id": int(box.get("class_id", 0)),
            }
            for k in ("box_caption", "domain"):
                if box.get(k) is not None:
                    b[k] = str(box[k])
            if box.get("scores"):
                b["scores"] = {str(k): float(v) for k, v in box["scores"].items()}
            data.append(b)
        out[str(group)] = {
            "box_data": data,
            "class_labels": _labels(group, spec.get("class_labels"), what),
        }
    return out


class BoundingBoxes2D(WBValue):
    """`BoundingBoxes2D({"box_data": [...], "class_labels": {...}}, key)` (wandb's name)."""

    def __init__(self, val: dict, key: str = "predictions") -> None:
        self._spec = val
        self._key = key
        _check_boxes({key: val}, "BoundingBoxes2D")

    def _trackway_json(self) -> dict:
        return _check_boxes({self._key: self._spec}, "BoundingBoxes2D")[self._key]


class ImageMask(WBValue):
    """A segmentation mask: `{"mask_data": HxW int array, "class_labels": {id: name}}`."""

    def __init__(self, val: dict, key: str = "mask", what: str = "ImageMask") -> None:
        if not isinstance(val, dict) or ("mask_data" not in val and "path" not in val):
            raise ValueError(f"{what}: masks[{key!r}] needs 'mask_data' (an HxW array) or 'path'")
        self._labels = _labels(key, val.get("class_labels"), what)
        if "path" in val:
            self._image = Image(val["path"])
        else:
            arr = to_numpy(val["mask_data"], what)
            if arr.ndim != 2:
                raise ValueError(
                    f"{what}: masks[{key!r}].mask_data must be HxW, got shape {tuple(arr.shape)}"
                )
            self._image = Image(arr.astype("uint8"), normalize=False)

    def _trackway_json(self) -> dict:
        ref = self._image._trackway_json(subdir="images/mask")
        ref["_type"] = "mask"
        ref["class_labels"] = self._labels
        return ref


class Image(Media):
    """An image: `Image(data_or_path, mode=, caption=, grouping=, classes=, boxes=, masks=,
    file_type=)` from a numpy array, a torch/TF/JAX tensor, a PIL image, a file path or a
    matplotlib figure."""

    _log_type = "image-file"
    MAX_ITEMS = MAX_ITEMS

    def __init__(
        self,
        data_or_path,
        mode=None,
        caption=None,
        grouping=None,
        classes=None,
        boxes=None,
        masks=None,
        file_type=None,
        normalize=True,
    ) -> None:
        super().__init__(caption)
        what = "Image(data_or_path)"
        self._raw = None  # uint8 HxWxC pixels (encoded by the agent)
        self._encoded = None  # (bytes, format) of an already encoded image
        self._grouping = grouping
        self._file_type = (file_type or "png").lower().replace("jpg", "jpeg")
        if isinstance(data_or_path, Image):
            self.__dict__.update(
                {
                    k: v
                    for k, v in data_or_path.__dict__.items()
                    if k in ("_raw", "_encoded", "_width", "_height")
                }
            )
        elif isinstance(data_or_path, (str, os.PathLike)):
            self._from_file(data_or_path, what)
        elif _is_figure(data_or_path):
            data = figure_png(data_or_path)
            self._encoded = (data, "png")
            self._width, self._height = _sniff_size(data, "png")
        elif module_root(data_or_path) == "PIL":
            self._from_pil(data_or_path, mode)
        else:
            self._from_array(data_or_path, what, mode, normalize)
        self._classes = None if classes is None else Classes(classes)
        self._boxes = _check_boxes(boxes, "Image(boxes=)")
        self._masks = {}
        for key, val in (masks or {}).items():
            self._masks[str(key)] = (
                val if isinstance(val, ImageMask) else ImageMask(val, key, "Image(masks=)")
            )
        if self._raw is not None and self._file_type != "png":
            self._encode_now()

    def _from_file(self, path, what: str) -> None:
        data = read_path(path, what)
        fmt = next((f for m, f in _MAGIC.items() if data.startswith(m)), None)
        if fmt is None:
            ext = os.path.splitext(os.fspath(path))[1].lstrip(".").lower()
            fmt = {"jpg": "jpeg"}.get(ext, ext) or "png"
        self._encoded = (data, fmt)
        self._width, self._height = _sniff_size(data, fmt)

    def _from_pil(self, im, mode) -> None:
        if mode is not None and im.mode != mode:
            im = im.convert(mode)
        if im.mode not in ("L", "RGB", "RGBA"):
            im = im.convert("RGBA" if "A" in im.mode else "RGB")
        channels = {"L": 1, "RGB": 3, "RGBA": 4}[im.mode]
        self._width, self._height = im.size
        self._raw = (im.tobytes(), channels)

    def _from_array(self, data, what: str, mode, normalize: bool) -> None:
        if module_root(data) not in (
            "numpy",
            "torch",
            "tensorflow",
            "jax",
            "jaxlib",
            "cupy",
        ) and not isinstance(data, (list, tuple)):
            raise ValueError(
                f"{what}: expected an array ({_SHAPES}), a PIL image, a file path or "
                f"a matplotlib figure, got {type(data).__name__}"
            )
        arr = _pixels(to_numpy(data, what), what, normalize)
        if mode is not None:
            want = {"L": 1, "RGB": 3, "RGBA": 4}.get(mode)
            if want is None:
                raise ValueError(f"Image(mode=): unsupported mode {mode!r} (L, RGB, RGBA)")
            if want != arr.shape[2]:
                raise ValueError(
                    f"Image(mode={mode!r}) needs {want} channel(s); the array has "
                    f"shape {tuple(arr.shape)}"
                )
        self._height, self._width = int(arr.shape[0]), int(arr.shape[1])
        self._raw = (
            arr.tobytes(),
            int(arr.shape[2]),
        )  # the copy: later changes to data don't count

    def _encode_now(self) -> None:
        """Non-PNG `file_type`: encode with Pillow at construction."""
        try:
            from PIL import Image as PILImage
        except ImportError as e:
            raise ValueError(
                f"Image(file_type={self._file_type!r}) needs Pillow (pip install pillow)"
            ) from e
        pixels, channels = self._raw
        im = PILImage.frombytes(_MODES[channels], (self._width, self._height), bytes(pixels))
        if self._file_type == "jpeg" and channels == 4:
            im = im.convert("RGB")
        buf = io.BytesIO()
        im.save(buf, format=self._file_type.upper())
        self._encoded, self._raw = (buf.getvalue(), self._file_type), None

    @property
    def image(self):
        """The image as a PIL image (needs Pillow)."""
        from PIL import Image as PILImage

        if self._raw is not None:
            pixels, channels = self._raw
            return PILImage.frombytes(_MODES[channels], (self._width, self._height), bytes(pixels))
        return PILImage.open(io.BytesIO(self._encoded[0]))

    def _trackway_json(self, subdir: str = "images") -> dict | None:
        if self._raw is not None:
            pixels, channels = self._raw
            if over_limit("an image", len(pixels)):
                return None
            rel = f"media/{subdir}/{content_name(pixels)}.png"
            sink = active_sink()
            if sink is not None:
                sink.write_raw(
                    rel,
                    pixels,
                    {
                        "format": "png",
                        "width": self._width,
                        "height": self._height,
                        "channels": channels,
                    },
                )
            ref = {"_type": "image-file", "path": rel}
        else:
            data, fmt = self._encoded
            if over_limit("an image", len(data)):
                return None
            ref = store_file("image-file", subdir, "jpg" if fmt == "jpeg" else fmt, data)
        ref.update(
            format="png" if self._raw is not None else self._encoded[1],
            width=self._width,
            height=self._height,
        )
        self._with_caption(ref)
        if self._grouping is not None:
            ref["grouping"] = self._grouping
        if self._classes is not None:
            ref["classes"] = self._classes._trackway_json()
        if self._boxes:
            ref["boxes"] = self._boxes
        if self._masks:
            ref["masks"] = {k: m._trackway_json() for k, m in self._masks.items()}
        return ref

    @classmethod
    def _trackway_list_json(cls, items: list) -> dict:
        if len(items) > MAX_ITEMS:
            _term.termwarn(
                f"only the first {MAX_ITEMS} of {len(items)} images under one key are logged",
                repeat=False,
            )
            items = items[:MAX_ITEMS]
        refs = [r for r in (i._trackway_json() for i in items) if r is not None]
        out = {
            "_type": "images/separated",
            "count": len(refs),
            "format": "png",
            "width": refs[0]["width"] if refs else 0,
            "height": refs[0]["height"] if refs else 0,
            "filenames": [r["path"] for r in refs],
        }
        if any("caption" in r for r in refs):
            out["captions"] = [r.get("caption", "") for r in refs]
        if any("boxes" in r for r in refs):
            out["all_boxes"] = [r.get("boxes", {}) for r in refs]
        if any("masks" in r for r in refs):
            out["all_masks"] = [r.get("masks", {}) for r in refs]
        out["images"] = refs
        return out
