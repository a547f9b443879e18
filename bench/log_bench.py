#!/usr/bin/env python3
"""Cost of trackway.log()/init()/finish() inside the training process, against a floor.

Measured in ONE run so the floor and the figures share the machine's state:
  (a) floor: json.dumps + os.write (O_APPEND) of a 10-float dict, per call
  (b) trackway.log() of the same dict, offline, per call
  (c) offline init() latency: fresh interpreters (import excluded, then import included)
  (d) finish() after 100,000 logged steps
  (e) bytes on disk per logged float (the 100,000-step run)
Targets (issue 2): (b) median <= (a) median, p99 <= 10x median; (c) <= 100 ms; (d) <= 200 ms;
(e) <= 40 bytes.  Usage: python bench/log_bench.py [--calls N] [--steps N]
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))

KEYS = (
    "train/loss",
    "train/acc",
    "lr",
    "grad_norm",
    "val/loss",
    "val/acc",
    "epoch",
    "throughput",
    "mem_gb",
    "step_time",
)


def metrics(rng: random.Random) -> dict:
    return {k: rng.random() for k in KEYS}


def percentiles(ns: list) -> tuple[float, float]:
    ns = sorted(ns)
    return statistics.median(ns) / 1000, ns[min(len(ns) - 1, int(len(ns) * 0.99))] / 1000


def bench_floor(tmp: Path, calls: int, dicts: list) -> list:
    fd = os.open(tmp / "floor.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    dumps, write, clock = json.dumps, os.write, time.perf_counter_ns
    out = []
    for i in range(calls):
        d = dicts[i % len(dicts)]
        t0 = clock()
        write(fd, (dumps(d) + "\n").encode())
        out.append(clock() - t0)
    os.close(fd)
    return out


def bench_log(tmp: Path, calls: int, dicts: list) -> list:
    import trackway

    run = trackway.init(
        mode="offline",
        dir=str(tmp),
        project="bench",
        settings={"silent": True, "console": "off", "disable_stats": True},
    )
    log, clock = trackway.log, time.perf_counter_ns
    out = []
    for i in range(calls):
        d = dicts[i % len(dicts)]
        t0 = clock()
        log(d)
        out.append(clock() - t0)
    run.finish()
    return out


INIT_CHILD = """
import sys, time
t0 = time.perf_counter()
import trackway
t1 = time.perf_counter()
run = trackway.init(mode="offline", dir=sys.argv[1], project="bench", settings={"silent": True})
t2 = time.perf_counter()
run.finish()
print((t2 - t1) * 1000, (t2 - t0) * 1000)
"""


def bench_init(tmp: Path, n: int) -> tuple[list, list]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "python"))
    env.pop("TRACKWAY_MODE", None)
    init_ms, with_import_ms = [], []
    for i in range(n):
        out = subprocess.run(
            [sys.executable, "-c", INIT_CHILD, str(tmp / f"init{i}")],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        init_ms.append(float(out[0]))
        with_import_ms.append(float(out[1]))
    return init_ms, with_import_ms


def bench_finish(tmp: Path, steps: int, dicts: list) -> tuple[float, float, int]:
    import trackway

    run = trackway.init(
        mode="offline",
        dir=str(tmp / "finish"),
        project="bench",
        settings={"silent": True, "console": "off", "disable_stats": True},
        reinit="finish_previous",
    )
    t_loop = time.perf_counter()
    for i in range(steps):
        trackway.log(dicts[i % len(dicts)])
    loop_s = time.perf_counter() - t_loop
    t0 = time.perf_counter()
    run.finish()
    finish_ms = (time.perf_counter() - t0) * 1000
    size = sum(p.stat().st_size for p in (tmp / "finish" / "trackway").glob("run-*/run.jsonl"))
    return finish_ms, loop_s, size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--inits", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(1)
    dicts = [metrics(rng) for _ in range(1000)]
    with tempfile.TemporaryDirectory(prefix="trackway-bench-") as d:
        tmp = Path(d)
        bench_floor(tmp, 2000, dicts)  # warm-up: page cache, allocator
        floor = bench_floor(tmp, args.calls, dicts)
        logs = bench_log(tmp, args.calls, dicts)
        floor2 = bench_floor(tmp, args.calls, dicts)  # again, to show drift across the run
        init_ms, init_import_ms = bench_init(tmp, args.inits)
        finish_ms, loop_s, size = bench_finish(tmp, args.steps, dicts)
    f_med, f_p99 = percentiles(floor)
    f2_med, f2_p99 = percentiles(floor2)
    l_med, l_p99 = percentiles(logs)
    floats = args.steps * len(KEYS)
    print(f"trackway log benchmark  (python {sys.version.split()[0]}, {os.cpu_count()} cpus)")
    print(f"{'measure':<46}{'median':>12}{'p99':>12}")
    print(f"{'(a) floor: json.dumps+os.write, 10 floats':<46}{f_med:>10.2f}us{f_p99:>10.2f}us")
    print(f"{'    floor again after (b)':<46}{f2_med:>10.2f}us{f2_p99:>10.2f}us")
    print(f"{'(b) trackway.log(), 10 floats, offline':<46}{l_med:>10.2f}us{l_p99:>10.2f}us")
    print(f"{'    ratio log/floor':<46}{l_med / f_med:>11.2f}x{l_p99 / f_p99:>11.2f}x")
    print(f"{'    p99/median of log':<46}{l_p99 / l_med:>11.2f}x")
    print(
        f"{'(c) init() offline, fresh process':<46}{statistics.median(init_ms):>10.2f}ms"
        f"{max(init_ms):>10.2f}ms (max)"
    )
    print(
        f"{'    import trackway + init()':<46}{statistics.median(init_import_ms):>10.2f}ms"
        f"{max(init_import_ms):>10.2f}ms (max)"
    )
    print(
        f"{f'(d) finish() after {args.steps} steps':<46}{finish_ms:>10.2f}ms"
        f"   (loop: {loop_s / args.steps * 1e6:.2f}us/step)"
    )
    print(
        f"{'(e) bytes on disk per logged float':<46}{size / floats:>10.2f} B"
        f"   ({size} B / {floats} floats)"
    )


if __name__ == "__main__":
    main()
