"""The `Run` object returned by `init()`.

All run semantics (step/commit rules, summary, metrics, encoding, the write) live in the native
`NativeRun`; this class is the wandb-shaped surface over it. `log` is the hot path: one Python
frame, one native call.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from . import _term
from ._config import Config, ConfigWriter
from ._summary import Summary
from .errors import Error, UsageError

# Filled by _lifecycle (which imports this module), so Run.finish needs no import at shutdown.
_hooks: dict = {}

_DISABLED_DIR = os.path.join(os.environ.get("TMPDIR") or "/tmp", "trackway-disabled")


class Metric:
    """What `define_metric` returns (read-only description)."""

    def __init__(
        self,
        name,
        step_metric=None,
        step_sync=None,
        hidden=None,
        summary=(),
        goal=None,
        overwrite=None,
    ) -> None:
        self.name = name
        self.step_metric = step_metric
        self.step_sync = step_sync
        self.hidden = hidden
        self.summary = tuple(summary or ())
        self.goal = goal
        self.overwrite = overwrite

    def __repr__(self) -> str:
        return f"Metric(name={self.name!r}, step_metric={self.step_metric!r})"


class MemoryBackend:
    """The NativeRun interface, in memory only: what a `mode="disabled"` run writes to."""

    def __init__(self, run_id: str, start_time: float) -> None:
        self.run_id = run_id
        self.dir = _DISABLED_DIR
        self.files_dir = os.path.join(_DISABLED_DIR, "files")
        self.log_path = None
        self.start_time = start_time
        self.step = 0
        self.starting_step = 0
        self.finished = False
        self._summary: dict = {}

    @classmethod
    def detached_copy(cls, native) -> MemoryBackend:
        """An in-memory stand-in with the identity of `native` (used in forked children)."""
        copy = cls(native.run_id, native.start_time)
        copy.dir, copy.files_dir = native.dir, native.files_dir
        copy.starting_step = native.starting_step
        try:
            copy.step = native.step
            copy._summary = native.summary()
        except Exception:
            pass
        return copy

    def log(self, data, step=None, commit=None):
        return None

    def config_update(self, data) -> None:
        pass

    def config_remove(self, keys) -> None:
        pass

    def summary(self) -> dict:
        import copy

        return copy.deepcopy(self._summary)

    def summary_set(self, path, value) -> None:
        d = self._summary
        for p in path[:-1]:
            d = d.setdefault(p, {})
        d[path[-1]] = value

    def summary_update(self, data) -> None:
        self._summary.update(data)

    def summary_del(self, path) -> None:
        d = self._summary
        for p in path[:-1]:
            d = d[p]
        del d[path[-1]]

    def define_metric(self, name, overwrite=False, **kw) -> dict:
        from . import _native

        return _native.metric_def(name, **kw)

    def set_meta(self, **kw) -> None:
        pass

    def finish(self, exit_code=None) -> None:
        self.finished = True

    def wait_uploaded(self, timeout_s) -> bool:
        return True


def _coerce(data, step):
    """Make a rejected log() call acceptable if it has an obvious meaning, else re-raise."""
    if isinstance(data, Mapping) and not isinstance(data, dict):
        data = dict(data)
    elif not isinstance(data, dict):
        raise TypeError(f"log() takes a dict of metrics, not {type(data).__name__}")
    if isinstance(step, (str, bytes)):
        raise TypeError(f"step must be an integer, got {step!r}")
    if step is not None and not isinstance(step, int):
        as_float = float(step)  # numpy/torch scalars, floats; TypeError for anything else
        if not as_float.is_integer():
            raise TypeError(f"step must be an integer, got {step!r}")
        step = int(as_float)
    if step is not None and step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    return data, step


def _summary_list(summary) -> list | None:
    """`summary=` as strings; splitting comma lists and checking names is the native rule's."""
    if summary is None or isinstance(summary, str):
        return None if summary is None else [summary]
    return [str(s) for s in summary]


class Run:
    """A run. Same class as `trackway.sdk.wandb_run.Run` and `trackway.wandb_run.Run`."""

    def __init__(
        self,
        backend,
        settings: dict,
        config: Config,
        *,
        disabled: bool = False,
        resumed: bool = False,
        url: str | None = None,
        settings_obj=None,
    ) -> None:
        self._backend = backend
        self._nlog = backend.log  # swapped for a raising/no-op function on finish or fork
        self._s = settings
        self._settings_obj = settings_obj
        self._disabled = disabled
        self._resumed = resumed
        self._url = url
        self._pid = os.getpid()
        self._finished = False
        self._forked = False
        self._warned_drop = False
        self._warned_fork = False
        self._tags = tuple(settings.get("tags") or ())
        self._name = settings.get("name")
        self._notes = settings.get("notes")
        if not disabled:
            object.__setattr__(config, "_writer", ConfigWriter(backend))
        self._config = config
        self._summary = Summary(backend)
        self._on_finish = []  # callables(run, exit_code) run at finish (capture, console)

    # -- logging (hot path) ---------------------------------------------------------------------
    def log(self, data, step=None, commit=None, sync=None):
        try:
            dropped = self._nlog(data, step, commit)
        except (TypeError, OverflowError):
            # Slow path only on error: other Mappings, float steps like 5.0 (exceptions cost
            # nothing in 3.11 until raised, so the hot path stays one native call).
            data, step = _coerce(data, step)
            dropped = self._nlog(data, step, commit)
        except OSError as e:  # disk full, file removed: tracking must not stop training
            self._warn_write_failed(e)
            return
        if dropped is not None:
            self._warn_dropped(step, dropped)

    def _warn_dropped(self, step, current) -> None:
        if self._warned_drop or self._s.get("silent"):
            return
        self._warned_drop = True
        _term.termwarn(
            f"Tried to log to step {step} that is less than the current step {current}. Steps "
            "must be monotonically increasing, so this data will be ignored."
        )

    def _warn_write_failed(self, error) -> None:
        if not getattr(self, "_warned_io", False) and not self._s.get("silent"):
            self._warned_io = True
            _term.termerror(f"could not write to the run log ({error}); this data is lost")

    def _log_finished(self, data, step=None, commit=None):
        raise UsageError("run.log() was called on a finished run")

    def _log_forked(self, data, step=None, commit=None):
        if not self._warned_fork and not self._s.get("silent"):
            self._warned_fork = True
            _term.termwarn(
                "log() from a forked child process is ignored: only the process that "
                "called init() writes to the run"
            )
        return None

    # -- state checks ---------------------------------------------------------------------------
    def _check(self, what: str) -> None:
        if self._finished:
            raise UsageError(f"run.{what} was used on a finished run (id {self.id})")

    def _mark_forked(self) -> None:
        """Called in a forked child: this process must never write to the parent's run.

        Every writer (log, config, summary, meta) is switched to an in-memory copy, so nothing the
        child does reaches the parent's log file.
        """
        if self._forked:
            return
        self._forked = True
        self._nlog = self._log_forked
        if not isinstance(self._backend, MemoryBackend):
            self._backend = MemoryBackend.detached_copy(self._backend)
        object.__setattr__(self._config, "_writer", None)
        object.__setattr__(self._summary, "_backend", self._backend)

    # -- identity -------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._backend.run_id

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, value) -> None:
        self._check("name")
        self._name = None if value is None else str(value)
        if self._name is not None:
            self._backend.set_meta(name=self._name)

    @property
    def notes(self):
        return self._notes

    @notes.setter
    def notes(self, value) -> None:
        self._check("notes")
        self._notes = None if value is None else str(value)
        self._backend.set_meta(notes=self._notes or "")

    @property
    def tags(self) -> tuple:
        return self._tags

    @tags.setter
    def tags(self, value) -> None:
        self._check("tags")
        self._tags = tuple(str(t) for t in (value or ()))
        self._backend.set_meta(tags=list(self._tags))

    @property
    def project(self) -> str:
        return self._s.get("project") or "uncategorized"

    def project_name(self) -> str:
        return self.project

    @property
    def entity(self):
        return self._s.get("entity")

    @property
    def group(self):
        return self._s.get("group")

    @property
    def job_type(self):
        return self._s.get("job_type")

    @property
    def path(self) -> str:
        # without a known entity, "project/id" is what Api().run() resolves with its default
        if self.entity:
            return f"{self.entity}/{self.project}/{self.id}"
        return f"{self.project}/{self.id}"

    @property
    def dir(self) -> str:
        """The run's files directory (where `save()` puts files)."""
        return self._backend.files_dir

    @property
    def url(self):
        return self._url

    def get_url(self):
        return self._url

    def get_project_url(self):
        if self._url is None:
            return None
        return self._url.rsplit("/runs/", 1)[0]

    def get_sweep_url(self):
        """The sweep page of the sweep this run is a trial of (None otherwise or offline)."""
        sweep_id, project = self._s.get("sweep_id"), self.get_project_url()
        if not sweep_id or project is None:
            return None
        return f"{project}/sweeps/{sweep_id}"

    @property
    def sweep_url(self):
        return self.get_sweep_url()

    @property
    def step(self) -> int:
        return self._backend.step

    @property
    def starting_step(self) -> int:
        return self._backend.starting_step

    @property
    def start_time(self) -> float:
        return self._backend.start_time

    @property
    def resumed(self) -> bool:
        return self._resumed

    @property
    def offline(self) -> bool:
        return self._s.get("mode") == "offline"

    @property
    def disabled(self) -> bool:
        return self._disabled

    @property
    def mode(self) -> str:
        return self._s.get("mode")

    @property
    def settings(self):
        return self._settings_obj

    @property
    def sweep_id(self):
        return self._s.get("sweep_id")

    @property
    def config(self) -> Config:
        return self._config

    @property
    def summary(self) -> Summary:
        return self._summary

    @property
    def _attach_id(self):
        return None

    @property
    def _run_dir(self) -> str:
        return self._backend.dir

    def __repr__(self) -> str:
        return f"<Run {self.path} ({self.mode})>"

    # -- metrics and summary --------------------------------------------------------------------
    def define_metric(
        self,
        name,
        step_metric=None,
        step_sync=None,
        hidden=None,
        summary=None,
        goal=None,
        overwrite=None,
        **kwargs,
    ) -> Metric:
        self._check("define_metric()")
        if isinstance(step_metric, Metric):
            step_metric = step_metric.name
        try:
            rec = self._backend.define_metric(
                name,
                step_metric=step_metric,
                step_sync=step_sync,
                summary=_summary_list(summary),
                goal=goal,
                hidden=hidden,
                overwrite=bool(overwrite),
            )
        except (ValueError, TypeError) as e:
            raise Error(f"define_metric({name!r}): {e}") from e
        return Metric(
            rec["name"],
            rec.get("step_metric"),
            rec.get("step_sync"),
            rec.get("hidden"),
            rec.get("summary", ()),
            rec.get("goal"),
            overwrite,
        )

    # -- lifecycle ------------------------------------------------------------------------------
    def finish(self, exit_code=None, quiet=None) -> None:
        if not self._finished:  # no import here: this may run from __del__ at shutdown
            _hooks["finish"](self, exit_code)

    join = finish

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.finish(exit_code=1 if exc_type is not None else 0)
        return False

    def __reduce__(self):
        from ._lifecycle import restore_detached

        settings = {k: v for k, v in self._s.items() if k != "api_key"}  # never in a pickle
        return restore_detached, (settings, self.id, self._config.as_dict(), self._disabled)

    # -- files and models -----------------------------------------------------------------------
    def save(self, glob_str=None, base_path=None, policy="live"):
        self._check("save()")
        if self._disabled:
            return []
        from . import _lifecycle

        return _lifecycle.save_files(self, glob_str, base_path, policy)

    def log_artifact(self, artifact_or_path, name=None, type=None, aliases=None, tags=None):
        """Appends an `artifact` record; the agent uploads it (artifacts/_logging.py)."""
        self._check("log_artifact()")
        from .artifacts import _logging

        return _logging.log_artifact(self, artifact_or_path, name, type, aliases, tags)

    def use_artifact(self, artifact_or_name, type=None, aliases=None, use_as=None):
        self._check("use_artifact()")
        from .artifacts import _logging

        return _logging.use_artifact(self, artifact_or_name, type, aliases, use_as)

    def log_model(self, path, name=None, aliases=None):
        self._check("log_model()")
        from .artifacts import _logging

        return _logging.log_model(self, path, name, aliases)

    def use_model(self, name):
        self._check("use_model()")
        from .artifacts import _logging

        return _logging.use_model(self, name)

    def link_model(self, path, registered_model_name, aliases=None):
        self._check("link_model()")
        from .artifacts import _logging

        return _logging.link_model(self, path, registered_model_name, aliases)

    def watch(
        self, models=None, criterion=None, log="gradients", log_freq=1000, idx=None, log_graph=False
    ) -> None:
        """Record gradient and/or parameter histograms of torch modules (``_watch``)."""
        self._check("watch()")
        if self._disabled:
            return
        from . import _watch

        _watch.watch(self, models, criterion, log, log_freq, idx, log_graph)

    def unwatch(self, models=None) -> None:
        from . import _watch

        _watch.unwatch(self, models)

    def _label(self, *args, **kwargs) -> None:
        """wandb telemetry label (transformers, torchtune); nothing to record."""

    def log_code(self, root=".", name=None, include_fn=None, exclude_fn=None):
        self._check("log_code()")
        return None

    def alert(self, title, text, level=None, wait_duration=None) -> None:
        self._check("alert()")
        _term.termwarn(f"alert: {title}: {text}")

    def mark_preempting(self) -> None:
        self._check("mark_preempting()")

    def status(self):
        self._check("status()")
        return {"finished": self._finished, "step": self.step}

    def display(self, height=420, hidden=False) -> bool:
        """Shows the run's panel inline in a notebook; False elsewhere."""
        from . import _notebook

        return _notebook.display(self, height, hidden)

    def to_html(self, height=420, hidden=False) -> str:
        from . import _notebook

        return _notebook.to_html(self, height, hidden)

    def _repr_html_(self) -> str:
        return self.to_html()

    def pin_config_keys(self, keys) -> None:
        pass


def _noop(*args, **kwargs):
    return None


class DisabledRun(Run):
    """What `init(mode="disabled")` returns: a `Run` that keeps config/summary in memory, does no
    I/O at all, and accepts any call (wandb's NoopRun contract: every method callable with no
    arguments)."""

    def log(self, *args, **kwargs):
        return None

    def define_metric(self, name="", *args, **kwargs) -> Metric:
        return Metric(name, kwargs.get("step_metric"), kwargs.get("step_sync"))

    def save(self, *args, **kwargs):
        return []

    def alert(self, *args, **kwargs) -> None:
        pass

    def log_code(self, *args, **kwargs):
        return None

    def mark_preempting(self, *args, **kwargs) -> None:
        pass

    def status(self, *args, **kwargs):
        return {"finished": self._finished, "step": 0}

    def finish(self, exit_code=None, quiet=None) -> None:
        if not self._finished:
            _hooks["finish"](self, exit_code)

    join = finish
    watch = unwatch = _label = pin_config_keys = _noop
