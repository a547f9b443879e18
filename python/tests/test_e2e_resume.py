"""End to end against a real server: resuming a run from another directory (issue 9 item 6),
an agent killed mid-run (item 9), files saved from a temporary directory (item 13) and a
`trackway sync` racing the live agent (item 14)."""

import json
import os
import signal
import subprocess
import sys

import pytest

from test_e2e_agent import (
    BIN,
    Server,
    agent_pid,
    run_dirs,
    run_py,
    script_env,
    server_files,
    stop_agent,
    wait_for,
    wait_synced,
    write_script,
)


@pytest.fixture
def srv(tmp_path):
    s = Server(tmp_path).start()
    yield s
    s.stop(signal.SIGKILL)
    for lock in tmp_path.rglob("agent.lock"):
        stop_agent(lock.parent)


WRITER = r"""
import sys, trackway
w, n = int(sys.argv[1]), int(sys.argv[2])
run = trackway.init(project="res", id="collide", resume="allow", config={f"w{w}": w})
print(json.dumps({"start": run.step, "config": dict(run.config)}), flush=True)
for i in range(n):
    trackway.log({"writer": w, "i": i})
trackway.finish()
""".replace("import sys,", "import json, sys,")


def writer(srv, root, w, n, **env):
    root.mkdir(exist_ok=True)
    script = write_script(root, "w.py", WRITER)
    env = script_env(srv, TRACKWAY_FINISH_TIMEOUT="30", **env)
    return subprocess.Popen(
        [sys.executable, str(script), str(w), str(n)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def history(srv):
    run = srv.api().run("admin/res/collide")
    return run, list(run.scan_history(page_size=5000))


def row_count(run):
    return run._attrs["row_count"]


def test_resume_from_another_directory_continues_after_the_servers_rows(srv, tmp_path):
    a = writer(srv, tmp_path / "a", 1, 300)
    _, err_a = a.communicate(timeout=120)
    assert a.returncode == 0, err_a
    wait_synced(run_dirs(tmp_path / "a"))
    b = writer(srv, tmp_path / "b", 2, 300)
    out_b, err_b = b.communicate(timeout=120)
    assert b.returncode == 0, err_b
    wait_synced(run_dirs(tmp_path / "b"))
    started = json.loads(out_b.splitlines()[0])
    assert started["start"] == 300  # learned from the server: steps continue at last + 1
    assert started["config"] == {"w1": 1, "w2": 2}  # the run's config restored, then updated
    run, rows = history(srv)
    assert [(r["_step"], r["writer"], r["i"]) for r in rows] == [(s, 1, s) for s in range(300)] + [
        (300 + i, 2, i) for i in range(300)
    ]
    assert row_count(run) == len(rows) == 600  # 0 of writer 1's rows overwritten
    assert "dropped" not in err_b


def test_four_concurrent_writers_never_overwrite_an_acknowledged_row(srv, tmp_path):
    n = 400
    procs = [writer(srv, tmp_path / f"w{w}", w, n) for w in range(4)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [e for _, e in outs]
    dirs = [d for w in range(4) for d in run_dirs(tmp_path / f"w{w}")]
    wait_synced(dirs)
    run, rows = history(srv)
    dropped = [json.loads((d / "upload.json").read_text()).get("dropped", 0) for d in dirs]
    # Every row a writer logged was either kept or dropped (and reported), never applied and
    # then replaced by another writer's row: kept + dropped == written, for all four together.
    overwritten = 4 * n - sum(dropped) - len(rows)
    print(
        f"4 writers x {n} rows: {len(rows)} kept, {sum(dropped)} dropped, "
        f"{overwritten} overwritten, row_count {row_count(run)}"
    )
    assert overwritten == 0
    assert row_count(run) == len(rows)
    steps = [r["_step"] for r in rows]
    assert steps == sorted(set(steps))
    for w, (_, err) in enumerate(outs):
        if dropped[w]:
            assert "dropped" in err, err  # the writer was told


KILLED_AGENT = r"""
import time, trackway
run = trackway.init(project="kill", id="kagent")
print(run.id, flush=True)
for i in range(20000):
    trackway.log({"i": i})
    if i % 1000 == 0:
        time.sleep(0.2)
trackway.finish()
"""


def test_a_killed_agent_is_restarted_and_every_row_arrives(srv, tmp_path):
    env = script_env(srv, TRACKWAY_FINISH_TIMEOUT="30")
    proc = subprocess.Popen(
        [sys.executable, str(write_script(tmp_path, "k.py", KILLED_AGENT))],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.readline()
    root = tmp_path / "trackway"
    wait_for(lambda: agent_pid(root) and (root / "agent.lock").exists(), 30, "agent")
    first = agent_pid(root)
    os.kill(first, signal.SIGKILL)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    (d,) = run_dirs(tmp_path)
    wait_synced([d], timeout=60)
    assert agent_pid(root) != first
    rows = list(srv.api().run("admin/kill/kagent").scan_history(page_size=5000))
    assert [r["i"] for r in rows] == list(range(20000))
    assert "upload continues" not in err


SAVED_THEN_DELETED = r"""
import os, shutil, tempfile, trackway
src = tempfile.mkdtemp(dir=".")
for name in ("model.txt", "gone.txt"):
    with open(os.path.join(src, name), "w") as f:
        f.write(name)
run = trackway.init(project="files", id="saved1")
trackway.save(os.path.join(src, "*.txt"), base_path=src, policy="end")
os.remove(os.path.join(src, "gone.txt"))
trackway.finish()
shutil.rmtree(src)
"""


def test_offline_saved_file_survives_its_source_and_sync_reports_the_lost_one(srv, tmp_path):
    script = write_script(tmp_path, "s.py", SAVED_THEN_DELETED)
    env = script_env(srv, TRACKWAY_MODE="offline")
    done = run_py(tmp_path, script, env)
    assert "gone.txt could not be kept" in done.stderr
    (d,) = run_dirs(tmp_path)
    sync = subprocess.run(
        [BIN, "sync", str(d)], env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert sync.returncode == 0, sync.stderr
    assert "gone.txt" in sync.stderr and "cannot be uploaded" in sync.stderr
    files = server_files(srv, "admin/files/saved1")
    assert "model.txt" in files and "gone.txt" not in files


LIVE = r"""
import sys, time, trackway
run = trackway.init(project="race", id="live1")
print(run.id, flush=True)
for i in range(200):
    trackway.log({"i": i})
sys.stdin.readline()
trackway.finish()
"""


def test_sync_does_not_race_the_live_agent_for_the_upload(srv, tmp_path):
    env = script_env(srv, TRACKWAY_FINISH_TIMEOUT="30")
    proc = subprocess.Popen(
        [sys.executable, str(write_script(tmp_path, "l.py", LIVE))],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.readline()
    (d,) = run_dirs(tmp_path)
    wait_for(lambda: (d / "upload.json").exists(), 30, "the agent's first upload")
    sync = subprocess.run(
        [BIN, "sync", str(d), "--retry-seconds", "1"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert sync.returncode != 0 and "agent is uploading" in sync.stdout, sync.stdout + sync.stderr
    proc.communicate("\n", timeout=120)
    wait_synced([d])
    again = subprocess.run(
        [BIN, "sync", str(d)], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert [r["i"] for r in srv.api().run("admin/race/live1").scan_history()] == list(range(200))


OFFLINE_CAPTURED = r"""
import time, trackway
run = trackway.init(project="offcap", id="offcap1")
for i in range(20):
    trackway.log({"i": i})
    time.sleep(0.05)
trackway.finish()
"""


def test_offline_runs_are_captured_and_sync_uploads_the_capture(srv, tmp_path):
    env = script_env(
        srv,
        TRACKWAY_MODE="offline",
        TRACKWAY_STATS_SAMPLE_SECONDS="0.05",
        TRACKWAY_STATS_WINDOW_SECONDS="0.2",
    )
    run_py(tmp_path, write_script(tmp_path, "off.py", OFFLINE_CAPTURED), env)
    (d,) = run_dirs(tmp_path)

    def stats_lines():
        path = d / "system.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [ln for ln in lines if '"t":"stats"' in ln]

    # Captured locally, with no server involved: the agent of the offline run did it.
    wait_for(
        lambda: (d / "files" / "trackway-metadata.json").exists() and stats_lines(),
        30,
        "the offline run's metadata and system metrics",
    )
    assert not (d / "upload.json").exists()  # nothing was uploaded
    sync = subprocess.run(
        [BIN, "sync", str(d)], env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert sync.returncode == 0, sync.stdout + sync.stderr
    assert "trackway-metadata.json" in server_files(srv, "admin/offcap/offcap1")
    wait_for(
        lambda: (
            (d / "upload-system.json").exists()
            and json.loads((d / "upload-system.json").read_text())["offset"]
            == (d / "system.jsonl").stat().st_size
        ),
        30,
        "system.jsonl acknowledged",
    )
