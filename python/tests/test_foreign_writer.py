"""A program in another language (Node.js, standard library only) writes a run log by following
docs/run-format.md; the `trackway` binary must read exactly the values it wrote.

Fails (never skips) when node or the binary is missing: CI has both.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import trackway_bin

REPO = Path(__file__).resolve().parents[2]
NODE_EXAMPLE = REPO / "examples" / "node" / "log.mjs"


def node() -> str:
    exe = shutil.which("node")
    if exe is None:
        pytest.fail("node is required for the foreign-writer test")
    return exe


def test_node_written_run_reads_back_exactly(tmp_path):
    root = tmp_path / "trackway"
    out = subprocess.run(
        [node(), str(NODE_EXAMPLE), str(root), "nodeabc"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    run_dir = Path(out.stdout.strip())
    assert run_dir.parent == root and run_dir.name.endswith("-nodeabc")
    assert (run_dir / "files").is_dir()

    show = subprocess.run(
        [trackway_bin(), "runs", "show", str(run_dir), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    got = json.loads(show.stdout)
    assert got["run_id"] == "nodeabc"
    assert got["project"] == "node-example"
    assert got["name"] == "from-node"
    assert got["tags"] == ["node", "stdlib"]
    assert got["state"] == "finished" and got["exit_code"] == 0
    assert got["rows"] == 3 and got["last_step"] == 2
    assert got["corrupt_lines"] == 0
    # Values are printed in Trackway JSON: tagged NaN and big ints, floats keep their dot.
    assert got["config"] == {
        "lr": 0.001,
        "layers": 4,
        "optimizer": "adam",
        "schedule": {"warmup": 1.0, "steps": [100, 200]},
    }
    assert isinstance(got["config"]["schedule"]["warmup"], float)
    assert got["summary"] == {
        "loss": 0.125,
        "acc": 0.5,
        "eval/loss": 0.75,
        "best": {"$f": "NaN"},
        "big": {"$int": str(2**70)},
    }
    assert '"warmup": 1.0' in show.stdout

    listing = subprocess.run(
        [trackway_bin(), "runs", "ls", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    runs = json.loads(listing.stdout)
    assert [r["run_id"] for r in runs] == ["nodeabc"]


def test_node_rows_merge_and_values_round_trip(tmp_path):
    """The history rows, read with the native reader: fragments of one step merge, NaN, -inf,
    big ints and tag-looking user maps come back exactly."""
    import math

    from trackway import _native

    root = tmp_path / "trackway"
    out = subprocess.run(
        [node(), str(NODE_EXAMPLE), str(root), "rows"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    run_dir = out.stdout.strip()
    lines = [json.loads(x) for x in Path(run_dir, "run.jsonl").read_text().splitlines()]
    hist = [x for x in lines if x["t"] == "history"]
    assert [h["step"] for h in hist] == [0, 1, 1, 2]
    assert hist[3]["data"]["tag"] == {"$map": {"$f": "not a float"}}
    st = _native.load_run_state(run_dir)
    assert st["row_count"] == 3 and st["finished"] is True
    assert math.isnan(st["summary"]["best"])
    assert st["summary"]["big"] == 2**70


def test_node_image_is_encoded_by_sync_and_served_pixel_exact(tmp_path):
    """The node example logs a 2x2 image as raw pixels plus a `media` record; `trackway sync`
    encodes the PNG, uploads it, and the server returns exactly those pixels."""
    import io
    import signal
    import urllib.request

    from PIL import Image as PILImage

    from conftest import Server

    root = tmp_path / "trackway"
    out = subprocess.run(
        [node(), str(NODE_EXAMPLE), str(root), "nodeimg"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    run_dir = Path(out.stdout.strip())
    server = Server(tmp_path).start()
    try:
        env = dict(server.env(), TRACKWAY_BASE_URL=server.url)
        done = subprocess.run(
            [trackway_bin(), "sync", str(run_dir)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        hist = [json.loads(x) for x in (run_dir / "run.jsonl").read_text().splitlines()]
        ref = [h for h in hist if h["t"] == "history" and "sample" in h["data"]][0]["data"][
            "sample"
        ]
        url = f"{server.url}/api/v1/runs/admin/node-example/nodeimg/files/{ref['path']}"
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {server.key}"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            png = resp.read()
        pixels = PILImage.open(io.BytesIO(png)).convert("RGB").tobytes()
        assert pixels == bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
        assert not (run_dir / "files" / (ref["path"] + ".raw")).exists()
    finally:
        server.stop(signal.SIGKILL)
