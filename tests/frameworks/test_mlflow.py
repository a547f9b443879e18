"""`trackway import mlflow`: a tracking store written by the real `mlflow` package (the file
store and the SQLite store, MLflow 3's default) becomes Trackway runs with the same ids:
params -> config, metrics -> history by step, tags -> config `mlflow.tags` and run tags,
artifacts -> files."""

import subprocess

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
    print(run.info.run_id)
"""


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_mlflow_import_round_trip(tmp, online_env, api, kind):
    # MLflow 3 keeps the file store behind this switch (its default is now a database).
    online_env["MLFLOW_ALLOW_FILE_STORE"] = "true"
    uri = f"file:{tmp}/mlruns" if kind == "file" else f"sqlite:///{tmp}/mlflow.db"
    exp = f"mnist-{kind}"
    done = run_script(tmp, MLFLOW.format(tmp=tmp, uri=uri, exp=exp), env=online_env, timeout=300)
    mlflow_id = done.stdout.strip().splitlines()[-1]

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
