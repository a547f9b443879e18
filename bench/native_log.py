#!/usr/bin/env python3
"""Per-call cost of `trackway._native.NativeRun.log` (no Python API layer on top), against the
floor of one os.write of a pre-encoded line. Prints numbers; asserts nothing.

Usage: python bench/native_log.py [--calls N]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from trackway import _native

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


def per_call(fn, calls, batch=1000):
    """Median and p99 of per-call time over batches of `batch` calls, in microseconds."""
    samples = []
    for _ in range(max(1, calls // batch)):
        t = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - t) / batch * 1e6)
    samples.sort()
    return statistics.median(samples), samples[
        int(len(samples) * 0.99) - 1 if len(samples) > 1 else 0
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200_000)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    data = {k: 0.123456789 * (i + 1) for i, k in enumerate(KEYS)}

    fd = os.open(os.path.join(tmp, "floor.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    line = b'{"t":"history","step":1,"data":' + repr(data).replace("'", '"').encode() + b"}\n"
    floor = per_call(lambda: os.write(fd, line), args.calls)

    run = _native.NativeRun(os.path.join(tmp, "trackway"), {"run_id": "bench"}, None)
    log = per_call(lambda: run.log(data), args.calls)
    run2 = _native.NativeRun(os.path.join(tmp, "trackway"), {"run_id": "bench2"}, None)
    run2.define_metric("train/*", step_metric="epoch", summary=["min", "max"])
    with_metrics = per_call(lambda: run2.log(data), args.calls)
    run.finish(0)
    run2.finish(0)
    size = os.path.getsize(run.log_path)

    print(
        f"native log benchmark (python {sys.version.split()[0]}, {os.cpu_count()} cpus, {args.calls} calls)"
    )
    print(f"{'measure':<52}{'median':>10}{'p99':>10}")
    print(f"{'floor: os.write of a pre-encoded line':<52}{floor[0]:>8.2f}us{floor[1]:>8.2f}us")
    print(f"{'NativeRun.log, 10 floats':<52}{log[0]:>8.2f}us{log[1]:>8.2f}us")
    print(
        f"{'NativeRun.log, 10 floats, define_metric glob+aggs':<52}{with_metrics[0]:>8.2f}us{with_metrics[1]:>8.2f}us"
    )
    print(f"{'bytes on disk per logged float':<52}{size / (args.calls * len(KEYS)):>8.2f} B")


if __name__ == "__main__":
    main()
