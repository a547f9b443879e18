#!/usr/bin/env python3
"""Cost of logging images in the training process (issue 10), measured in ONE run.

1. `log({"img": Image(a)})` of a 224x224x3 uint8 array, offline, per call, against `np.save` of
   the same array to the same disk (calls alternate, every array distinct so content addressing
   saves nothing). Target: median ratio <= 2.
2. 1,000 such images over an online run against a real server: a training loop of fixed work
   per step, first without logging, then logging one image per step; the slowdown of the loop
   (target <= 5 %) and the time until the last image is on the server after the loop ends.
3. Server side, for the UI panels: one media query for 16 runs x 100 steps of images, and one
   sorted, filtered page of a 10,000-row table (median of 20 requests each, on a local server).

Usage: python bench/media_bench.py [--calls N] [--images N] [--work-ms MS]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e_bench import PYDIR, Server, run_script, stop_agent

sys.path.insert(0, str(PYDIR))


def bench_log_vs_save(tmp: Path, calls: int) -> tuple[float, float]:
    import trackway

    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, (224, 224, 3), dtype=np.uint8) for _ in range(calls)]
    run = trackway.init(
        mode="offline",
        dir=str(tmp),
        project="bench-media",
        settings={"silent": True, "console": "off", "disable_stats": True},
    )
    save_dir = tmp / "npsave"
    save_dir.mkdir()
    clock, saves, logs = time.perf_counter_ns, [], []
    for i, a in enumerate(arrays):
        t0 = clock()
        np.save(save_dir / f"{i}.npy", a)
        t1 = clock()
        trackway.log({"img": trackway.Image(a)})
        t2 = clock()
        saves.append(t1 - t0)
        logs.append(t2 - t1)
    run.finish()
    return statistics.median(saves) / 1000, statistics.median(logs) / 1000


LOOP = r"""
import json, sys, time
import numpy as np
import trackway
steps, work_ms = int(sys.argv[1]), float(sys.argv[2])
rng = np.random.default_rng(1)
images = [rng.integers(0, 256, (224, 224, 3), dtype=np.uint8) for _ in range(50)]

def step_work():  # one core busy for work_ms (a CPU-bound step; GPU-bound steps leave more room)
    t_end = time.perf_counter() + work_ms / 1000
    while time.perf_counter() < t_end:
        pass

run = trackway.init(project="bench-media", settings={"console": "off"})
t0 = time.perf_counter()
for i in range(steps):
    step_work()
    trackway.log({"loss": 1.0 / (i + 1)})
base = time.perf_counter() - t0
t0 = time.perf_counter()
for i in range(steps):
    step_work()
    img = images[i % 50].copy()
    img[0, 0, 0] = i % 256; img[0, 0, 1] = i // 256  # every image distinct
    trackway.log({"img": trackway.Image(img), "loss": 1.0 / (i + 1)})
logged = time.perf_counter() - t0
end = time.time()
trackway.finish()
print(json.dumps({"base": base, "logged": logged, "loop_end": end, "run_id": run.id, "dir": run._backend.dir}))
"""


def bench_online(tmp: Path, images: int, work_ms: float) -> dict:
    server = Server(tmp)
    try:
        out = run_script(tmp, LOOP, server.script_env(), images, work_ms)
        run_dir = Path(out["dir"])
        deadline = time.time() + 600
        while not (run_dir / "synced").exists() and time.time() < deadline:
            time.sleep(0.05)
        synced_at = time.time()
        key = (tmp / "data" / "admin-api-key").read_text().strip()
        files = subprocess.run(
            [
                "curl",
                "-fsS",
                "-H",
                f"Authorization: Bearer {key}",
                f"{server.url}/api/v1/runs/admin/bench-media/{out['run_id']}/files",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        pngs = sum(1 for f in json.loads(files.stdout)["files"] if f["path"].endswith(".png"))
        out.update(
            pngs=pngs, after_loop=synced_at - out["loop_end"], synced=(run_dir / "synced").exists()
        )
        stop_agent(tmp / "trackway")
        return out
    finally:
        server.stop()


def _call(url: str, key: str, method: str = "GET", doc=None, body=None):
    import urllib.request

    data = body if body is not None else (None if doc is None else json.dumps(doc).encode())
    req = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def _ingest(url: str, key: str, run_id: str, records: list) -> None:
    pos, batch = 0, []
    for r in records:
        batch.append([pos, r])
        pos += len(json.dumps(r)) + 1
    _call(
        f"{url}/api/v1/ingest",
        key,
        "POST",
        {
            "project": "panels",
            "run_id": run_id,
            "log_id": run_id + "-log",
            "from": 0,
            "to": pos,
            "records": batch,
        },
    )


def bench_panels(tmp: Path) -> tuple[float, float]:
    import urllib.parse

    server = Server(tmp)
    try:
        key = (tmp / "data" / "admin-api-key").read_text().strip()
        runs = [f"r{i}" for i in range(16)]
        for r in runs:  # 100 steps of image references per run (the panel reads references only)
            recs = [{"t": "run", "v": 1, "log_id": r + "-log", "run_id": r, "project": "panels"}]
            recs += [
                {
                    "t": "history",
                    "step": s,
                    "ts": 1.0 + s,
                    "rt": float(s),
                    "data": {
                        "img": {
                            "_type": "image-file",
                            "path": f"media/images/{r}-{s}.png",
                            "format": "png",
                            "width": 64,
                            "height": 64,
                            "caption": f"step {s}",
                        },
                        "loss": 1.0 / (s + 1),
                    },
                }
                for s in range(100)
            ]
            _ingest(server.url, key, r, recs)
        rng = np.random.default_rng(2)
        rows = [
            [i, f"label{rng.integers(0, 50)}", float(rng.random()), None] for i in range(10_000)
        ]
        table = json.dumps(
            {
                "_type": "table",
                "columns": ["id", "label", "score", "img"],
                "nrows": len(rows),
                "data": rows,
            }
        ).encode()
        ref = {
            "_type": "table-file",
            "path": "media/table/t.table.json",
            "ncols": 4,
            "nrows": 10_000,
        }
        _ingest(
            server.url,
            key,
            "t0",
            [
                {"t": "run", "v": 1, "log_id": "t0-log", "run_id": "t0", "project": "panels"},
                {"t": "history", "step": 0, "ts": 1.0, "rt": 0.0, "data": {"preds": ref}},
            ],
        )
        _call(
            f"{server.url}/api/v1/runs/admin/panels/t0/files/media/table/t.table.json",
            key,
            "PUT",
            body=table,
        )
        query = {
            "runs": [{"entity": "admin", "project": "panels", "run_id": r} for r in runs],
            "key": "img",
            "steps": 100,
        }
        filt = urllib.parse.quote(json.dumps({"score": {"$gt": 0.1}}))
        table_url = (
            f"{server.url}/api/v1/runs/admin/panels/t0/tables?key=preds&sort=score&order=desc"
            f"&limit=100&filter={filt}"
        )
        times_q, times_t = [], []
        for _ in range(20):
            t0 = time.perf_counter()
            out = _call(f"{server.url}/api/v1/media/query", key, "POST", query)
            times_q.append(time.perf_counter() - t0)
            assert sum(len(r["items"]) for r in out["runs"]) == 1600
            t0 = time.perf_counter()
            page = _call(table_url, key)
            times_t.append(time.perf_counter() - t0)
            assert page["nrows"] == 10_000 and len(page["rows"]) == 100
        return statistics.median(times_q) * 1000, statistics.median(times_t) * 1000
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--work-ms", type=float, default=10.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as t:
        save_us, log_us = bench_log_vs_save(Path(t), args.calls)
    print(
        f"media: log(Image 224x224x3 uint8) median {log_us:.0f} us vs np.save {save_us:.0f} us "
        f"-> ratio {log_us / save_us:.2f} (target <= 2)"
    )
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as t:
        r = bench_online(Path(t), args.images, args.work_ms)
    slowdown = (r["logged"] - r["base"]) / r["base"] * 100
    print(
        f"media: {args.images} images, {args.work_ms:g} ms of work per step: loop {r['base']:.2f} s "
        f"without images, {r['logged']:.2f} s with -> slowdown {slowdown:.1f} % (target <= 5 %); "
        f"{r['pngs']} PNGs on the server {r['after_loop']:.1f} s after the loop ended"
        f"{'' if r['synced'] else ' (NOT all synced)'}"
    )
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as t:
        query_ms, table_ms = bench_panels(Path(t))
    print(
        f"media: server: media query 16 runs x 100 steps {query_ms:.0f} ms; 10,000-row table sorted + "
        f"filtered page {table_ms:.0f} ms (median of 20)"
    )


if __name__ == "__main__":
    main()
