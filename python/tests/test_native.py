"""The native module `trackway._native` against docs/dev/native-api.md: settings resolution,
value conversion, step rules through the Python boundary, upload wait, agent spawn, fork safety.
"""

import json
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from trackway import _native

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    for k in list(os.environ):
        if k.startswith(("TRACKWAY_", "WANDB_")):
            monkeypatch.delenv(k)
    monkeypatch.setenv("TRACKWAY_CONFIG_DIR", str(tmp_path / "config"))


def new_run(tmp_path, fallback=None, **start):
    start.setdefault("run_id", _native.new_run_id())
    return _native.NativeRun(str(tmp_path / "trackway"), start, fallback)


def records(run):
    return [json.loads(x) for x in Path(run.log_path).read_text().splitlines()]


def history(run):
    return [r for r in records(run) if r["t"] == "history"]


# ---- settings ------------------------------------------------------------------------------


def test_settings_precedence_file_env_args(tmp_path, monkeypatch):
    root = tmp_path / "trackway"
    root.mkdir()
    (root / "settings").write_text("[default]\nmode = disabled\nproject = fromfile\nentity = e\n")
    s = _native.resolve_settings({}, str(tmp_path))
    assert (s["mode"], s["project"], s["entity"], s["root"]) == (
        "disabled",
        "fromfile",
        "e",
        str(root),
    )
    monkeypatch.setenv("WANDB_PROJECT", "wandbenv")
    monkeypatch.setenv("WANDB_MODE", "dryrun")
    monkeypatch.setenv("WANDB_TAGS", "a,b")
    s = _native.resolve_settings({}, str(tmp_path))
    assert (s["mode"], s["project"], s["tags"]) == ("offline", "wandbenv", ["a", "b"])
    monkeypatch.setenv("TRACKWAY_PROJECT", "trackwayenv")
    assert _native.resolve_settings({}, str(tmp_path))["project"] == "trackwayenv"
    s = _native.resolve_settings(
        {"project": "arg", "mode": "run", "tags": ("x",), "entity": None}, str(tmp_path)
    )
    assert (s["mode"], s["project"], s["tags"], s["entity"]) == ("online", "arg", ["x"], "e")


def test_settings_defaults_and_types(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKWAY_SILENT", "true")
    monkeypatch.setenv("TRACKWAY_FINISH_TIMEOUT", "2.5")
    monkeypatch.setenv("TRACKWAY_DIR", str(tmp_path / "elsewhere"))
    s = _native.resolve_settings({"resume": True}, str(tmp_path))
    assert s["silent"] is True and s["finish_timeout"] == 2.5 and s["resume"] == "allow"
    assert s["root"] == str(tmp_path / "elsewhere" / "trackway")
    assert s["api_key"] is None and s["base_url"] is None
    assert s["project"] == "uncategorized" and s["mode"] == "online"


@pytest.mark.parametrize(
    "args", [{"mode": "sometimes"}, {"id": "a/b"}, {"resume": "maybe"}, {"finish_timeout": "soon"}]
)
def test_settings_bad_values_raise_value_error(tmp_path, args):
    with pytest.raises(ValueError):
        _native.resolve_settings(args, str(tmp_path))


def test_new_run_id_shape():
    ids = {_native.new_run_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 8 and i.isalnum() and i.lower() == i for i in ids)


# ---- values --------------------------------------------------------------------------------


def test_log_values_round_trip_exactly(tmp_path):
    run = new_run(tmp_path)
    data = {
        "f": 1.0,
        "i": 1,
        "b": True,
        "n": None,
        "s": "",
        "nan": float("nan"),
        "inf": float("-inf"),
        "big": 2**64,
        "neg": -(2**63),
        "u": 2**64 - 1,
        "nested": {1: "one", "x": (1, [2.5])},
        "tag": {"$f": "x"},
    }
    snapshot = repr(data)
    assert run.log(data) is None
    assert repr(data) == snapshot, "log() must not mutate its argument"
    run.finish(0)
    st = _native.load_run_state(run.dir)
    s = st["summary"]
    assert type(s["f"]) is float and type(s["i"]) is int and s["b"] is True and s["n"] is None
    assert math.isnan(s["nan"]) and s["inf"] == float("-inf")
    assert s["big"] == 2**64 and s["neg"] == -(2**63) and s["u"] == 2**64 - 1
    assert s["nested"] == {"1": "one", "x": [1, [2.5]]}
    assert s["tag"] == {"$f": "x"}
    raw = history(run)[0]["data"]
    assert raw["big"] == {"$int": str(2**64)} and raw["f"] == 1.0


def test_log_type_errors(tmp_path):
    run = new_run(tmp_path)
    with pytest.raises(TypeError):
        run.log([("a", 1)])
    with pytest.raises(TypeError):
        run.log({1: 2})
    assert history(run) == []


def test_fallback_converts_unknown_objects(tmp_path):
    class Thing:
        def __str__(self):
            return "thing!"

    seen = []

    def fallback(obj):
        seen.append(obj)
        return {"converted": 1.5}

    run = new_run(tmp_path, fallback)
    run.log({"x": Thing()})
    assert history(run)[0]["data"]["x"] == {"converted": 1.5} and len(seen) == 1
    plain = new_run(tmp_path)
    plain.log({"x": Thing(), "s": {1, 2} and frozenset()})
    assert history(plain)[0]["data"]["x"] == "thing!"


# ---- step rules through the boundary ------------------------------------------------------


def test_step_rules_and_dropped_steps(tmp_path):
    run = new_run(tmp_path)
    assert run.step == 0
    run.log({"n": 1})
    run.log({"n": 11}, commit=False)
    run.log({"n": 2}, step=100)
    run.log({"n": 3}, step=100)
    assert run.step == 100
    assert run.log({"cool": 2}, step=2) == 100
    run.log({"n": 8}, commit=True)
    assert run.step == 101
    run.finish()
    steps = [h["step"] for h in history(run)]
    assert steps == [0, 1, 100, 100, 100]
    assert run.finished is True
    with pytest.raises(RuntimeError):
        run.log({"x": 1})


def test_summary_and_metrics(tmp_path):
    run = new_run(tmp_path)
    run.define_metric("loss", summary=["min", "max"], goal="minimize")
    run.define_metric("train/*", step_metric="epoch")
    for v in (3.0, 1.0, 2.0):
        run.log({"loss": v, "epoch": 1})
    run.log({"train/x": 1})
    assert run.summary()["loss"] == {"min": 1.0, "max": 3.0}
    assert history(run)[-1]["data"] == {"train/x": 1, "epoch": 1}
    run.summary_set(["a", "b"], 1)
    run.summary_update({"c": 2})
    run.summary_del(["a", "b"])
    with pytest.raises(KeyError):
        run.summary_del(["nope"])
    with pytest.raises(ValueError):
        run.define_metric("a*b")
    with pytest.raises(ValueError):
        run.define_metric("x", summary=["median"])
    run.config_update({"lr": 0.1, 3: "x"})
    run.config_remove(["lr"])
    run.set_meta(name="renamed", tags=["t"])
    run.finish(1)
    st = _native.load_run_state(run.dir)
    assert st["config"] == {"3": "x"} and st["name"] == "renamed" and st["tags"] == ["t"]
    assert st["exit_code"] == 1 and st["summary"]["c"] == 2 and st["summary"]["a"] == {}


def test_resume_continues_steps(tmp_path):
    run = new_run(tmp_path, run_id="resumeme")
    run.log({"x": 1}, step=4, commit=True)
    run.finish(0)
    root = str(tmp_path / "trackway")
    dirs = _native.find_run_dirs(root, "resumeme")
    assert dirs == [run.dir]
    state = _native.load_run_state(dirs[-1])
    assert state["last_step"] == 4 and state["row_count"] == 1
    again = _native.NativeRun(root, {"run_id": "resumeme"}, None, state)
    assert again.step == 5 and again.starting_step == 5 and again.summary()["x"] == 1
    assert len(_native.find_run_dirs(root, "resumeme")) == 2


# ---- upload wait and agent ----------------------------------------------------------------


def write_cursor(run, offset, error=None):
    cursor = {
        "log_id": run.log_id,
        "offset": offset,
        "acked_at": time.time(),
        "error": error,
        "finished": False,
    }
    Path(run.dir, "upload.json").write_text(json.dumps(cursor))


def test_wait_uploaded(tmp_path):
    run = new_run(tmp_path)
    run.log({"x": 1})
    run.finish(0)
    assert run.wait_uploaded(0.2) is False, "nothing acknowledged yet"
    write_cursor(run, os.path.getsize(run.log_path))
    assert run.wait_uploaded(5) is True
    # An error without progress ends the wait early: told apart from waiting out the timeout by
    # a cursor that completes the upload a few seconds later, which only a wait that did not
    # end early would see (and then return True).
    write_cursor(run, 10, error="server said no")
    completer = threading.Timer(5.0, write_cursor, args=(run, os.path.getsize(run.log_path)))
    completer.start()
    try:
        assert run.wait_uploaded(60) is False, "an error without progress ends the wait early"
    finally:
        completer.cancel()


def test_ensure_agent_never_raises(tmp_path):
    fake = tmp_path / "fake-trackway"
    marker = tmp_path / "args"
    go = tmp_path / "go"
    # The fake agent records its arguments only once `go` exists, which the test creates after
    # ensure_agent returned: an ensure_agent that waited for the agent would leave it to give
    # up and record "blocked" instead.
    fake.write_text(
        f"#!/bin/sh\nfor i in $(seq 300); do [ -e {go} ] && break; sleep 0.1; done\n"
        f'[ -e {go} ] && echo "$@" > {marker} || echo blocked > {marker}\n'
    )
    fake.chmod(0o755)
    root = tmp_path / "trackway"
    assert _native.ensure_agent(str(root), str(fake)) is True
    go.touch()
    for _ in range(3000):
        if marker.exists() and marker.read_text():
            break
        time.sleep(0.01)
    assert marker.read_text().split() == ["agent", "--root", str(root)]
    assert _native.ensure_agent(str(root), str(tmp_path / "missing")) is False


# ---- process model -------------------------------------------------------------------------


def test_import_starts_no_threads_and_fork_is_safe(tmp_path):
    code = f"""
import os, sys, json
sys.path.insert(0, {str(REPO / "python")!r})
from trackway import _native
assert len(os.listdir('/proc/self/task')) == 1, 'import started a thread'
run = _native.NativeRun({str(tmp_path / "trackway")!r}, {{"run_id": "forky"}}, None)
run.log({{"parent": 1}})
assert len(os.listdir('/proc/self/task')) == 1, 'logging started a thread'
pid = os.fork()
if pid == 0:
    run.log({{"child": 1}}, step=5)
    os._exit(0)
os.waitpid(pid, 0)
run.log({{"parent": 2}}, step=6)
run.finish(0)
print(run.log_path)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in Path(out.stdout.strip()).read_text().splitlines()]
    data = [r["data"] for r in lines if r["t"] == "history"]
    assert {"child": 1} in data and {"parent": 2} in data
