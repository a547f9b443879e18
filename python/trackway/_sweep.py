"""Sweeps: `sweep(config)` registers a sweep on the server (which validates the config, in
trackway-sweep: one rule, one home), `agent(sweep_id, function=)` claims trials and runs them in
this process. The controller lives on the server, so any number of agents on any machines share
one sweep (docs/sweeps.md)."""

import json
import os
import socket
import threading
import time

from . import _term
from .errors import CommError, UsageError

# What the in-process agent hands to the next `init()`: the trial being run, or None.
_trial = None
# Sweeps created by this process: id -> (entity, project), so `agent(id)` needs no project.
_known = {}

PARAM_PATH_ENV = ("TRACKWAY_SWEEP_PARAM_PATH", "WANDB_SWEEP_PARAM_PATH")


def _http():
    from .apis._http import Http, resolve

    base, key, entity = resolve()
    return Http(base, key, 30.0), entity


def _refuse_offline(what: str) -> None:
    from .apis._http import env

    mode = (env("MODE") or "").lower()
    if mode in ("offline", "dryrun", "disabled"):
        raise UsageError(
            f"{what} needs the server (the sweep controller runs there), but the mode is "
            f"{mode!r}; unset TRACKWAY_MODE/WANDB_MODE (or run `trackway online`)"
        )


def _load_config(sweep):
    if isinstance(sweep, (str, os.PathLike)):
        import yaml  # only for a config file

        with open(sweep, encoding="utf-8") as f:
            sweep = yaml.safe_load(f)
    if hasattr(sweep, "items") and not isinstance(sweep, dict):
        sweep = dict(sweep)
    if not isinstance(sweep, dict):
        raise UsageError("sweep(): the config must be a dict (or a path to a YAML file)")
    return sweep


def sweep(sweep, entity=None, project=None, prior_runs=None):
    """Creates a sweep and returns its id (wandb.sweep). The server validates the config: an
    invalid one raises `UsageError` naming the offending path and the accepted values."""
    _refuse_offline("sweep()")
    cfg = _load_config(sweep)
    http, default_entity = _http()
    body = {
        "config": cfg,
        "entity": entity or cfg.get("entity") or default_entity,
        "project": project or cfg.get("project") or _env_project(),
        "name": cfg.get("name"),
    }
    try:
        out = http.request("POST", "/api/v1/sweeps", None, body)
    except CommError as e:
        raise UsageError(f"sweep(): {e}") from None
    s = out["sweep"]
    _known[s["id"]] = (s["entity"], s["project"])
    if prior_runs:
        _term.warn_once("sweep(prior_runs=) is not supported: the prior runs are ignored")
    _term.termlog(f"created sweep {s['id']} ({s['entity']}/{s['project']}, method {s['method']})")
    return s["id"]


def _env_project():
    from .apis._http import env

    return env("PROJECT") or "uncategorized"


def resolve_path(sweep_id, entity=None, project=None):
    """(entity, project, id) from `entity/project/id`, `project/id` or `id` plus arguments,
    this process's sweeps, env and the stored login."""
    parts = str(sweep_id).strip("/").split("/")
    sid = parts[-1]
    if len(parts) >= 3:
        entity, project = entity or parts[-3], project or parts[-2]
    elif len(parts) == 2:
        project = project or parts[0]
    known = _known.get(sid)
    if known:
        entity, project = entity or known[0], project or known[1]
    if entity is None:
        from .apis._http import env

        entity = env("ENTITY")
    http, default_entity = _http()
    entity = entity or default_entity
    if entity is None:
        entity = http.get("/api/v1/viewer").get("entity")
    return entity, project or _env_project(), sid


class Client:
    """One agent's calls to the controller."""

    def __init__(self, entity, project, sweep_id):
        self.http, _ = _http()
        self.base = f"/api/v1/sweeps/{entity}/{project}/{sweep_id}"
        self.agent = f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident() % 10000}"

    def claim(self):
        return self.http.request("POST", self.base + "/claim", None, {"agent": self.agent})

    def heartbeat(self, running, ended=()):
        body = {"running": list(running), "ended": [{"run_id": r, "state": s} for r, s in ended]}
        return self.http.request("POST", self.base + "/heartbeat", None, body)

    def get(self):
        return self.http.get(self.base)


def current_trial():
    """The trial `init()` should become: the in-process agent's, else one a command-line agent
    described in the environment (wandb's WANDB_SWEEP_PARAM_PATH: `{key: {value: v}}`)."""
    if _trial is not None:
        return _trial
    sweep_id = os.environ.get("TRACKWAY_SWEEP_ID") or os.environ.get("WANDB_SWEEP_ID")
    path = next((os.environ[k] for k in PARAM_PATH_ENV if os.environ.get(k)), None)
    if not sweep_id or not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, ValueError) as e:
        _term.warn_once(f"could not read the sweep parameters at {path}: {e}")
        return None
    params = {k: v["value"] if isinstance(v, dict) and "value" in v else v for k, v in raw.items()}
    from .apis._http import env

    return {
        "sweep_id": sweep_id,
        "run_id": env("RUN_ID"),
        "project": env("PROJECT"),
        "entity": env("ENTITY"),
        "params": params,
    }


def _poll(client, count, run_one):
    done = 0
    waited = False
    while count is None or done < count:
        out = client.claim()
        if out.get("done"):
            _term.termlog(f"sweep is {out.get('state')}: no more trials")
            return done
        if out.get("paused"):
            if not waited:
                _term.termlog("sweep is paused: waiting")
                waited = True
            time.sleep(_interval())
            continue
        waited = False
        run_one(out["trial"], out)
        done += 1
    return done


class _TooManyFailures(Exception):
    pass


def _interval() -> float:
    from .apis._http import env

    try:
        return max(0.05, float(env("AGENT_REPORT_INTERVAL") or 5))
    except ValueError:
        return 5.0


class TrialStopped(BaseException):
    """Raised inside an in-process trial the controller stopped (hyperband, cancel): a
    BaseException, like KeyboardInterrupt, so a training loop's `except Exception` lets it out."""


class _Stopper:
    """Heartbeats one in-process trial from a helper thread and, when the controller stops it,
    raises `TrialStopped` in the thread running the trial (wandb's in-process agent does the
    same with `PyThreadState_SetAsyncExc`). The exception arrives at the trial's next Python
    bytecode, so a long C call (a sleep, a kernel) finishes first."""

    def __init__(self, client, run_id):
        self.client, self.run_id = client, run_id
        self.target = threading.get_ident()
        self.lock = threading.Lock()
        self.armed, self.fired = True, False
        self.done = threading.Event()
        self.thread = threading.Thread(
            target=self._loop, name="trackway-trial-heartbeat", daemon=True
        )

    def __enter__(self):
        self.thread.start()
        return self

    def _loop(self):
        while not self.done.wait(_interval()):
            try:
                stop = self.run_id in self.client.heartbeat([self.run_id]).get("stop", [])
            except CommError as e:
                _term.warn_once(f"sweep heartbeat failed (the trial goes on): {e}")
                continue
            if stop:
                self._fire()
                return

    def _fire(self):
        with self.lock:
            if self.armed and not self.fired:
                self.fired = True
                _term.termlog(f"trial {self.run_id}: stopped by the controller")
                _async_raise(self.target, TrialStopped)

    def __exit__(self, *exc):
        """Disarms; an exception sent but not yet raised is withdrawn, so it cannot escape
        into the agent's own code after the trial returned."""
        self.done.set()
        with self.lock:
            self.armed = False
            if self.fired:
                _async_raise(self.target, None)
        return False


def _async_raise(thread_id, exc):
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else None
    )


def agent(
    sweep_id, function=None, entity=None, project=None, count=None, max_consecutive_failed_runs=None
):
    """Runs trials of a sweep in this process (wandb.agent): each claim from the server's
    controller becomes one call of `function`, whose `init()` starts the trial's run with the
    sampled parameters as its locked config. While a trial runs, a helper thread heartbeats it;
    a trial the controller stops (hyperband, cancel) is interrupted with `TrialStopped` and its
    run finished. Returns after `count` trials or when the sweep hands out no more, or after
    `max_consecutive_failed_runs` failed trials in a row."""
    global _trial
    _refuse_offline("agent()")
    if function is None or not callable(function):
        raise UsageError("agent(): pass function= (to run commands, use `trackway agent SWEEP_ID`)")
    entity, project, sid = resolve_path(sweep_id, entity, project)
    client = Client(entity, project, sid)
    failures = [0]

    def run_one(trial, _claim):
        global _trial
        _trial = {
            "sweep_id": sid,
            "run_id": trial["run_id"],
            "entity": entity,
            "project": project,
            "params": trial["config"],
        }
        state = _run_function(function, client, trial["run_id"])
        client.heartbeat([], [(trial["run_id"], "failed" if state == "failed" else "finished")])
        failures[0] = failures[0] + 1 if state == "failed" else 0
        if max_consecutive_failed_runs and failures[0] >= max_consecutive_failed_runs:
            raise _TooManyFailures(failures[0])

    try:
        return _poll(client, count, run_one)
    except _TooManyFailures as e:
        _term.termerror(f"{e.args[0]} trials failed in a row: the agent stops")
        return None
    finally:
        _trial = None


def _run_function(function, client, run_id):
    """One in-process trial: finished, failed (an exception) or stopped (by the controller)."""
    global _trial
    state = "finished"
    try:
        try:
            with _Stopper(client, run_id):
                function()
        finally:
            _trial = None
    except TrialStopped:
        state = "stopped"
    except Exception as e:  # a failing trial ends as failed; the agent goes on (wandb does)
        state = "failed"
        _term.termerror(f"trial {run_id} failed: {type(e).__name__}: {e}")
    from . import _lifecycle

    for active in list(_lifecycle._active):
        if active.id == run_id:
            active.finish(exit_code=1 if state == "failed" else 0)
    return state
