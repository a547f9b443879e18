#!/usr/bin/env python3
"""History store figures (issue 4): ingest points/s, stored bytes per point, chart latency over
1,000 runs x 100,000 steps (full range and a 5 % zoom, 1,000 buckets per run), peak RSS.

Builds and runs the Rust benchmark `history-bench` (crates/trackway-history/src/bin/) and
prints its output; the generator is described there. Targets: chart <= 100 ms, zoom <= 100 ms,
ingest >= 1,000,000 points/s, <= 4 B per float32-origin loss point, peak RSS <= 512 MiB.
Usage: python bench/history_bench.py [RUNS] [STEPS] [ROWS_PER_APPEND]   (defaults 1000 100000 1000)
"""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    args = sys.argv[1:] or ["1000", "100000", "1000"]
    env = dict(os.environ)
    target = env.setdefault("CARGO_TARGET_DIR", str(REPO / "target"))
    subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "trackway-history", "--bin", "history-bench"],
        cwd=REPO,
        env=env,
        check=True,
    )
    exe = Path(target) / "release" / "history-bench"
    return subprocess.run([str(exe), *args], cwd=REPO, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
