"""Trackway: self-hosted experiment tracking with a wandb-compatible API.

    import trackway as wandb
    run = wandb.init(project="mnist", config={"lr": 1e-3})
    wandb.log({"loss": 0.25})
    wandb.finish()

Importing starts no threads and touches no files.
"""

from . import errors
from ._preinit import PreInit as _PreInit
from .errors import CommError, Error, UsageError

# Everything else is imported on first use (PEP 562 `__getattr__` below), so `import trackway`
# costs about what the interpreter's start-up does: no data types, run machinery, json or re.
# name -> the submodule that defines it.
_LAZY = {
    "init": "_lifecycle",
    "Run": "_run",
    "Metric": "_run",
    "Settings": "_settings",
    "termlog": "_term",
    "termwarn": "_term",
    "termerror": "_term",
    "Api": "apis",
    "Artifact": "artifacts",
    "ArtifactManifestEntry": "artifacts",
    "plot_table": "plot",
    "visualize": "plot",
    **dict.fromkeys(
        (
            "Audio",
            "BoundingBoxes2D",
            "Classes",
            "Histogram",
            "Html",
            "Image",
            "ImageMask",
            "Molecule",
            "Object3D",
            "Plotly",
            "Table",
            "Video",
        ),
        "data_types",
    ),
}
# Submodules reachable as attributes without an import statement (`wandb.sdk.wandb_run.Run`,
# `wandb.apis.public`), as they were when the package imported them eagerly.
_SUBMODULES = frozenset(
    (
        "apis",
        "artifacts",
        "data_types",
        "env",
        "integration",
        "plot",
        "sdk",
        "sklearn",
        "tensorboard",
        "util",
        "wandb_run",
    )
)

__all__ = [
    "__version__",
    "init",
    "log",
    "finish",
    "join",
    "define_metric",
    "sweep",
    "agent",
    "save",
    "watch",
    "unwatch",
    "login",
    "setup",
    "require",
    "termlog",
    "termwarn",
    "termerror",
    "Settings",
    "Error",
    "CommError",
    "UsageError",
    "errors",
    "Run",
    "Metric",
    "run",
    "config",
    "summary",
    "Api",
    "Artifact",
    "log_artifact",
    "use_artifact",
    "log_model",
    "use_model",
    "link_model",
    "Image",
    "Histogram",
    "Table",
    "Audio",
    "Video",
    "Html",
    "Plotly",
    "Object3D",
    "Molecule",
    "Classes",
    "BoundingBoxes2D",
    "ImageMask",
    "plot",
    "plot_table",
    "visualize",
    "sklearn",
    "data_types",
]

run = None  # the active Run, or None
config = _PreInit("config")
summary = _PreInit("summary")


def _preinit_log(data, step=None, commit=None, sync=None):
    r = run
    if r is None:
        raise Error("You must call trackway.init() before trackway.log()")
    return r.log(data, step, commit)


log = _preinit_log  # init() rebinds it to the run's own log(); finish() puts this back


def finish(exit_code=None, quiet=None) -> None:
    """Finish the active run (idempotent; a no-op without one)."""
    r = run
    if r is not None:
        r.finish(exit_code)


join = finish


def define_metric(
    name,
    step_metric=None,
    step_sync=None,
    hidden=None,
    summary=None,
    goal=None,
    overwrite=None,
    **kwargs,
):
    r = run
    if r is None:
        from ._lifecycle import preinit_define_metric

        return preinit_define_metric(name, step_metric=step_metric, step_sync=step_sync)
    return r.define_metric(
        name,
        step_metric=step_metric,
        step_sync=step_sync,
        hidden=hidden,
        summary=summary,
        goal=goal,
        overwrite=overwrite,
    )


def save(glob_str=None, base_path=None, policy="live"):
    r = run
    if r is None:
        raise Error("You must call trackway.init() before trackway.save()")
    return r.save(glob_str, base_path=base_path, policy=policy)


def log_artifact(artifact_or_path, name=None, type=None, aliases=None, tags=None):
    return _active("log_artifact").log_artifact(artifact_or_path, name, type, aliases, tags)


def use_artifact(artifact_or_name, type=None, aliases=None, use_as=None):
    return _active("use_artifact").use_artifact(artifact_or_name, type, aliases, use_as)


def log_model(path, name=None, aliases=None):
    return _active("log_model").log_model(path, name, aliases)


def use_model(name):
    return _active("use_model").use_model(name)


def link_model(path, registered_model_name, aliases=None):
    return _active("link_model").link_model(path, registered_model_name, aliases)


def _active(what):
    if run is None:
        raise Error(f"You must call trackway.init() before trackway.{what}()")
    return run


def watch(
    models=None, criterion=None, log="gradients", log_freq=1000, idx=None, log_graph=False
) -> None:
    """Record gradient/parameter histograms of torch modules in the active run."""
    r = run
    if r is None:  # lenient, like define_metric before init: nothing to record into
        if models is not None:
            from ._term import termwarn

            termwarn("watch() before init(): nothing is recorded", repeat=False)
        return
    r.watch(models, criterion=criterion, log=log, log_freq=log_freq, idx=idx, log_graph=log_graph)


def unwatch(models=None) -> None:
    r = run
    if r is not None:
        r.unwatch(models)


def setup(settings=None):
    """wandb.setup(): nothing to prepare (no service process); returns None."""
    return None


def require(requirement=None, experiment=None) -> None:
    if requirement not in (None, "service", "core", "require"):
        from ._term import termwarn

        termwarn(f"require({requirement!r}) has no effect in trackway", repeat=False)


def login(
    key=None,
    host=None,
    relogin=None,
    anonymous=None,
    timeout=None,
    verify=False,
    force=None,
    **kwargs,
) -> bool:
    """Store an API key for `host` (via the bundled `trackway login`); True when a key is known."""
    from ._login import login as _login

    return _login(key=key, host=host, timeout=timeout, verify=bool(verify))


def sweep(sweep, entity=None, project=None, prior_runs=None):
    """Create a sweep on the server; returns its id (docs/sweeps.md)."""
    from ._sweep import sweep as create

    return create(sweep, entity=entity, project=project, prior_runs=prior_runs)


def agent(
    sweep_id,
    function=None,
    entity=None,
    project=None,
    count=None,
    max_consecutive_failed_runs=None,
    forward_signals=None,
    term_timeout=None,
):
    """Run trials of a sweep in this process, calling `function` once per trial."""
    from ._sweep import agent as run_agent

    return run_agent(
        sweep_id,
        function=function,
        entity=entity,
        project=project,
        count=count,
        max_consecutive_failed_runs=max_consecutive_failed_runs,
    )


def _attach(attach_id=None, run_id=None, **kwargs):
    return run


def ensure_configured() -> None:
    """wandb.ensure_configured() (Ray): nothing to configure."""


class _ApiKeyView:
    """`wandb.api.api_key` (Ray): the key settings resolution finds, or None."""

    @property
    def api_key(self):
        import os

        from ._lifecycle import _native

        if _native is None:
            return None
        return _native.resolve_settings({}, os.getcwd()).get("api_key")


api = _ApiKeyView()


def __getattr__(name):
    import importlib

    if name == "__version__":
        # The one version: Cargo's workspace version, also `trackway --version` and the wheel's.
        try:
            from ._native import __version__ as value
        except ImportError:  # an unbuilt source checkout; init() explains
            value = "0+unbuilt"
    elif name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later reads find it directly
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES | {"__version__"})
