"""`Audio(data_or_path, sample_rate=None, caption=None)`: an array becomes 16-bit PCM WAV."""

from __future__ import annotations

import io
import os
import wave

from ._base import Media, module_root, over_limit, read_path, store_file, to_numpy


def wav_bytes(arr, sample_rate: int) -> bytes:
    """Samples (T or TxC, floats in -1..1 or integers) as a 16-bit PCM WAV file."""
    import numpy as np

    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.dtype.kind == "f":
        pcm = (np.clip(np.nan_to_num(arr), -1.0, 1.0) * 32767).astype("<i2")
    else:
        pcm = np.clip(arr, -32768, 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(int(pcm.shape[1]))
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(np.ascontiguousarray(pcm).tobytes())
    return buf.getvalue()


class Audio(Media):
    _log_type = "audio-file"

    def __init__(self, data_or_path, sample_rate=None, caption=None) -> None:
        super().__init__(caption)
        self._sample_rate = sample_rate
        self._duration = None
        if isinstance(data_or_path, (str, os.PathLike)):
            self._data = read_path(data_or_path, "Audio(data_or_path)")
            ext = os.path.splitext(os.fspath(data_or_path))[1].lstrip(".").lower()
            self._ext = ext or "wav"
            return
        if sample_rate is None:
            raise ValueError("Audio: sample_rate= is required for audio given as an array")
        if module_root(data_or_path) not in (
            "numpy",
            "torch",
            "tensorflow",
            "jax",
            "jaxlib",
        ) and not isinstance(data_or_path, (list, tuple)):
            raise ValueError(
                f"Audio(data_or_path): expected an array of samples (T or TxC) or a "
                f"file path, got {type(data_or_path).__name__}"
            )
        arr = to_numpy(data_or_path, "Audio(data_or_path)")
        if arr.ndim == 2 and arr.shape[0] < arr.shape[1] and arr.shape[0] <= 8:
            arr = arr.T  # channels-first (C x T) -> T x C
        if arr.ndim not in (1, 2) or arr.size == 0 or arr.dtype.kind not in "fiu":
            raise ValueError(
                f"Audio(data_or_path): unsupported samples of shape "
                f"{tuple(arr.shape)} and dtype {arr.dtype}; accepted: T or TxC numbers"
            )
        self._duration = arr.shape[0] / float(sample_rate)
        self._data = wav_bytes(arr, sample_rate)
        self._ext = "wav"

    def _trackway_json(self) -> dict | None:
        if over_limit("an audio clip", len(self._data)):
            return None
        ref = store_file("audio-file", "audio", self._ext, self._data)
        if self._sample_rate is not None:
            ref["sample_rate"] = int(self._sample_rate)
        if self._duration is not None:
            ref["duration"] = self._duration
        return self._with_caption(ref)
