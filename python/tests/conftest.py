"""Shared helpers for the SDK tests: run a real script in a subprocess, read its run log back.

The reader here is deliberately independent of the SDK (plain `json` + docs/run-format.md), so
the tests check the on-disk contract, not the SDK against itself.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYDIR = REPO / "python"
if str(PYDIR) not in sys.path:
    sys.path.insert(0, str(PYDIR))


def clean_env(tmp: Path, **extra) -> dict:
    """An environment with no TRACKWAY_*/WANDB_* settings leaking in from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKWAY_", "WANDB_"))}
    env["PYTHONPATH"] = str(PYDIR)
    env["HOME"] = str(tmp / "home")  # no stored login, no ~/.config writes outside tmp
    env["TRACKWAY_CONFIG_DIR"] = str(tmp / "home" / "config")
    env["TRACKWAY_MODE"] = "offline"  # tests that want another mode override or drop it
    # Offline runs start an agent too (it captures them); let it exit soon after the test.
    env["TRACKWAY_AGENT_IDLE_SECONDS"] = "2"
    env.pop("PYTHONSTARTUP", None)
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def run_script(
    tmp: Path,
    code: str,
    *,
    env: dict | None = None,
    check: bool = True,
    timeout: float = 60,
    name: str = "script.py",
) -> subprocess.CompletedProcess:
    """Write `code` to tmp/<name> and run it with the test interpreter in cwd=tmp."""
    path = tmp / name
    path.write_text(textwrap.dedent(code))
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp,
        env=env or clean_env(tmp),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"script failed ({done.returncode}):\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        )
    return done


# ---------------------------------------------------------------------------------------------
# reading the run log (docs/run-format.md)


def decode(value):
    """Trackway JSON -> Python ($f, $int, $map tags)."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "$f":
                return float(inner)
            if key == "$int":
                return int(inner)
            if key == "$map":
                return {k: decode(v) for k, v in inner.items()}
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def read_log(run_dir: Path) -> tuple[list, list]:
    """(records, corrupt line offsets). An unterminated last line is incomplete, not corrupt."""
    data = (Path(run_dir) / "run.jsonl").read_bytes()
    records, corrupt, pos = [], [], 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        if end < 0:
            break
        line = data[pos:end]
        try:
            rec = json.loads(line.decode("utf-8"))
            if not isinstance(rec, dict) or not isinstance(rec.get("t"), str):
                raise ValueError("not a record")
            records.append(rec)
        except ValueError:
            corrupt.append(pos)
        pos = end + 1
    return records, corrupt


def rows(records: list) -> list:
    """History rows: same-step fragments merged; `_step`, `_timestamp`, `_runtime` added.

    Steps never decrease along a log, so every fragment of a step belongs to one row even when
    a summary/config record was written between two fragments.
    """
    out = []
    for rec in records:
        if rec["t"] != "history":
            continue
        assert "_step" not in rec["data"] and "_runtime" not in rec["data"]
        step = rec["step"]
        assert isinstance(step, int) and step >= 0
        if out and out[-1]["_step"] == step:
            row = out[-1]
        else:
            assert not out or step > out[-1]["_step"], f"step went back: {step}"
            row = {"_step": step}
            out.append(row)
        row.update(decode(rec["data"]))
        row["_timestamp"], row["_runtime"] = rec["ts"], rec["rt"]
    return out


def strip_meta(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("_timestamp", "_runtime")}


def final_config(records: list) -> dict:
    cfg = {}
    for rec in records:
        if rec["t"] == "run":
            cfg.update(decode(rec.get("config") or {}))
        elif rec["t"] == "config":
            cfg.update(decode(rec.get("data") or {}))
            for key in rec.get("remove") or []:
                cfg.pop(key, None)
    return cfg


def final_summary(records: list) -> dict:
    summary = {}
    for rec in records:
        if rec["t"] != "summary":
            continue
        if "full" in rec:
            summary = decode(rec["full"])
        summary.update(decode(rec.get("set") or {}))
        for path in rec.get("del") or []:
            d = summary
            for p in path[:-1]:
                d = d.get(p, {})
            d.pop(path[-1], None)
    return summary


def run_dirs(tmp: Path) -> list:
    root = tmp / "trackway"
    return sorted(p for p in root.glob("run-*") if p.is_dir()) if root.is_dir() else []


def only_run(tmp: Path) -> Path:
    dirs = run_dirs(tmp)
    assert len(dirs) == 1, f"expected one run dir, found {dirs}"
    return dirs[0]


def same(a, b) -> bool:
    """Exact equality: NaN == NaN, -0.0 != 0.0, int != float, recursing into containers."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def trackway_bin() -> str:
    """The `trackway` binary: TRACKWAY_EXE, else the cargo build output."""
    candidates = [
        os.environ.get("TRACKWAY_EXE"),
        os.path.join(
            os.environ.get("CARGO_TARGET_DIR", str(REPO / "target")), "release", "trackway"
        ),
    ]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise AssertionError("no `trackway` binary: run `make build` (or set TRACKWAY_EXE)")


class Server:
    """`trackway server --port P --data-dir D` for end-to-end tests, restartable on the same
    port and data. The admin entity is pinned to `admin` so run paths are `admin/...`."""

    def __init__(self, tmp: Path, command: list | None = None):
        self.command = command  # how to run `trackway` (default: trackway_bin())
        self.tmp = tmp
        self.data = tmp / "data"
        self.config = tmp / "config"
        self.port = 0
        self.proc = None
        self.log = open(tmp / "server.log", "ab")

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKWAY_", "WANDB_"))}
        # The first start names the admin entity after $USER; pin it so paths are "admin/...".
        env.update(HOME=str(self.tmp / "home"), TRACKWAY_CONFIG_DIR=str(self.config), USER="admin")
        return env

    def start(self, timeout=30.0):
        self.proc = subprocess.Popen(
            [
                *(self.command or [trackway_bin()]),
                "server",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data),
            ],
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=self.env(),
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline().decode()
            if not line:
                raise AssertionError(
                    f"server exited: {(self.tmp / 'server.log').read_text()[-2000:]}"
                )
            if "listening on http://" in line:
                self.port = int(line.strip().rsplit(":", 1)[1].rstrip("/"))
                break
        else:
            raise AssertionError("server did not report its port")
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def key(self) -> str:
        return (self.data / "admin-api-key").read_text().strip()

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        self.proc = None


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path
