"""`Molecule(data_or_path)`: a molecule file (pdb, pqr, mmcif, mcif, cif, sdf, sd, gro, mol2,
mmtf)."""

from __future__ import annotations

import os

from ._base import InvalidValue, Media, over_limit, read_path, store_file

FORMATS = ("pdb", "pqr", "mmcif", "mcif", "cif", "sdf", "sd", "gro", "mol2", "mmtf")


class Molecule(Media):
    _log_type = "molecule-file"
    SUPPORTED_TYPES = frozenset(FORMATS)

    def __init__(self, data_or_path, caption=None, **kwargs) -> None:
        super().__init__(caption)
        if hasattr(data_or_path, "read"):
            fmt = kwargs.get("file_type")
            data = data_or_path.read()
            if fmt not in FORMATS:
                raise ValueError(
                    f"Molecule: a file object needs file_type= (one of {', '.join(FORMATS)})"
                )
            self._data = data.encode() if isinstance(data, str) else data
            self._format = fmt
            return
        if not isinstance(data_or_path, (str, os.PathLike)):
            raise InvalidValue(
                f"Molecule: expected a molecule file path, got {type(data_or_path).__name__}"
            )
        fmt = os.path.splitext(os.fspath(data_or_path))[1].lstrip(".").lower()
        if fmt not in FORMATS:
            raise ValueError(
                f"Molecule: unsupported file {os.fspath(data_or_path)!r}; accepted: "
                f"{', '.join(FORMATS)}"
            )
        self._data, self._format = read_path(data_or_path, "Molecule(data_or_path)"), fmt

    @classmethod
    def from_file(cls, path, caption=None):
        return cls(path, caption=caption)

    def _trackway_json(self) -> dict | None:
        if over_limit("a molecule", len(self._data)):
            return None
        ref = store_file("molecule-file", "molecule", self._format, self._data)
        ref["format"] = self._format
        return self._with_caption(ref)
