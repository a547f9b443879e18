"""`trackway import mlflow`: a tracking store written by the real `mlflow` package (the file
store, the SQLite store, MLflow 3's default, and a running `mlflow server` read through its REST
API, artifacts included) becomes Trackway runs with the same ids:
params -> config, metrics -> history by step, tags -> config `mlflow.tags` and run tags,
artifacts -> files."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import run_script, trackway_bin

MLFLOW = """
import mlflow
mlflow.set_tracking_uri("{uri}")
mlflow.set_experiment("{exp}")
with mlflow.start_run(run_name="first") as run:
    mlflow.log_params({{"lr": 0.001, "layers": 4, "opt": "adam", "nested/key": "v"}})
    mlflow.set_tags({{"team": "vision", "stage": "dev"}})
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metric("acc", 0.5 + step / 10, step=step)
    with open("{tmp}/notes.txt", "w") as f:
        f.write("artifact body")
    mlflow.log_artifact("{tmp}/notes.txt", artifact_path="docs")
    print("MLFLOW_RUN_ID=" + run.info.run_id)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mlflow_server(tmp, env):
    """`mlflow server` on a SQLite store, serving (proxying) artifacts; its address."""
    port = free_port()
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--backend-store-uri", f"sqlite:///{tmp}/server.db", "--workers", "1"]
    cmd += ["--artifacts-destination", str(tmp / "served-artifacts")]
    log = open(tmp / "mlflow-server.log", "w")  # closed by the fixture, after the process
    # Its own process group: the server runs its workers as child processes.
    proc = subprocess.Popen(
        cmd, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as r:
                if r.status == 200:
                    return proc, log, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError("mlflow server did not start: " + (tmp / "mlflow-server.log").read_text())


@pytest.fixture
def tracking_uri(request, tmp, online_env):
    online_env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")  # no network here
    kind = request.param
    if kind != "server":
        yield f"file:{tmp}/mlruns" if kind == "file" else f"sqlite:///{tmp}/mlflow.db"
        return
    proc, log, url = mlflow_server(tmp, online_env)
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)
    log.close()


@pytest.mark.parametrize(
    ("kind", "tracking_uri"),
    [(k, k) for k in ("file", "sqlite", "server")],
    indirect=["tracking_uri"],
)
def test_mlflow_import_round_trip(tmp, online_env, api, kind, tracking_uri):
    # MLflow 3 keeps the file store behind this switch (its default is now a database).
    online_env["MLFLOW_ALLOW_FILE_STORE"] = "true"
    uri = tracking_uri
    exp = f"mnist-{kind}"
    done = run_script(tmp, MLFLOW.format(tmp=tmp, uri=uri, exp=exp), env=online_env, timeout=300)
    # mlflow prints its own lines too ("View experiment at: ..." with a tracking server)
    mlflow_id = next(
        line.split("=", 1)[1]
        for line in done.stdout.splitlines()
        if line.startswith("MLFLOW_RUN_ID=")
    )

    def do_import():
        out = subprocess.run(
            [trackway_bin(), "import", "mlflow", uri, "--dir", str(tmp / "trackway")],
            env=online_env,
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert out.returncode == 0, out.stderr + out.stdout
        return out.stdout

    do_import()
    run = api.run(f"admin/{exp}/{mlflow_id}")
    assert run.name == "first"
    assert run.state == "finished"
    assert run.config["lr"] == pytest.approx(0.001)
    assert run.config["layers"] == 4
    assert run.config["opt"] == "adam"
    assert run.config["nested/key"] == "v"
    assert run.config["mlflow.tags"]["team"] == "vision"
    assert "team=vision" in run.tags and "stage=dev" in run.tags
    rows = list(run.scan_history())
    assert [r["_step"] for r in rows] == [0, 1, 2, 3, 4]
    assert [r["loss"] for r in rows] == [pytest.approx(1.0 / (s + 1)) for s in range(5)]
    assert [r["acc"] for r in rows] == [pytest.approx(0.5 + s / 10) for s in range(5)]
    files = api._http.get(f"/api/v1/runs/admin/{exp}/{mlflow_id}/files")
    names = [
        f.get("path") or f.get("name")
        for f in (files.get("files") if isinstance(files, dict) else files)
    ]
    assert "artifacts/docs/notes.txt" in names

    again = do_import()  # idempotent: nothing new is written or sent
    assert "0 rows, 0 points, 0 files" in again, again
    assert len(list(api.run(f"admin/{exp}/{mlflow_id}").scan_history())) == 5
