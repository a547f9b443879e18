"""End to end: a real script logs every kind of rich value; the agent encodes the images and
uploads the media files (online), or `trackway sync` does later (offline); the values come back
through `trackway.Api` and the media routes of docs/media-api.md, the image pixel-exact.
"""

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from conftest import PYDIR, Server, trackway_bin
from trackway.apis import Api

BIN = trackway_bin()

SCRIPT = """
import numpy as np, trackway as wandb
import plotly.graph_objects as go
run = wandb.init(project="media")
arr = (np.arange(16 * 24 * 3) * 5 % 256).astype(np.uint8).reshape(16, 24, 3)
for step in range(3):
    wandb.log({"img": wandb.Image(np.roll(arr, step, axis=1), caption=f"s{step}"),
               "grads": np.linspace(0, step + 1, 100), "loss": 1.0 / (step + 1)})
t = wandb.Table(columns=["id", "img", "label", "score"])
for i in range(30):
    cell = wandb.Image(np.full((2, 2, 3), i, dtype=np.uint8)) if i % 10 == 0 else None
    t.add_data(i, cell, "dog" if i % 3 == 0 else "cat", float(i % 7))
open("m.pdb", "w").write("ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N\\n")
wandb.log({
    "preds": t,
    "imgs": [wandb.Image(arr), wandb.Image(arr[:4, :4], caption="crop")],
    "audio": wandb.Audio(np.zeros(400), sample_rate=4000),
    "video": wandb.Video(np.zeros((2, 3, 4, 4), dtype=np.uint8), fps=1),
    "html": wandb.Html("<b>x</b>"),
    "plotly": go.Figure(data=[go.Bar(y=[1, 2])]),
    "cloud": wandb.Object3D(np.zeros((5, 3))),
    "mol": wandb.Molecule("m.pdb"),
    "roc": wandb.plot.roc_curve([0, 1, 1, 0], [[.9, .1], [.2, .8], [.4, .6], [.7, .3]]),
})
run.finish()
print(run.id)
"""


def expected_image(step: int) -> np.ndarray:
    arr = (np.arange(16 * 24 * 3) * 5 % 256).astype(np.uint8).reshape(16, 24, 3)
    return np.roll(arr, step, axis=1)


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path).start()
    yield s
    s.stop(signal.SIGKILL)
    for lock in tmp_path.rglob("agent.lock"):
        try:
            pid = int(lock.read_text().strip() or 0)
            if pid and b"agent" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass


def env_for(server, mode: str) -> dict:
    env = server.env()
    env.update(
        PYTHONPATH=str(PYDIR),
        TRACKWAY_EXE=BIN,
        TRACKWAY_BASE_URL=server.url,
        TRACKWAY_AGENT_IDLE_SECONDS="3",
        TRACKWAY_MODE=mode,
    )
    return env


def run_script(tmp: Path, env: dict) -> str:
    (tmp / "media.py").write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, str(tmp / "media.py")],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


def wait_synced(run_dir: Path, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if (run_dir / "synced").exists():
            return
        time.sleep(0.1)
    raise AssertionError(f"{run_dir} was not synced within {timeout}s")


def get(server, path: str, doc=None):
    req = urllib.request.Request(
        server.url + path,
        method="POST" if doc is not None else "GET",
        data=None if doc is None else json.dumps(doc).encode(),
        headers={"Authorization": f"Bearer {server.key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = resp.read()
            return resp.status, (
                json.loads(body) if "json" in resp.headers.get("Content-Type", "") else body
            )
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def q(**params) -> str:
    return urllib.parse.urlencode(params)


def check_server_side(server, run_id: str):
    base = f"/api/v1/runs/admin/media/{run_id}"
    rows = list(
        Api(base_url=server.url, api_key=server.key, timeout=30)
        .run(f"admin/media/{run_id}")
        .scan_history()
    )
    assert len(rows) == 4
    img = rows[1]["img"]
    assert (
        img["_type"] == "image-file"
        and (img["width"], img["height"]) == (24, 16)
        and img["caption"] == "s1"
    )
    assert rows[2]["grads"]["_type"] == "histogram" and len(rows[2]["grads"]["values"]) == 32
    last = rows[3]
    assert last["preds"]["_type"] == "table-file" and last["imgs"]["_type"] == "images/separated"
    assert last["roc"]["_type"] == "custom-chart" and last["roc_table"]["_type"] == "table-file"

    # Every image over steps, pixel-exact after the agent's PNG encoding.
    status, page = get(server, f"{base}/media?{q(key='img')}")
    assert status == 200 and [i["step"] for i in page["items"]] == [0, 1, 2], page
    for item in page["items"]:
        value = item["value"]
        assert value["uploaded"] is True and value["size"] > 0 and len(value["sha256"]) == 64
        status, png = get(server, value["url"])
        assert status == 200 and png[:4] == b"\x89PNG"
        assert np.array_equal(
            np.asarray(PILImage.open(io.BytesIO(png))), expected_image(item["step"])
        )
    status, page = get(server, f"{base}/media?{q(key='imgs')}")
    (item,) = page["items"]
    assert len(item["value"]["urls"]) == 2 and item["value"]["images"][1]["caption"] == "crop"
    assert all(i["uploaded"] for i in item["value"]["images"])

    status, keys = get(server, f"{base}/media/keys")
    kinds = {k["key"]: (k["type"], k["count"]) for k in keys["keys"]}
    assert kinds["img"] == ("image-file", 3) and kinds["grads"] == ("histogram", 3)
    assert kinds["preds"] == ("table-file", 1) and kinds["roc"] == ("custom-chart", 1)
    for key, kind in (
        ("audio", "audio-file"),
        ("video", "video-file"),
        ("html", "html-file"),
        ("plotly", "plotly-file"),
        ("cloud", "object3D-file"),
        ("mol", "molecule-file"),
        ("imgs", "images/separated"),
    ):
        assert kinds[key][0] == kind, key
    assert "loss" not in kinds

    # A table, filtered, sorted and paged by the server; media cells come with their URL.
    status, table = get(
        server,
        f"{base}/tables?"
        + q(
            key="preds",
            sort="score",
            order="desc",
            limit=4,
            filter=json.dumps({"label": {"$eq": "dog"}}),
        ),
    )
    assert status == 200, table
    assert (
        table["columns"] == ["id", "img", "label", "score"]
        and table["nrows"] == 30
        and table["total"] == 10
    )
    scores = [r["cells"][3] for r in table["rows"]]
    assert len(scores) == 4 and scores == sorted(scores, reverse=True) and scores[0] == 6.0
    status, table = get(
        server, f"{base}/tables?" + q(key="preds", filter=json.dumps({"id": {"$in": [0, 10]}}))
    )
    cells = [r["cells"][1] for r in table["rows"]]
    assert [r["index"] for r in table["rows"]] == [0, 10] and all(c["uploaded"] for c in cells)
    status, png = get(server, cells[1]["url"])
    assert np.array_equal(
        np.asarray(PILImage.open(io.BytesIO(png))), np.full((2, 2, 3), 10, dtype=np.uint8)
    )
    status, err = get(
        server, f"{base}/tables?" + q(key="preds", filter=json.dumps({"nope": {"$eq": 1}}))
    )
    assert status == 400 and err["error"]["code"] == "invalid_filter"
    status, err = get(server, f"{base}/tables?" + q(key="loss"))
    assert status == 400 and err["error"]["code"] == "bad_request"
    status, chart = get(server, f"{base}/tables?" + q(key="roc"))
    assert status == 200 and chart["columns"] == ["class", "fpr", "tpr"] and chart["total"] > 2

    status, hist = get(server, f"{base}/histograms?" + q(key="grads"))
    assert (
        status == 200 and hist["steps"] == [0, 1, 2] and hist["min"] == 0.0 and hist["max"] == 3.0
    )
    assert all(len(h["bins"]) == 33 and sum(h["values"]) == 100 for h in hist["histograms"])

    status, multi = get(
        server,
        "/api/v1/media/query",
        {
            "runs": [
                {"entity": "admin", "project": "media", "run_id": run_id},
                {"entity": "admin", "project": "media", "run_id": "missing"},
            ],
            "key": "img",
            "steps": 2,
        },
    )
    assert status == 200
    assert [i["step"] for i in multi["runs"][0]["items"]] == [0, 2] and multi["runs"][0][
        "error"
    ] is None
    assert multi["runs"][1]["items"] == [] and multi["runs"][1]["error"]["code"] == "run_not_found"

    for key, magic in (("audio", b"RIFF"), ("video", b"GIF8"), ("html", b"<hea"), ("mol", b"ATOM")):
        status, body = get(server, f"{base}/files/{last[key]['path']}")
        assert status == 200 and body[: len(magic)] == magic, key
    status, figure = get(server, f"{base}/files/{last['plotly']['path']}")  # served as JSON
    assert status == 200 and figure["data"][0]["type"] == "bar"
    status, cloud = get(server, f"{base}/files/{last['cloud']['path']}")
    assert status == 200 and cloud == [[0.0, 0.0, 0.0]] * 5


def test_online_media_round_trip(server, tmp_path):
    run_id = run_script(tmp_path, env_for(server, "online"))
    (run_dir,) = (tmp_path / "trackway").glob("run-*")
    wait_synced(run_dir)
    assert not list((run_dir / "files" / "media" / "images").glob("*.raw"))  # encoded, then removed
    check_server_side(server, run_id)


def test_offline_media_then_sync(server, tmp_path):
    run_id = run_script(tmp_path, env_for(server, "offline"))
    (run_dir,) = (tmp_path / "trackway").glob("run-*")
    # The offline run's own agent may already have encoded the PNGs locally; sync uploads them.
    done = subprocess.run(
        [BIN, "sync", str(run_dir)],
        cwd=tmp_path,
        env=env_for(server, "online"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    check_server_side(server, run_id)
