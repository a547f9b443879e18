"""Live TensorBoard sync: ``trackway.tensorboard.patch()`` and ``init(sync_tensorboard=True)``.

Patching wraps ``add_event`` of the event-file writers of ``torch.utils.tensorboard`` (the
``tensorboard`` package's writer) and ``tensorboardX``, so every event a ``SummaryWriter``
writes is also logged to the active run as it is written: scalars as floats, histograms in
Trackway's histogram shape, text as strings, hparams into the config. The event files are still
written as before. Events of one TensorBoard step form one row with a ``global_step`` column
(as wandb does): values are merged with ``commit=False`` and the row is committed when the
step changes (or at ``finish()``).

The same conversion turns finished log directories into runs: ``trackway import tensorboard``.
"""

from __future__ import annotations

import importlib
import math

_WRITERS = (
    ("tensorboard.summary.writer.event_file_writer", "EventFileWriter"),
    ("tensorboardX.event_file_writer", "EventFileWriter"),
)
MAX_BINS = 512  # Trackway histograms hold at most this many bins (docs/media-api.md)
_patched: dict = {}  # (module, class) -> original add_event
_state = {"step": None, "run": None}


def patch(
    save: bool = True,
    tensorboard_x: bool | None = None,
    pytorch: bool | None = None,
    root_logdir: str = "",
) -> None:
    """Forward TensorBoard events of every SummaryWriter in this process to the active run."""
    for mod_name, cls_name in _WRITERS:
        if tensorboard_x is False and mod_name.startswith("tensorboardX"):
            continue
        if pytorch is False and mod_name.startswith("tensorboard."):
            continue
        if (mod_name, cls_name) in _patched:
            continue
        try:
            cls = getattr(importlib.import_module(mod_name), cls_name)
        except (ImportError, AttributeError):
            continue  # that writer library is not installed
        original = cls.add_event
        _patched[(mod_name, cls_name)] = (cls, original)
        cls.add_event = _wrap(original)


def unpatch() -> None:
    """Restore the writers and commit the last pending TensorBoard row."""
    flush()
    for cls, original in _patched.values():
        cls.add_event = original
    _patched.clear()


def _wrap(original):
    def add_event(self, event, *args, **kwargs):
        result = original(self, event, *args, **kwargs)
        try:
            _forward(event)
        except Exception as e:  # logging must never break the training's own TensorBoard
            from .._term import warn_once

            warn_once(f"tensorboard sync: an event was not logged ({e})")
        return result

    add_event._trackway_patched = True
    return add_event


def _active_run():
    import trackway

    return trackway.run


def flush() -> None:
    """Commit the pending TensorBoard row (called when the step changes and at finish)."""
    run, step = _state["run"], _state["step"]
    _state["step"] = None
    if run is not None and step is not None and not getattr(run, "_finished", False):
        run.log({}, commit=True)


def _forward(event) -> None:
    if not event.HasField("summary"):
        return
    run = _active_run()
    if run is None:
        return
    if _state["run"] is not run:
        _state["run"], _state["step"] = run, None
    data, config = convert_summary(event.summary, event.step)
    if config:
        run.config.update(config, allow_val_change=True)
    if not data:
        return
    if _state["step"] is not None and _state["step"] != event.step:
        flush()
        _state["run"] = run
    _state["step"] = event.step
    data["global_step"] = int(event.step)
    run.log(data, commit=False)


def histogram(min_, max_, limits, counts) -> dict:
    """A TensorBoard histogram as Trackway's histogram value (edges: min, then each bucket's
    right limit, the last clamped to max) — the same rule as the Rust importer."""
    bins = [float(min_)]
    for i, limit in enumerate(limits):
        last = i + 1 == len(limits)
        bins.append(
            float(max_) if last and (not math.isfinite(limit) or limit > max_) else float(limit)
        )
    values = [int(c) if float(c).is_integer() else float(c) for c in counts]
    if len(values) > MAX_BINS and len(bins) == len(values) + 1:
        k = -(-len(values) // MAX_BINS)  # merge runs of k buckets: exact counts, subset of edges
        values = [sum(values[i : i + k]) for i in range(0, len(values), k)]
        bins = bins[::k][: len(values)] + [bins[-1]]
    return {"_type": "histogram", "bins": bins, "values": values}


def convert_summary(summary, step) -> tuple[dict, dict]:
    """(row data, config updates) of one TensorBoard ``Summary`` message."""
    data, config = {}, {}
    for v in summary.value:
        plugin = v.metadata.plugin_data.plugin_name if v.HasField("metadata") else ""
        if plugin == "hparams":
            config.update(_hparams(v.metadata.plugin_data.content))
            continue
        kind = v.WhichOneof("value")
        if kind == "simple_value":
            data[v.tag] = float(v.simple_value)
        elif kind == "histo":
            h = v.histo
            data[v.tag] = histogram(h.min, h.max, list(h.bucket_limit), list(h.bucket))
        elif kind == "tensor":
            value = _tensor(v.tensor, plugin)
            if value is not None:
                data[v.tag] = value
    return data, config


def _tensor(t, plugin):
    if plugin == "text" or t.string_val:
        texts = [s.decode("utf-8", "replace") for s in t.string_val]
        return texts[0] if len(texts) == 1 else (texts or None)
    for field in ("float_val", "double_val"):
        vals = getattr(t, field)
        if len(vals) == 1:
            return float(vals[0])
    if t.tensor_content and t.dtype in (1, 2):
        import struct

        fmt = "<f" if t.dtype == 1 else "<d"
        if len(t.tensor_content) == struct.calcsize(fmt):
            return struct.unpack(fmt, t.tensor_content)[0]
    return None


def _hparams(content: bytes) -> dict:
    try:
        from tensorboard.plugins.hparams import plugin_data_pb2
    except ImportError:
        try:
            from tensorboardX.proto import plugin_hparams_pb2 as plugin_data_pb2
        except ImportError:
            return {}
    data = plugin_data_pb2.HParamsPluginData.FromString(content)
    if not data.HasField("session_start_info"):
        return {}
    out = {}
    for k, v in data.session_start_info.hparams.items():
        kind = v.WhichOneof("kind")
        out[k] = getattr(v, kind) if kind and kind != "null_value" else None
    return out
