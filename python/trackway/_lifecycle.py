"""init/finish, the module-level bindings (`trackway.run`, `.config`, `.summary`, `.log`),
exit-code tracking and fork safety.

Nothing here starts a thread. The only import-time side effect is `os.register_at_fork`.
"""

from __future__ import annotations

import atexit
import os
import sys
import time

from . import _convert, _term
from . import _run as _run_module
from ._config import Config, load_yaml_config, to_dict
from ._preinit import PreInit
from ._run import DisabledRun, MemoryBackend, Metric, Run
from ._settings import Settings, settings_args
from .data_types import _base as _media
from .errors import Error, UsageError

try:
    from . import _native
except ImportError as _e:  # a source checkout that was never built
    _native = None
    _native_error = _e

_PKG = __package__
_active: list = []  # unfinished runs started by this process, oldest first
_hooks_installed = False
_exit_code = None  # set by the sys.exit / sys.excepthook wrappers
_orig_exit = None
_orig_excepthook = None

_INIT_KNOWN_IGNORED = ("force", "anonymous", "tensorboard", "monitor_gym", "magic", "save_code")


def _require_native():
    if _native is None:
        raise Error(
            "trackway's native module is not built (trackway._native): install the package "
            f"with `pip install .` or `maturin develop --release` ({_native_error})"
        )
    return _native


def _pkg():
    return sys.modules[_PKG]


# ---------------------------------------------------------------------------------------------
# module-level bindings


def bind(run: Run) -> None:
    pkg = _pkg()
    pkg.run = run
    pkg.config = run.config
    pkg.summary = run.summary
    pkg.log = run.log  # module-level log() becomes the run's bound method: no extra frame
    _term.silent_override = bool(run._s.get("silent"))


def unbind() -> None:
    pkg = _pkg()
    pkg.run = None
    pkg.config = PreInit("config")
    pkg.summary = PreInit("summary")
    pkg.log = pkg._preinit_log
    _term.silent_override = None


# ---------------------------------------------------------------------------------------------
# init


def _reinit_mode(reinit) -> str:
    if reinit is None or reinit == "default":
        # As wandb: in a notebook, running the init() cell again starts a new run.
        from ._notebook import kernel_shell

        return "finish_previous" if kernel_shell() is not None else "return_previous"
    if reinit is False:
        return "return_previous"
    if reinit is True:
        return "finish_previous"
    if reinit in ("return_previous", "finish_previous", "create_new"):
        return reinit
    raise UsageError(
        f"reinit must be one of default, return_previous, finish_previous, "
        f"create_new (got {reinit!r})"
    )


def _resume_arg(resume):
    if resume is True:
        return "auto"
    if resume is False:
        return None
    return resume


def _initial_config(config, include, exclude) -> dict:
    if include and exclude:
        raise UsageError("config_include_keys and config_exclude_keys are mutually exclusive")
    data = {}
    defaults = os.path.join(os.getcwd(), "config-defaults.yaml")
    if os.path.isfile(defaults):
        data.update(load_yaml_config(defaults))
    if isinstance(config, (str, os.PathLike)):
        data.update(load_yaml_config(os.fspath(config)))
    else:
        data.update(to_dict(config))
    if include:
        data = {k: v for k, v in data.items() if k in include}
    if exclude:
        data = {k: v for k, v in data.items() if k not in exclude}
    return data


def init(
    entity=None,
    project=None,
    dir=None,
    id=None,
    name=None,
    notes=None,
    tags=None,
    config=None,
    config_exclude_keys=None,
    config_include_keys=None,
    allow_val_change=None,
    group=None,
    job_type=None,
    mode=None,
    force=None,
    anonymous=None,
    reinit=None,
    resume=None,
    resume_from=None,
    fork_from=None,
    save_code=None,
    tensorboard=None,
    sync_tensorboard=None,
    monitor_gym=None,
    settings=None,
    magic=None,
    **kwargs,
) -> Run:
    """Start a run (wandb.init). Never waits on the network."""
    if reinit is None and settings is not None:
        reinit = (
            getattr(settings, "reinit", None)
            if not isinstance(settings, dict)
            else settings.get("reinit")
        )
    reinit = _reinit_mode(reinit)
    if reinit == "return_previous" and _active:
        return _active[-1]
    if reinit == "finish_previous":
        for previous in reversed(list(_active)):
            previous.finish()

    native = _require_native()
    args, unknown = settings_args(settings)
    explicit = {
        "entity": entity,
        "project": project,
        "id": id,
        "name": name,
        "notes": notes,
        "group": group,
        "job_type": job_type,
        "mode": mode,
        "resume": _resume_arg(resume),
        "save_code": save_code,
    }
    if dir is not None:
        explicit["dir"] = os.fspath(dir)
    if tags is not None:
        explicit["tags"] = [str(t) for t in tags] if not isinstance(tags, str) else [tags]
    args.update({k: v for k, v in explicit.items() if v is not None})
    trial = _sweep_trial()
    if trial is not None:
        _join_sweep(args, trial)
    try:
        s = dict(native.resolve_settings(args, os.getcwd()))
    except ValueError as e:
        raise UsageError(str(e)) from e
    previous_silent = _term.silent_override
    if s.get("silent"):
        _term.silent_override = True  # so the warnings below stay quiet too
    try:
        _warn_unsupported(kwargs, unknown, sync_tensorboard or tensorboard, resume_from, fork_from)
        items = _initial_config(config, config_include_keys, config_exclude_keys)
        if trial is not None:
            s["sweep_id"] = trial["sweep_id"]
            items.update(trial["params"])  # the sampled values win over the script's defaults
        if s["mode"] == "disabled":
            run = _disabled_run(native, s, items, allow_val_change, settings)
        else:
            run = _local_run(native, s, items, allow_val_change, settings, args)
    finally:
        _term.silent_override = previous_silent  # bind() sets it for the new active run
    if trial is not None:
        run.config._lock(trial["params"], "sweep")
    _active.append(run)
    if reinit != "create_new":
        bind(run)
    _install_hooks()
    return run


def _sweep_trial():
    """The sweep trial this init() starts, if an agent runs one (trackway._sweep)."""
    mod = sys.modules.get(__package__ + "._sweep")
    if mod is not None and mod._trial is not None:
        return mod._trial
    if os.environ.get("TRACKWAY_SWEEP_ID") or os.environ.get("WANDB_SWEEP_ID"):
        from . import _sweep

        return _sweep.current_trial()
    return None


def _join_sweep(args: dict, trial: dict) -> None:
    """A trial's run is the one the controller named, in the sweep's project (as in wandb, the
    script's own id/project/entity give way, with a warning)."""
    for key in ("run_id", "project", "entity"):
        want = trial.get(key)
        name = "id" if key == "run_id" else key
        if want is None:
            continue
        if args.get(name) not in (None, want):
            _term.warn_once(
                f"init({name}={args[name]!r}) ignored: this run is a trial of sweep "
                f"{trial['sweep_id']} ({name} {want!r})"
            )
        args[name] = want


def _warn_unsupported(kwargs, unknown_settings, sync_tensorboard, resume_from, fork_from):
    if kwargs:
        _term.warn_once(f"init(): ignoring unknown arguments: {', '.join(sorted(kwargs))}")
    if unknown_settings:
        _term.warn_once(f"Settings: ignoring unknown keys: {', '.join(sorted(unknown_settings))}")
    if sync_tensorboard:
        from . import tensorboard

        tensorboard.patch()
    if resume_from or fork_from:
        _term.warn_once("init(resume_from=/fork_from=) is not supported: starting a new run")


def _settings_object(s: dict, user_settings) -> Settings:
    obj = Settings(**{k: v for k, v in s.items()})
    if isinstance(user_settings, Settings):
        for k, v in user_settings.to_dict().items():
            if k not in s:
                obj.update({k: v})
    return obj


def _disabled_run(native, s, items, allow_val_change, user_settings) -> Run:
    run_id = s.get("id") or native.new_run_id()
    backend = MemoryBackend(run_id, time.time())
    config = Config(items, allow_val_change=bool(allow_val_change))
    return DisabledRun(
        backend, s, config, disabled=True, settings_obj=_settings_object(s, user_settings)
    )


def _resume_state(native, s: dict):
    """(run id, state to resume from or None) per the resume setting: the newest readable local
    attempt, or for an online `allow`/`must` resume the server's state when it is further along
    (the run was logged from another directory or machine)."""
    root, run_id, resume = s["root"], s.get("id"), s.get("resume")
    if resume == "auto" and not run_id:
        run_id = _crashed_latest_run(native, root)
    if resume == "must" and not run_id:
        raise UsageError("resume='must' needs a run id (init(id=...) or TRACKWAY_RUN_ID)")
    attempts = []
    if run_id and resume:
        try:
            attempts = list(native.find_run_dirs(root, run_id))
        except OSError:
            attempts = []
    if resume == "never" and attempts:
        raise UsageError(f"resume='never' but run {run_id!r} already exists under {root}")
    # Skips attempts another process is creating right now, or that a crash left empty.
    state = native.latest_run_state(attempts) if attempts and resume != "never" else None
    # Without an id (Lightning passes id=None, resume="allow") there is no run to ask about.
    if s.get("mode") == "online" and resume in ("allow", "must") and run_id:
        state, found = _server_state(native, s, run_id, state)
        if resume == "must" and not attempts and not found:
            raise UsageError(
                f"resume='must' but run {run_id!r} exists neither under {root} nor on the server"
            )
    elif resume == "must" and not attempts:
        raise UsageError(f"resume='must' but run {run_id!r} does not exist under {root}")
    return run_id, state


def _server_state(native, s: dict, run_id: str, local):
    """(state to resume from, whether the server has the run). The server's state wins when its
    last step is past the local one, so steps continue after every acknowledged row."""
    try:
        remote = native.remote_run_state(
            s.get("base_url"),
            s.get("api_key"),
            s.get("entity"),
            s.get("project") or "uncategorized",
            run_id,
        )
    except OSError as e:
        _term.warn_once(
            f"could not ask the server about run {run_id} ({e}); resuming from the "
            "local state, and the server drops steps it already has"
        )
        return local, False
    if remote is None:
        return local, False
    last = (local or {}).get("last_step")
    if local is None or (
        remote.get("last_step") is not None and (last is None or remote["last_step"] > last)
    ):
        return remote, True
    return local, True


def _crashed_latest_run(native, root: str):
    latest = os.path.join(root, "latest-run")
    if not os.path.isdir(latest):
        return None
    try:
        state = native.load_run_state(os.path.realpath(latest))
    except (OSError, ValueError):
        return None
    return None if state.get("finished") else state.get("run_id")


def _apply_resume(s: dict, items: dict, state: dict | None, args: dict) -> dict:
    if not state:
        return items
    for key in ("project", "entity", "name", "notes", "group", "job_type"):
        unset = s.get(key) is None or (
            key == "project" and "project" not in args and s.get(key) == "uncategorized"
        )
        if unset and state.get(key) is not None:
            s[key] = state[key]
    if not s.get("tags") and state.get("tags"):
        s["tags"] = list(state["tags"])
    return {**(state.get("config") or {}), **items}


def _public_settings(s: dict) -> dict:
    hidden = ("api_key", "root", "_agent")
    return {
        k: v
        for k, v in s.items()
        if k not in hidden and v is not None and isinstance(v, (str, int, float, bool, list))
    }


def _local_run(native, s, items, allow_val_change, user_settings, args) -> Run:
    run_id, state = _resume_state(native, s)
    items = _apply_resume(s, items, state, args)
    s["id"] = run_id = run_id or native.new_run_id()
    s["name"] = s.get("name") or _generate_name()
    s["project"] = s.get("project") or "uncategorized"
    config = Config(items, allow_val_change=bool(allow_val_change))
    start = {
        "run_id": run_id,
        "project": s["project"],
        "entity": s.get("entity"),
        "name": s["name"],
        "tags": list(s.get("tags") or []),
        "notes": s.get("notes"),
        "group": s.get("group"),
        "job_type": s.get("job_type"),
        "mode": s["mode"],
        "config": config.as_dict(),
        "resume": s.get("resume"),
        "base_url": s.get("base_url"),
        "settings": _public_settings(s),
    }
    try:
        backend = native.NativeRun(s["root"], start, _convert.fallback, state)
    except OSError as e:
        backend = _in_temp_root(native, s, start, state, e)
    except ValueError as e:
        raise Error(f"could not create a run under {s['root']}: {e}") from e
    _media.register_run(backend)
    url = (
        _online(native, s, run_id, backend)
        if s["mode"] == "online"
        else _offline(native, s, backend)
    )
    run = Run(
        backend,
        s,
        config,
        resumed=state is not None,
        url=url,
        settings_obj=_settings_object(s, user_settings),
    )
    _start_capture(run)
    if not s.get("silent"):
        where = f" — {url}" if url else ""
        _term.termlog(f"run {s['name']} ({run_id}) logging to {backend.dir}{where}")
    return run


def _in_temp_root(native, s: dict, start: dict, state, error):
    """wandb's rule for a `dir` that cannot be written: warn and use the system temp directory
    (the run is recorded there instead of failing the script)."""
    import tempfile

    fallback = os.path.join(tempfile.gettempdir(), "trackway")
    _term.warn_once(f"Path {s['root']} wasn't writable ({error}), using {fallback} instead")
    s["root"] = fallback
    try:
        return native.NativeRun(s["root"], start, _convert.fallback, state)
    except (OSError, ValueError) as e:
        raise Error(f"could not create a run under {s['root']}: {e}") from e


def agent_command():
    """How this package starts its CLI: `(program, leading args)`, or None.

    TRACKWAY_EXE (a `trackway` binary, as in the Rust SDK) wins; else this interpreter runs the
    command line compiled into `trackway._native` (ARCHITECTURE.md, "Packaging"). The package's
    own directory goes first on the child's path, so the child imports this very package even
    when the script put it on `sys.path` by hand or the working directory holds a `trackway/`.
    """
    override = os.environ.get("TRACKWAY_EXE")
    if override:
        return (override, []) if os.path.isfile(override) and os.access(override, os.X_OK) else None
    if _native is None or not sys.executable:
        return None
    if getattr(sys, "frozen", False):  # sys.executable is the frozen app, not a Python
        import shutil

        exe = shutil.which("trackway")
        return (exe, []) if exe else None
    parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = f"import sys; sys.path.insert(0, {parent!r}); from {_PKG}._cli import main; main()"
    return (sys.executable, ["-c", code])


def _online(native, s: dict, run_id: str, backend):
    cmd = agent_command()
    if cmd is None:
        _term.warn_once(
            "no `trackway` command to start the agent (TRACKWAY_EXE is not an "
            "executable), so no agent uploads this run; it stays on disk (upload it "
            "later with `trackway sync`)"
        )
        s["_agent"] = False
    else:
        s["_agent"] = bool(native.ensure_agent(s["root"], cmd[0], cmd[1]))
        backend.watch_agent(s["root"], cmd[0], cmd[1])  # log() and finish() restart a dead agent
    base, entity = s.get("base_url"), s.get("entity")
    if not base or not entity:
        return None
    return f"{base.rstrip('/')}/{entity}/{s['project']}/runs/{run_id}"


def _offline(native, s: dict, backend) -> None:
    """Offline runs are captured too (system metrics, metadata, requirements, diff; see
    docs/capture.md): the agent writes them into the run directory and uploads nothing, and
    `trackway sync` uploads them later. Without a command to start the agent the run is only
    logged."""
    cmd = agent_command()
    if cmd is not None:
        native.ensure_agent(s["root"], cmd[0], cmd[1])
        backend.watch_agent(s["root"], cmd[0], cmd[1])


def _start_capture(run: Run) -> None:
    """Optional capture modules (files/code, console, notebook panel) hook into the run if they are present.

    Protocol: `module.on_init(run)` may return a callable `stop(exit_code)` run at finish.
    """
    import importlib

    for name in ("_files", "_console", "_notebook"):
        try:
            mod = importlib.import_module(f"{_PKG}.{name}")
        except ImportError:
            continue
        hook = getattr(mod, "on_init", None)
        if hook is None:
            continue
        try:
            stop = hook(run)
        except Exception as e:  # capture must never break training
            _term.warn_once(f"{name} capture failed to start: {e}")
            continue
        if callable(stop):
            run._on_finish.append(stop)


_ADJ = (
    "amber",
    "bold",
    "brisk",
    "calm",
    "clever",
    "crisp",
    "dawn",
    "deft",
    "eager",
    "fair",
    "fleet",
    "gentle",
    "golden",
    "keen",
    "lively",
    "lucid",
    "merry",
    "misty",
    "noble",
    "quiet",
    "rapid",
    "silver",
    "snowy",
    "solar",
    "steady",
    "swift",
    "vivid",
    "warm",
    "wild",
    "young",
)
_NOUN = (
    "badger",
    "brook",
    "cedar",
    "comet",
    "crane",
    "delta",
    "dune",
    "ember",
    "falcon",
    "fern",
    "fjord",
    "glade",
    "harbor",
    "heron",
    "lake",
    "lynx",
    "maple",
    "meadow",
    "moon",
    "otter",
    "pine",
    "river",
    "sparrow",
    "spruce",
    "star",
    "stone",
    "tide",
    "valley",
    "willow",
    "wolf",
)


def _generate_name() -> str:
    # os.urandom, not `random`: keeps `import trackway` light
    a, n, k = os.urandom(3)
    return f"{_ADJ[a % len(_ADJ)]}-{_NOUN[n % len(_NOUN)]}-{k + 1}"


# ---------------------------------------------------------------------------------------------
# finish, exit code, fork


def finish_run(run: Run, exit_code=None) -> None:
    if run._finished:
        return
    if run._forked or os.getpid() != run._pid:
        run._mark_forked()
        _term.warn_once("finish() from a forked child process is ignored")
        return
    run._finished = True
    run._nlog = run._log_finished
    closed = f"run {run.id} is finished"
    object.__setattr__(run._config, "_closed", closed + ": config can no longer change")
    from ._summary import closed_check

    object.__setattr__(run._summary, "_check", closed_check(closed + ": summary is read-only"))
    code = _int_code(exit_code)
    try:
        for stop in run._on_finish:
            try:
                stop(code)
            except Exception as e:
                _term.warn_once(f"capture failed at finish: {e}")
        run._backend.finish(code)
    except OSError as e:  # disk full: report it; the agent marks the run crashed
        _term.termerror(f"could not write the end of run {run.id}: {e}")
    finally:
        if run in _active:
            _active.remove(run)
        pkg = sys.modules.get(_PKG)  # None late in interpreter shutdown (finish from __del__)
        if pkg is not None and getattr(pkg, "run", None) is run:
            unbind()
    if run._s.get("mode") == "online" and not run._disabled:
        _wait_uploaded(run)


def _wait_uploaded(run: Run) -> None:
    """Give the agent finish_timeout seconds to drain the upload, never longer, then say what
    is true: uploaded, still uploading (an agent is alive), or saved locally only."""
    quiet = run._s.get("silent")
    backend = run._backend
    if run._s.get("_agent") is not False:
        run._s["_agent"] = bool(backend.ensure_agent())  # restarts an agent killed meanwhile
    if not run._s.get("_agent"):  # no agent could be started: waiting cannot help
        if not quiet:
            _term.termlog(
                f"run {run.id} is saved locally; upload it with `trackway sync {backend.dir}`"
            )
        return
    timeout = float(run._s.get("finish_timeout") or 5.0)
    done = backend.wait_uploaded(timeout)
    state = backend.upload_state()
    if state["dropped"]:
        _term.termwarn(
            f"run {run.id}: the server dropped {state['dropped']} history record(s) at "
            "steps another attempt of this run had already logged (history never "
            "goes back; resume with resume='allow' to continue after its last step)"
        )
    if done or quiet:
        return
    unsent = state["unsent_bytes"]
    if state["agent_alive"]:
        _term.termlog(
            f"run {run.id}: {unsent} bytes still uploading in the background (`trackway status`)"
        )
    else:
        _term.termwarn(
            f"run {run.id}: {unsent} bytes not uploaded and no agent is running; "
            f"upload them with `trackway sync {backend.dir}`"
        )


def _int_code(code) -> int:
    if code is None:
        return 0
    if isinstance(code, bool):
        return int(code)
    if isinstance(code, int):
        return code
    return 1  # sys.exit("message") exits with 1


def _install_hooks() -> None:
    global _hooks_installed, _orig_exit, _orig_excepthook
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_atexit)
    _orig_excepthook = sys.excepthook
    sys.excepthook = _excepthook
    _orig_exit = sys.exit
    sys.exit = _exit


def _excepthook(exc_type, exc, tb):
    global _exit_code
    _exit_code = 130 if issubclass(exc_type, KeyboardInterrupt) else 1
    (_orig_excepthook or sys.__excepthook__)(exc_type, exc, tb)


def _exit(status=None):
    global _exit_code
    _exit_code = _int_code(status)
    (_orig_exit or sys.__dict__["exit"])(status)


def _atexit() -> None:
    code = 0 if _exit_code is None else _exit_code
    pid = os.getpid()
    for run in reversed(list(_active)):
        if run._forked or run._pid != pid:
            continue
        try:
            finish_run(run, code)
        except Exception as e:  # the interpreter is exiting: report, never raise
            _term.termerror(f"could not finish run {run.id}: {e}")


def _after_fork_child() -> None:
    for run in _active:
        run._mark_forked()


os.register_at_fork(after_in_child=_after_fork_child)
_run_module._hooks["finish"] = finish_run


def restore_detached(settings: dict, run_id: str, config: dict, disabled: bool) -> Run:
    """Unpickling a Run gives an in-memory copy; only the original process writes the run."""
    cls = DisabledRun if disabled else Run
    run = cls(MemoryBackend(run_id, time.time()), dict(settings), Config(config), disabled=True)
    run._disabled = disabled
    if not disabled:
        run._mark_forked()
    return run


# ---------------------------------------------------------------------------------------------
# files


def save_files(run: Run, glob_str, base_path, policy):
    try:
        from . import _files
    except ImportError:
        _files = None
    if _files is not None and hasattr(_files, "save"):
        return _files.save(run, glob_str, base_path=base_path, policy=policy)
    return copy_files(run.dir, glob_str, base_path)


def copy_files(files_dir: str, glob_str, base_path) -> list:
    """Copy files matching `glob_str` into `files_dir`, paths kept relative to `base_path`."""
    import glob
    import shutil

    if glob_str is None:
        return []  # old wandb: save() with no arguments was a no-op
    pattern = os.fspath(glob_str)
    if "://" in pattern:
        _term.warn_once(f"save({pattern!r}): remote paths are not supported")
        return []
    if base_path is None:
        base_path = os.path.dirname(pattern.split("*", 1)[0]) or "."
    saved = []
    for path in glob.glob(pattern, recursive=True):
        if not os.path.isfile(path):
            continue
        rel = os.path.relpath(path, base_path)
        if rel.startswith(".."):
            rel = os.path.basename(path)
        dest = os.path.join(files_dir, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(path, dest)
        saved.append(dest)
    return saved


def preinit_define_metric(name, *args, **kwargs) -> Metric:
    _term.warn_once("define_metric() before init() is ignored")
    return Metric(name, kwargs.get("step_metric"), kwargs.get("step_sync"))
