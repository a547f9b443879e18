"""The real wandb SDK logs to a real Trackway server over wandb's own protocol (GraphQL,
filestream, upload URLs; docs/wandb-server.md). Each test runs a real script in the wandb venv
with WANDB_BASE_URL pointing at the server, then reads the run back through `trackway.Api` and
compares it value for value with what the script logged."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import clean_env

HERE = Path(__file__).resolve().parent
WANDB_CLI = str(Path(sys.executable).with_name("wandb"))


def wandb_env(tmp: Path, server, **extra) -> dict:
    env = clean_env(tmp, TRACKWAY_MODE=None, TRACKWAY_AGENT_IDLE_SECONDS=None)
    env.update(
        WANDB_BASE_URL=server.url,
        WANDB_API_KEY=server.key,
        WANDB_ENTITY="admin",
        WANDB_DIR=str(tmp),
        WANDB_SILENT="true",
        WANDB_DISABLE_GIT="true",
        WANDB__DISABLE_STATS="false",
    )
    # The test process's python/ path makes `trackway` importable; the script must see the
    # real wandb from the venv, never a shim, so python/ is left off its path.
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def run_wandb(tmp: Path, server, code: str, *, check=True, timeout=120, **extra):
    path = tmp / "script.py"
    path.write_text(code)
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp,
        env=wandb_env(tmp, server, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def the_run(api, project: str, run_id: str):
    return api.run(f"admin/{project}/{run_id}")


def rows(run) -> list[dict]:
    return list(run.scan_history())


SCALARS = """
import wandb
run = wandb.init(project="proto", id="scalars1", config={"lr": 0.1, "layers": [64, 32], "opt": {"name": "adam"}})
run.define_metric("acc", summary="max")
for i in range(5):
    run.log({"loss": 1.0 / (i + 1), "acc": [0.1, 0.5, 0.3, 0.2, 0.4][i]})
run.log({"jump": 1}, step=7)
run.log({"part": 2}, commit=False)
run.log({"rest": 3})
run.log({"big": 2**40, "neg": -1.5, "s": "text"})
run.config.update({"bs": 32})
run.summary["best"] = 0.9
print("hello from the script")
run.finish()
"""


def test_scalars_steps_config_summary_and_console(server, api, tmp):
    run_wandb(tmp, server, SCALARS)
    run = the_run(api, "proto", "scalars1")
    assert run.state == "finished"
    assert run.config == {"lr": 0.1, "layers": [64, 32], "opt": {"name": "adam"}, "bs": 32}
    got = [
        {k: v for k, v in r.items() if not k.startswith("_")} | {"_step": r["_step"]}
        for r in rows(run)
    ]
    assert got == [
        {"loss": 1.0, "acc": 0.1, "_step": 0},
        {"loss": 0.5, "acc": 0.5, "_step": 1},
        {"loss": 1 / 3, "acc": 0.3, "_step": 2},
        {"loss": 0.25, "acc": 0.2, "_step": 3},
        {"loss": 0.2, "acc": 0.4, "_step": 4},
        # wandb's rule: an explicit step stays open; commit=False and a plain log() add to it.
        {"jump": 1, "part": 2, "rest": 3, "_step": 7},
        {"big": 2**40, "neg": -1.5, "s": "text", "_step": 8},
    ]
    summary = dict(run.summary)
    assert summary["acc"] == {"max": 0.5}  # define_metric(summary="max") is wandb's rule
    assert summary["best"] == 0.9
    assert summary["loss"] == 0.2 and summary["rest"] == 3 and summary["_step"] == 8
    assert "_wandb" not in summary
    lines = [
        line["text"] for line in api._http.get("/api/v1/runs/admin/proto/scalars1/output")["lines"]
    ]
    assert "hello from the script" in lines


def test_a_wrong_key_is_refused_with_401(server, tmp):
    done = run_wandb(
        tmp,
        server,
        "import wandb\nwandb.init(project='proto', id='nokey')\n",
        check=False,
        timeout=120,
        WANDB_API_KEY="tw_" + "x" * 40,
    )
    assert done.returncode != 0
    out = done.stdout + done.stderr
    # 401 is not retried: init fails at once with wandb's communication error, carrying the
    # server's own message (wandb-core reads it from GraphQL's `errors`, else `<no message>`).
    assert "CommError" in out, out[-2000:]
    assert "invalid API key" in out and "<no message>" not in out, out[-2000:]
    assert "x" * 40 not in (server.tmp / "server.log").read_text()


MEDIA = """
import numpy as np, wandb
run = wandb.init(project="proto", id="media1")
pixels = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
run.log({"img": wandb.Image(pixels, caption="ramp")})
run.log({"tbl": wandb.Table(columns=["a", "b"], data=[[1, "x"], [2, "y"]])})
open("notes.txt", "w").write("saved by save()\\n")
run.save("notes.txt", policy="now")
run.finish()
"""


def download(api, run_id: str, path: str) -> bytes:
    import urllib.request

    req = urllib.request.Request(
        f"{api.base_url}/api/v1/runs/admin/proto/{run_id}/files/{path}",
        headers={"Authorization": f"Bearer {api.api_key}"},
    )
    with urllib.request.urlopen(req) as r:
        return r.read()


def test_images_tables_and_saved_files_land_in_the_run(server, api, tmp):
    run_wandb(tmp, server, MEDIA)
    run = the_run(api, "proto", "media1")
    history = rows(run)
    img = history[0]["img"]
    assert img["_type"] == "image-file" and (img["width"], img["height"]) == (6, 4)
    from PIL import Image

    png = Image.open(__import__("io").BytesIO(download(api, "media1", img["path"])))
    import numpy as np

    assert (np.asarray(png) == np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)).all()
    tbl = history[1]["tbl"]
    assert tbl["_type"] == "table-file"
    table = json.loads(download(api, "media1", tbl["path"]))
    assert table["columns"] == ["a", "b"] and table["data"] == [[1, "x"], [2, "y"]]
    assert download(api, "media1", "notes.txt") == b"saved by save()\n"
    files = {f["path"] for f in api._http.get("/api/v1/runs/admin/proto/media1/files")["files"]}
    assert {"wandb-metadata.json", "requirements.txt", "config.yaml", "wandb-summary.json"} <= files


def test_resume_continues_the_same_run(server, api, tmp):
    first = """
import wandb
run = wandb.init(project="proto", id="resume1", config={"a": 1})
for i in range(3):
    run.log({"x": i})
run.finish()
"""
    second = """
import wandb
run = wandb.init(project="proto", id="resume1", resume="must")
run.config.update({"b": 2})
for i in range(3, 5):
    run.log({"x": i})
run.finish()
"""
    run_wandb(tmp, server, first)
    run_wandb(tmp, server, second)
    run = the_run(api, "proto", "resume1")
    assert [(r["_step"], r["x"]) for r in rows(run)] == [(i, i) for i in range(5)]
    assert run.config == {"a": 1, "b": 2}
    assert run.state == "finished" and run.summary["x"] == 4


# The SDK writes its .wandb log in 32 KiB blocks (0.30 flushes only whole blocks), so the
# script logs a few hundred KiB and gives wandb-core a moment before the kill.
KILLED = """
import os, signal, time, wandb
run = wandb.init(project="proto", id="killed1", mode="offline", config={"k": 1})
for i in range(3000):
    run.log({"v": i * 0.5, "w": i, "u": -i})
print("before the kill")
time.sleep(2)
os.kill(os.getpid(), signal.SIGKILL)
"""


def run_sync(tmp: Path, server) -> subprocess.CompletedProcess:
    dirs = sorted(str(p) for p in (tmp / "wandb").glob("offline-run-*"))
    assert dirs, list((tmp / "wandb").iterdir())
    done = subprocess.run(
        [WANDB_CLI, "sync", *dirs],
        cwd=tmp,
        env=wandb_env(tmp, server),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def test_offline_run_killed_with_sigkill_then_synced(server, api, tmp):
    done = run_wandb(tmp, server, KILLED, check=False)
    assert done.returncode == -signal.SIGKILL
    run_sync(tmp, server)
    run = the_run(api, "proto", "killed1")
    got = [(r["_step"], r["v"], r["w"], r["u"]) for r in rows(run)]
    # Everything the SDK had written to its .wandb log before the kill; wandb flushes the log
    # in blocks, so the tail may be short, never wrong.
    assert len(got) > 100 and got == [(i, i * 0.5, i, -i) for i in range(len(got))]
    assert run.config == {"k": 1}


def test_offline_run_synced(server, api, tmp):
    code = """
import wandb
run = wandb.init(project="proto", id="offline1", mode="offline", config={"o": "yes"})
for i in range(10):
    run.log({"m": i * i})
run.summary["final"] = "done"
run.finish()
"""
    run_wandb(tmp, server, code)
    run_sync(tmp, server)
    run = the_run(api, "proto", "offline1")
    assert [(r["_step"], r["m"]) for r in rows(run)] == [(i, i * i) for i in range(10)]
    assert run.config == {"o": "yes"}
    assert run.summary["final"] == "done" and run.summary["m"] == 81
    assert run.state == "finished"


RESTARTED = """
import os, time, wandb
run = wandb.init(project="proto", id="restart1", settings=wandb.Settings(x_file_stream_transmit_interval=0.2))
for i in range(20):
    run.log({"i": i})
time.sleep(1)  # the first half reaches the server
open("half", "w").close()
while not os.path.exists("go"):
    time.sleep(0.05)
for i in range(20, 40):
    run.log({"i": i})
run.finish()
"""


def test_a_server_restart_mid_run_loses_nothing(tmp):
    from conftest import Server

    own = tmp / "own"
    (own / "home").mkdir(parents=True)
    srv = Server(own).start()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", RESTARTED],
            cwd=tmp,
            env=wandb_env(tmp, srv),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.time() + 60
        while not (tmp / "half").exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert (tmp / "half").exists(), proc.communicate()[0][-3000:]
        srv.stop(signal.SIGKILL)  # no graceful shutdown: only what was acknowledged survives
        srv.start()
        (tmp / "go").touch()
        out, _ = proc.communicate(timeout=180)
        assert proc.returncode == 0, out[-3000:]
        import trackway

        run = trackway.Api(base_url=srv.url, api_key=srv.key).run("admin/proto/restart1")
        assert [(r["_step"], r["i"]) for r in rows(run)] == [(i, i) for i in range(40)]
        assert run.state == "finished"
    finally:
        srv.stop()
