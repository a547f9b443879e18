"""End to end: real `trackway server`, real training scripts, real agents, real kills.

Each test starts its own server on port 0 with a temporary data dir and config dir, runs
training scripts in subprocesses (online mode, so `init()` starts the agent), and reads the
result back through `trackway.Api`. Agents get a short idle time so they exit on their own;
teardown stops any that are still alive (pid from `<root>/agent.lock`).
"""

import json
import math
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYDIR = REPO / "python"
if str(PYDIR) not in sys.path:
    sys.path.insert(0, str(PYDIR))

from conftest import Server as BaseServer  # noqa: E402
from conftest import trackway_bin  # noqa: E402
from trackway.apis import Api  # noqa: E402

BIN = trackway_bin()


class Server(BaseServer):
    def api(self) -> Api:
        return Api(base_url=self.url, api_key=self.key, timeout=30)


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path).start()
    yield s
    s.stop(signal.SIGKILL)
    for lock in tmp_path.rglob("agent.lock"):
        stop_agent(lock.parent)


def agent_pid(root: Path):
    try:
        return int((root / "agent.lock").read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None


def stop_agent(root: Path, sig=signal.SIGKILL):
    """Kills the agent of `root` (one we caused to start) if it is still alive."""
    pid = agent_pid(root)
    if (
        pid
        and Path(f"/proc/{pid}").exists()
        and b"agent" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def script_env(server: Server, **extra) -> dict:
    env = server.env()
    env.update(
        PYTHONPATH=str(PYDIR),
        TRACKWAY_EXE=BIN,
        TRACKWAY_BASE_URL=server.url,
        TRACKWAY_AGENT_IDLE_SECONDS="3",
        TRACKWAY_MODE="online",
    )
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def write_script(tmp: Path, name: str, code: str) -> Path:
    path = tmp / name
    path.write_text(code)
    return path


def run_py(tmp: Path, path: Path, env: dict, timeout=120) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"script failed:\n{done.stdout}\n{done.stderr}"
    return done


def run_dirs(tmp: Path):
    return sorted((tmp / "trackway").glob("run-*"))


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def wait_synced(dirs, timeout=60):
    wait_for(
        lambda: all((d / "synced").exists() for d in dirs), timeout, f"synced markers in {dirs}"
    )


def log_steps(run_dir: Path):
    """The history steps recorded in the run log (complete lines only), in order."""
    steps = []
    for line in (run_dir / "run.jsonl").read_bytes().split(b"\n")[:-1]:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("t") == "history" and (not steps or steps[-1] != rec["step"]):
            steps.append(rec["step"])
    return steps


def same(a, b):
    """Equality that treats NaN as equal to NaN, recursively."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def server_steps(api: Api, path: str):
    return [r["_step"] for r in api.run(path).scan_history(page_size=5000)]


def http(method, url, body=None, key=None, headers=None):
    req = urllib.request.Request(url, method=method, data=body)
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


# ---------------------------------------------------------------------------------------------

ROUNDTRIP = r"""
import math, trackway
cfg = {"lr": 0.001, "nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"),
       "big": 2**80, "neg": -2**70, "one": 1.0, "nested": {"a": [1, 2.5, "x"], "$f": "looks-like-a-tag"},
       "unicode": "h\u00e9llo / w\u00f6rld"}
run = trackway.init(project="rt", config=cfg)
for i in range(300):
    row = {"loss": 1.0 / (i + 1), "acc": i / 300, "i": i}
    if i % 50 == 0:
        row.update({"weird": float("nan"), "up": float("inf"), "down": float("-inf")})
    trackway.log(row)
run.summary["best"] = 0.5
trackway.finish()
print(run.id)
"""


def test_roundtrip_config_history_summary_exactly(server, tmp_path):
    done = run_py(tmp_path, write_script(tmp_path, "rt.py", ROUNDTRIP), script_env(server))
    run_id = done.stdout.strip().splitlines()[-1]
    wait_synced(run_dirs(tmp_path))
    run = server.api().run(f"admin/rt/{run_id}")
    assert run.state == "finished"
    expect_cfg = {
        "lr": 0.001,
        "nan": math.nan,
        "inf": math.inf,
        "ninf": -math.inf,
        "big": 2**80,
        "neg": -(2**70),
        "one": 1.0,
        "nested": {"a": [1, 2.5, "x"], "$f": "looks-like-a-tag"},
        "unicode": "h\u00e9llo / w\u00f6rld",
    }
    assert same(run.config, expect_cfg), run.config
    rows = list(run.scan_history(page_size=128))
    assert [r["_step"] for r in rows] == list(range(300))
    for i, r in enumerate(rows):
        want = {"loss": 1.0 / (i + 1), "acc": i / 300, "i": i}
        if i % 50 == 0:
            want.update({"weird": math.nan, "up": math.inf, "down": -math.inf})
        got = {k: v for k, v in r.items() if not k.startswith("_")}
        assert same(got, want), (i, got, want)
    assert run.summary["best"] == 0.5
    assert run.summary["loss"] == 1.0 / 300 and run.summary["i"] == 299
    assert run.path == ["admin", "rt", run_id] and run.url


OFFLINE = r"""
import trackway
run = trackway.init(project="off", config={"k": float("nan")})
for i in range(1000):
    trackway.log({"x": i * 0.5, "y": float("-inf") if i == 7 else i})
trackway.finish()
print(run.id)
"""


def test_offline_then_sync_is_identical_and_idempotent(server, tmp_path):
    done = run_py(
        tmp_path,
        write_script(tmp_path, "off.py", OFFLINE),
        script_env(server, TRACKWAY_MODE="offline"),
    )
    run_id = done.stdout.strip().splitlines()[-1]
    (d,) = run_dirs(tmp_path)
    # The agent of an offline run captures it locally and uploads nothing.
    assert not (d / "synced").exists() and not (d / "upload.json").exists()
    env = script_env(server)
    status = subprocess.run([BIN, "status"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert (
        status.returncode == 0 and "1 run(s)" in status.stdout and server.key not in status.stdout
    )
    sync = subprocess.run(
        [BIN, "sync", str(d)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert sync.returncode == 0, sync.stdout + sync.stderr
    assert "synced to admin/off/" in sync.stdout and (d / "synced").exists()
    api = server.api()
    run = api.run(f"admin/off/{run_id}")
    rows = list(run.scan_history())
    assert len(rows) == 1000 and rows[7]["y"] == -math.inf and rows[999]["x"] == 499.5
    assert math.isnan(run.config["k"]) and run.state == "finished"
    again = subprocess.run(
        [BIN, "sync", "--all", str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert again.returncode == 0 and "nothing to sync" in again.stdout
    again = subprocess.run(
        [BIN, "sync", str(d)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert again.returncode == 0 and "already synced" in again.stdout
    assert len(list(api.run(f"admin/off/{run_id}").scan_history())) == 1000
    # The same log uploaded under another project and id (overrides) arrives whole, once.
    (d / "synced").unlink()
    (d / "upload.json").unlink()
    other = subprocess.run(
        [BIN, "sync", str(d), "--project", "moved", "--id", "copy1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.returncode == 0, other.stdout + other.stderr
    assert len(list(api.run("admin/moved/copy1").scan_history())) == 1000
    # A failing sync says so and exits non-zero.
    bad = subprocess.run(
        [BIN, "sync", str(tmp_path / "nope")], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert bad.returncode != 0 and "FAILED" in bad.stdout


SLOW_LOOP = r"""
import sys, time, trackway
run = trackway.init(project="kill", config={"a": 1})
print(run.id, flush=True)
i = 0
while True:
    trackway.log({"loss": 1.0 / (i + 1), "i": i})
    if i % 100 == 0:
        print(i, flush=True)
    i += 1
    time.sleep(0.001)
"""


def test_kill9_training_process_every_logged_step_arrives(server, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, str(write_script(tmp_path, "k.py", SLOW_LOOP))],
        cwd=tmp_path,
        env=script_env(server),
        stdout=subprocess.PIPE,
        text=True,
    )
    run_id = proc.stdout.readline().strip()
    while True:
        line = proc.stdout.readline()
        assert line, f"the training script exited early (code {proc.wait()})"
        if int(line) >= 1500:
            break
    proc.kill()
    proc.wait()
    (d,) = run_dirs(tmp_path)
    steps = log_steps(d)
    assert len(steps) >= 1500
    wait_synced([d], timeout=30)  # the agent sees the dead pid, appends `finish` crashed
    run = server.api().run(f"admin/kill/{run_id}")
    assert run.state == "crashed"
    assert server_steps(server.api(), f"admin/kill/{run_id}") == steps


FAST_LOOP = r"""
import time, trackway
run = trackway.init(project="ag")
print(run.id, flush=True)
for i in range(60000):
    trackway.log({"a": i, "b": i * 0.5, "c": -i, "d": 1.5, "e": i % 7})
    if i % 2000 == 0:
        time.sleep(0.05)
trackway.finish()
"""


def test_kill9_agent_mid_upload_then_new_agent_no_loss_no_dupes(server, tmp_path):
    env = script_env(server, TRACKWAY_FINISH_TIMEOUT="0.2")
    proc = subprocess.Popen(
        [sys.executable, str(write_script(tmp_path, "a.py", FAST_LOOP))],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    run_id = proc.stdout.readline().strip()
    root = tmp_path / "trackway"
    (d,) = run_dirs(tmp_path)
    # Kill the agent once it has acknowledged something but not everything.
    wait_for(
        lambda: (
            (d / "upload.json").exists()
            and json.loads((d / "upload.json").read_text())["offset"] > 0
            and agent_pid(root)
        ),
        30,
        "first ack",
    )
    os.kill(agent_pid(root), signal.SIGKILL)
    time.sleep(0.2)
    assert not (d / "synced").exists(), (
        "the upload finished before the kill; the test proves nothing"
    )
    proc.wait(timeout=120)
    assert proc.returncode == 0
    subprocess.Popen(
        [BIN, "agent", "--root", str(root), "--idle-seconds", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_synced([d], timeout=60)
    steps = server_steps(server.api(), f"admin/ag/{run_id}")
    assert steps == list(range(60000))
    assert server.api().run(f"admin/ag/{run_id}").state == "finished"


OUTAGE = r"""
import json, sys, time, trackway
duration = float(sys.argv[1])
run = trackway.init(project="outage")
print(run.id, flush=True)
t_end = time.time() + duration
lat = []
i = 0
while time.time() < t_end:
    t0 = time.perf_counter()
    trackway.log({"loss": 1.0 / (i + 1), "i": i, "x": i * 0.1})
    lat.append(time.perf_counter() - t0)
    i += 1
    time.sleep(0.005)
trackway.finish()
lat.sort()
print(json.dumps({"rows": i, "p99": lat[int(len(lat) * 0.99)], "max": lat[-1]}), flush=True)
"""


def test_server_down_30s_log_unaffected_and_all_data_arrives(server, tmp_path):
    script = write_script(tmp_path, "o.py", OUTAGE)
    env = script_env(server, TRACKWAY_FINISH_TIMEOUT="1")
    baseline = subprocess.run(
        [sys.executable, str(script), "3"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert baseline.returncode == 0, baseline.stderr
    base = json.loads(baseline.stdout.strip().splitlines()[-1])
    proc = subprocess.Popen(
        [sys.executable, str(script), "40"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    run_id = proc.stdout.readline().strip()
    time.sleep(4)
    server.stop()
    time.sleep(30)
    server.start()
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0
    stats = json.loads(out.strip().splitlines()[-1])
    print(
        f"log() p99 without outage {base['p99'] * 1e6:.0f} us, with outage {stats['p99'] * 1e6:.0f} us, "
        f"max {stats['max'] * 1e3:.1f} ms"
    )
    # Loose on purpose: log() never touches the network, so an outage must not show up as
    # network-sized stalls (the server timeout is seconds).
    assert stats["p99"] < max(20 * base["p99"], 0.005)
    assert stats["max"] < 0.5
    dirs = [d for d in run_dirs(tmp_path) if d.name.endswith(run_id)]
    wait_synced(dirs, timeout=60)
    assert server_steps(server.api(), f"admin/outage/{run_id}") == list(range(stats["rows"]))


def test_kill9_server_mid_ingest_keeps_every_acknowledged_row(server, tmp_path):
    env = script_env(server, TRACKWAY_FINISH_TIMEOUT="0.1")
    proc = subprocess.Popen(
        [sys.executable, str(write_script(tmp_path, "s.py", FAST_LOOP))],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    run_id = proc.stdout.readline().strip()
    root = tmp_path / "trackway"
    (d,) = run_dirs(tmp_path)
    wait_for(
        lambda: (
            (d / "upload.json").exists()
            and json.loads((d / "upload.json").read_text())["offset"] > 200_000
        ),
        30,
        "some acknowledged data",
    )
    server.stop(signal.SIGKILL)
    stop_agent(root)  # freeze the cursor: what it says was acknowledged must survive
    time.sleep(0.2)
    acked = json.loads((d / "upload.json").read_text())["offset"]
    proc.wait(timeout=120)
    head = (d / "run.jsonl").read_bytes()[:acked]
    acked_steps = sorted(
        {
            json.loads(line)["step"]
            for line in head.split(b"\n")
            if line and json.loads(line).get("t") == "history"
        }
    )
    server.start()
    got = server_steps(server.api(), f"admin/ag/{run_id}")
    assert got[: len(acked_steps)] == acked_steps, "an acknowledged row was lost"
    subprocess.Popen(
        [BIN, "agent", "--root", str(root), "--idle-seconds", "2"],
        env=script_env(server),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_synced([d], timeout=60)
    assert server_steps(server.api(), f"admin/ag/{run_id}") == list(range(60000))


MANY = r"""
import sys, trackway
run = trackway.init(project="many", name=f"p{sys.argv[1]}")
for i in range(500):
    trackway.log({"a": i, "b": i * 0.5, "c": 1.0, "d": -i, "e": float(sys.argv[1])})
trackway.finish()
"""


def test_twenty_processes_one_project(server, tmp_path):
    script = write_script(tmp_path, "m.py", MANY)
    env = script_env(server)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(n)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(20)
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert "Traceback" not in err
    dirs = run_dirs(tmp_path)
    assert len(dirs) == 20
    wait_synced(dirs, timeout=90)
    runs = list(server.api().runs("admin/many", per_page=7))
    assert len(runs) == 20 and len(server.api().runs("admin/many")) == 20
    for r in runs:
        assert r.state == "finished"
        assert [row["_step"] for row in r.scan_history(keys=["a"])] == list(range(500))


def test_malformed_requests_get_clear_4xx_and_change_nothing(server):
    url, key = server.url, server.key
    assert http("GET", url + "/api/v1/health")[0] == 200
    assert http("GET", url + "/api/v1/viewer")[0] == 401
    code, body = http("GET", url + "/api/v1/viewer", key="tw_wrong")
    assert code == 401 and body["error"]["code"] == "unauthorized"
    assert http("POST", url + "/api/v1/ingest", b"{}", key="tw_wrong")[0] == 401
    run = {"t": "run", "v": 1, "log_id": "feedfacefeedface", "run_id": "mal1", "project": "mal"}
    assert http("POST", url + "/api/v1/runs", json.dumps(run).encode(), key=key)[0] == 200
    code, body = http("POST", url + "/api/v1/ingest", b"{not json", key=key)
    assert code == 400 and "error" in body
    good = [0, run]
    row = [60, {"t": "history", "step": 0, "ts": 1.0, "rt": 0.1, "data": {"x": 1.0}}]
    bad = [120, {"t": "history", "step": "zero", "data": {}}]
    batch = {
        "entity": "admin",
        "project": "mal",
        "run_id": "mal1",
        "log_id": "feedfacefeedface",
        "from": 0,
        "to": 200,
        "records": [good, row, bad],
    }
    code, body = http("POST", url + "/api/v1/ingest", json.dumps(batch).encode(), key=key)
    assert code == 400 and body["error"]["code"] == "invalid_record", body
    assert list(server.api().run("admin/mal/mal1").scan_history()) == []  # nothing half-applied
    gap = dict(batch, **{"from": 500, "to": 600, "records": []})
    code, body = http("POST", url + "/api/v1/ingest", json.dumps(gap).encode(), key=key)
    assert code == 409 and body["error"]["code"] == "offset_gap"
    ok = dict(batch, records=[good, row])
    code, body = http("POST", url + "/api/v1/ingest", json.dumps(ok).encode(), key=key)
    assert code == 200 and body["acked"] == 200
    code, body = http("POST", url + "/api/v1/ingest", json.dumps(ok).encode(), key=key)
    assert code == 200  # a resent batch changes nothing
    assert [r["_step"] for r in server.api().run("admin/mal/mal1").scan_history()] == [0]


def test_agent_falls_back_to_stored_login_when_env_key_is_refused(server, tmp_path):
    script = write_script(
        tmp_path,
        "rt.py",
        "import trackway\nr = trackway.init(project='keys')\n"
        "trackway.log({'a': 1})\ntrackway.finish()\nprint(r.id)\n",
    )
    done = run_py(
        tmp_path,
        script,
        script_env(server, TRACKWAY_API_KEY="tw_not_a_key", TRACKWAY_FINISH_TIMEOUT="0.5"),
    )
    run_id = done.stdout.strip().splitlines()[-1]
    wait_synced(run_dirs(tmp_path), timeout=20)
    assert [r["a"] for r in server.api().run(f"admin/keys/{run_id}").scan_history()] == [1]


def test_refused_key_is_reported_and_nothing_is_marked_synced(server, tmp_path):
    config = tmp_path / "empty-config"  # no stored login to fall back to
    env = script_env(
        server,
        TRACKWAY_API_KEY="tw_not_a_key",
        TRACKWAY_CONFIG_DIR=config,
        TRACKWAY_FINISH_TIMEOUT="3",
    )
    t0 = time.time()
    run_py(
        tmp_path,
        write_script(
            tmp_path,
            "bad.py",
            "import trackway\ntrackway.init(project='nokey')\n"
            "trackway.log({'a': 1})\ntrackway.finish()\n",
        ),
        env,
    )
    assert time.time() - t0 < 10  # finish() gives up early once the cursor reports the error
    (d,) = run_dirs(tmp_path)
    wait_for(
        lambda: (
            (d / "upload.json").exists() and json.loads((d / "upload.json").read_text())["error"]
        ),
        10,
        "the error in upload.json",
    )
    assert "unauthorized" in json.loads((d / "upload.json").read_text())["error"]
    status = subprocess.run([BIN, "status"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert "unauthorized" in status.stdout and "tw_not_a_key" not in status.stdout
    sync = subprocess.run(
        [BIN, "sync", str(d)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert sync.returncode != 0 and "unauthorized" in sync.stdout
    assert not (d / "synced").exists()


def test_agent_runs_capture_and_uploads_run_files(server, tmp_path):
    code = (
        "import time, trackway\nr = trackway.init(project='cap')\nopen(r.dir + '/notes.txt', 'w').write('hi')\n"
        "trackway.save(r.dir + '/notes.txt', policy='now')\nfor i in range(50):\n    trackway.log({'a': i})\n"
        "print('out line', flush=True)\ntrackway.finish()\nprint(r.id)\n"
    )
    done = run_py(tmp_path, write_script(tmp_path, "cap.py", code), script_env(server))
    run_id = done.stdout.strip().splitlines()[-1]
    wait_synced(run_dirs(tmp_path))
    names = set()

    def have_files():
        names.clear()
        status, body = http(
            "GET", f"{server.url}/api/v1/runs/admin/cap/{run_id}/files", key=server.key
        )
        names.update(f["path"] for f in (body or {}).get("files", []) if status == 200)
        return {"trackway-metadata.json", "requirements.txt", "output.log"} <= names and any(
            n.endswith("notes.txt") for n in names
        )

    wait_for(have_files, 30, "the run's files on the server")
    (d,) = run_dirs(tmp_path)
    if (d / "system.jsonl").exists():  # the stream the agent samples is uploaded like run.jsonl
        wait_for(
            lambda: (
                (d / "upload-system.json").exists()
                and json.loads((d / "upload-system.json").read_text())["offset"]
                == (d / "system.jsonl").stat().st_size
            ),
            30,
            "system.jsonl acknowledged",
        )


SAVES = r"""
import trackway
run = trackway.init(project="tgt")
open("model.txt", "w").write("weights v1")
trackway.save("model.txt", policy="now")
for i in range(20):
    trackway.log({"a": i})
trackway.finish()
print(run.id)
"""


def server_files(server: Server, path: str) -> dict:
    status, body = http("GET", f"{server.url}/api/v1/runs/{path}/files", key=server.key)
    return {f["path"]: f for f in body["files"]} if status == 200 else {}


def sync(tmp_path: Path, env: dict, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BIN, "sync", *map(str, args)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_sync_to_a_new_target_uploads_files_and_a_failed_file_is_retried(server, tmp_path):
    done = run_py(
        tmp_path, write_script(tmp_path, "t.py", SAVES), script_env(server, TRACKWAY_MODE="offline")
    )
    run_id = done.stdout.strip().splitlines()[-1]
    (d,) = run_dirs(tmp_path)
    model, rel = d / "files" / "model.txt", "model.txt"
    assert model.is_file() and not model.is_symlink()
    env = script_env(server)
    # A file that cannot be uploaded yet (here: a directory where the file should be) keeps the
    # run from being marked synced, and the next `sync` retries it; no marker to delete.
    model.unlink()
    model.mkdir()
    first = sync(tmp_path, env, d, "--retry-seconds", "2")
    assert first.returncode != 0 and "FAILED" in first.stdout, first.stdout + first.stderr
    assert not (d / "synced").exists(), "synced must mean the files too"
    assert rel not in server_files(server, f"admin/tgt/{run_id}")
    model.rmdir()
    model.write_text("weights v1")
    again = sync(tmp_path, env, d)
    assert again.returncode == 0 and "synced to admin/tgt/" in again.stdout, (
        again.stdout + again.stderr
    )
    own = server_files(server, f"admin/tgt/{run_id}")
    assert rel in own and "trackway-metadata.json" in own
    assert "already synced" in sync(tmp_path, env, d).stdout
    # The same run to a new target: without deleting `synced` or any cursor, the log and every
    # file arrive there; the first target is not touched again.
    other = sync(tmp_path, env, d, "--project", "moved", "--id", "copy2")
    assert other.returncode == 0 and "synced to admin/moved/copy2" in other.stdout, (
        other.stdout + other.stderr
    )
    copied = server_files(server, "admin/moved/copy2")
    assert set(own) <= set(copied), (own.keys(), copied.keys())
    assert copied[rel]["sha256"] == own[rel]["sha256"]
    assert [r["a"] for r in server.api().run("admin/moved/copy2").scan_history()] == list(range(20))
    assert "already synced" in sync(tmp_path, env, d, "--project", "moved", "--id", "copy2").stdout
    assert "already synced" in sync(tmp_path, env, d).stdout
    assert all(f["versions"] == 1 for f in server_files(server, f"admin/tgt/{run_id}").values())


def test_restarted_agent_uploads_the_files_and_finishes(server, tmp_path):
    # No agent during the run (the binary it would start does not exist): the log stays local.
    env = script_env(
        server, TRACKWAY_EXE=tmp_path / "no-such-binary", TRACKWAY_FINISH_TIMEOUT="0.2"
    )
    done = run_py(tmp_path, write_script(tmp_path, "t.py", SAVES), env)
    run_id = done.stdout.strip().splitlines()[-1]
    (d,) = run_dirs(tmp_path)
    # An agent that got the log to the server and died before the files and the marker.
    log_only = sync(tmp_path, script_env(server), d, "--no-files")
    assert log_only.returncode == 0, log_only.stdout + log_only.stderr
    (d / "synced").unlink()
    assert "model.txt" not in server_files(server, f"admin/tgt/{run_id}")
    # The next agent knows where the run lives from the cursor, uploads the files, marks the
    # run synced and exits on its own.
    root = tmp_path / "trackway"
    agent = subprocess.run(
        [BIN, "agent", "--root", str(root), "--idle-seconds", "1"],
        env=script_env(server),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert agent.returncode == 0, agent.stderr
    assert (d / "synced").exists()
    files = server_files(server, f"admin/tgt/{run_id}")
    assert "model.txt" in files and "trackway-metadata.json" in files
    # Once more, with everything uploaded: nothing is sent again and the agent still finishes.
    (d / "synced").unlink()
    agent = subprocess.run(
        [BIN, "agent", "--root", str(root), "--idle-seconds", "1"],
        env=script_env(server),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert agent.returncode == 0 and (d / "synced").exists(), agent.stderr
    assert all(f["versions"] == 1 for f in server_files(server, f"admin/tgt/{run_id}").values())
