#!/usr/bin/env python3
"""Cost of logging images in the training process (issue 10), measured in ONE run.

1. `log({"img": Image(a)})` of a 224x224x3 uint8 array, offline, per call, against `np.save` of
   the same array to the same disk (calls alternate, every array distinct so content addressing
   saves nothing). Target: median ratio <= 2.
2. 1,000 such images over an online run against a real server: a training loop of fixed work
   per step, first without logging, then logging one image per step; the slowdown of the loop
   (target <= 5 %) and the time until the last image is on the server after the loop ends.

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
    run = trackway.init(mode="offline", dir=str(tmp), project="bench-media",
                        settings={"silent": True, "console": "off", "disable_stats": True})
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


LOOP = r'''
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
'''


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
        files = subprocess.run(["curl", "-fsS", "-H", f"Authorization: Bearer {key}",
                                f"{server.url}/api/v1/runs/admin/bench-media/{out['run_id']}/files"],
                               capture_output=True, text=True, timeout=60, check=False)
        pngs = sum(1 for f in json.loads(files.stdout)["files"] if f["path"].endswith(".png"))
        out.update(pngs=pngs, after_loop=synced_at - out["loop_end"], synced=(run_dir / "synced").exists())
        stop_agent(tmp / "trackway")
        return out
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
    print(f"media: log(Image 224x224x3 uint8) median {log_us:.0f} us vs np.save {save_us:.0f} us "
          f"-> ratio {log_us / save_us:.2f} (target <= 2)")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as t:
        r = bench_online(Path(t), args.images, args.work_ms)
    slowdown = (r["logged"] - r["base"]) / r["base"] * 100
    print(f"media: {args.images} images, {args.work_ms:g} ms of work per step: loop {r['base']:.2f} s "
          f"without images, {r['logged']:.2f} s with -> slowdown {slowdown:.1f} % (target <= 5 %); "
          f"{r['pngs']} PNGs on the server {r['after_loop']:.1f} s after the loop ended"
          f"{'' if r['synced'] else ' (NOT all synced)'}")


if __name__ == "__main__":
    main()
