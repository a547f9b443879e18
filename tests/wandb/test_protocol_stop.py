"""Stopping a run of the real wandb SDK from Trackway (`POST /api/v1/runs/.../stop`, the run
page's Stop button), as from wandb.ai: wandb-core learns of it from the filestream's answer
(`stopped: true`), its stop poll reports it and the SDK interrupts the script's main thread
(`KeyboardInterrupt`); the run ends `killed`."""

import json
import subprocess
import sys
import time
import urllib.request

from test_protocol import the_run, wandb_env

TRAIN = """
import time, wandb
from wandb.sdk.lib import run_stopping
# The SDK polls its stop status every 15 s and streams every 15 s: both every second here so
# the test waits less; the answer still comes from the server.
run_stopping.RunStopChecker.__init__.__kwdefaults__["poll_interval"] = 1.0
run = wandb.init(project="proto", id="stop1", settings=wandb.Settings(x_file_stream_transmit_interval=1))
try:
    for i in range(100000):
        run.log({"i": i})
        time.sleep(0.01)
    print("NOT STOPPED", flush=True)
except KeyboardInterrupt:
    print("INTERRUPTED", flush=True)
    run.finish(exit_code=255)
"""


def post_stop(server, path: str) -> dict:
    req = urllib.request.Request(
        f"{server.url}/api/v1/runs/{path}/stop",
        data=b"",
        method="POST",
        headers={"Authorization": f"Bearer {server.key}"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def test_stop_from_trackway_interrupts_the_wandb_script(server, api, tmp):
    script = tmp / "train.py"
    script.write_text(TRAIN)
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=tmp,
        env=wandb_env(tmp, server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if the_run(api, "proto", "stop1").lastHistoryStep is not None:
                    break
            except Exception:  # not created yet
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("the run's rows never arrived")
        asked = post_stop(server, "admin/proto/stop1")
        assert asked["state"] == "running" and asked["stop_requested_at"] is not None
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "INTERRUPTED" in out and "NOT STOPPED" not in out, out[-2000:] + err[-3000:]
    run = the_run(api, "proto", "stop1")
    assert run.state == "killed", run.state
    assert run.exit_code == 255
