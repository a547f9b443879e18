"""Stopping a run from the UI or the API (`POST /api/v1/runs/.../stop`, wandb's "Stop run").

A real server, a real training script logging online and its real agent: the agent learns of the
stop from the server's ingest answer and interrupts the training process as wandb's SDK does
(SIGINT, so `KeyboardInterrupt` in the main thread); the run ends `killed`, a finished run refuses
another stop (409) and a resume clears the request.
"""

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from test_e2e_agent import Server, script_env, stop_agent, wait_for, write_script

TRAIN = """
import time
import trackway as wandb

run = wandb.init(project="stops", id="stopme")
try:
    for i in range(100000):
        run.log({"i": i})
        time.sleep(0.01)
    print("NOT STOPPED", flush=True)
except KeyboardInterrupt:
    print("INTERRUPTED at", i, flush=True)
    raise
"""

RESUME = """
import trackway as wandb

run = wandb.init(project="stops", id="stopme", resume="must")
run.log({"i": -1})
run.finish()
"""


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path).start()
    yield s
    s.stop(signal.SIGKILL)
    for lock in tmp_path.rglob("agent.lock"):
        stop_agent(lock.parent)


def post_stop(server, path: str) -> tuple[int, dict]:
    req = urllib.request.Request(
        f"{server.url}/api/v1/runs/{path}/stop",
        data=b"",
        method="POST",
        headers={"Authorization": f"Bearer {server.key}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def test_stop_interrupts_the_training_process_and_the_run_ends_killed(server, tmp_path):
    env = script_env(server)
    train = write_script(tmp_path, "train.py", TRAIN)
    proc = subprocess.Popen(
        [sys.executable, str(train)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    api = server.api()
    try:

        def logging() -> bool:
            try:
                return api.run("admin/stops/stopme").lastHistoryStep is not None
            except Exception:  # not created yet
                return False

        wait_for(logging, 60, "the run's first rows on the server")
        status, body = post_stop(server, "admin/stops/stopme")
        assert status == 200, body
        assert body["state"] == "running" and body["stop_requested_at"] is not None
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "INTERRUPTED at" in out, f"stdout:\n{out}\nstderr:\n{err}"
    assert "NOT STOPPED" not in out
    assert proc.returncode != 0, "KeyboardInterrupt ends the script"

    def killed() -> bool:
        return api.run("admin/stops/stopme").state == "killed"

    wait_for(killed, 60, "the run to end `killed`")
    status, body = post_stop(server, "admin/stops/stopme")
    assert status == 409 and body["error"]["code"] == "conflict", body

    resume = write_script(tmp_path, "resume.py", RESUME)
    done = subprocess.run(
        [sys.executable, str(resume)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    wait_for(
        lambda: api.run("admin/stops/stopme").state == "finished", 60, "the resumed run to finish"
    )
    assert api.run("admin/stops/stopme")._attrs["stop_requested_at"] is None, "a resume clears it"
