"""`Object3D`: a point cloud from a numpy array (N x 3, N x 4 with a category, N x 6 with RGB)
or a 3D file (obj, gltf, glb, babylon, stl, pts.json)."""

from __future__ import annotations

import os

from ._base import (
    Media,
    dumps,
    module_root,
    over_limit,
    read_path,
    store_file,
    to_numpy,
)

FORMATS = ("obj", "gltf", "glb", "babylon", "stl", "pts.json")


class Object3D(Media):
    _log_type = "object3D-file"
    SUPPORTED_TYPES = frozenset(FORMATS)

    def __init__(self, data_or_path, caption=None, **kwargs) -> None:
        super().__init__(caption)
        if isinstance(data_or_path, dict) and data_or_path.get("type") == "lidar/beta":
            self._data, self._format = dumps(data_or_path), "pts.json"
            return
        if isinstance(data_or_path, (str, os.PathLike)):
            p = os.fspath(data_or_path)
            fmt = next((f for f in FORMATS if p.lower().endswith("." + f)), None)
            if fmt is None:
                raise ValueError(
                    f"Object3D: unsupported file {p!r}; accepted: {', '.join(FORMATS)}"
                )
            self._data, self._format = read_path(p, "Object3D(data_or_path)"), fmt
            return
        if module_root(data_or_path) not in ("numpy", "torch", "tensorflow", "jax", "jaxlib"):
            raise ValueError(
                f"Object3D: expected a point array (N x 3, 4 or 6) or a file path, "
                f"got {type(data_or_path).__name__}"
            )
        arr = to_numpy(data_or_path, "Object3D")
        if arr.ndim != 2 or arr.shape[1] not in (3, 4, 6) or arr.dtype.kind not in "fiu":
            raise ValueError(
                f"Object3D: unsupported point array of shape {tuple(arr.shape)}; "
                "accepted: N x 3 (x,y,z), N x 4 (x,y,z,category), N x 6 (x,y,z,r,g,b)"
            )
        self._data, self._format = dumps(arr.astype(float).tolist()), "pts.json"

    @classmethod
    def from_numpy(cls, data):
        return cls(data)

    @classmethod
    def from_file(cls, data_or_path, file_type=None):
        return cls(data_or_path)

    def _trackway_json(self) -> dict | None:
        if over_limit("a 3D object", len(self._data)):
            return None
        ref = store_file("object3D-file", "object3D", self._format, self._data)
        ref["format"] = self._format
        return self._with_caption(ref)
