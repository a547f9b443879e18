"""Server-side ingest throughput (issue 3): zstd batches of history rows (10 metrics each)
through the full router, one durable (synchronous=FULL) SQLite transaction per batch.
Prints points/s.

Run: python bench/server_ingest.py [rows] [rows_per_batch]   (trackway-server's ingest-bench)
"""

import os
import subprocess
import sys

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main() -> None:
    rows = sys.argv[1] if len(sys.argv) > 1 else "200000"
    per_batch = sys.argv[2] if len(sys.argv) > 2 else "5000"
    cmd = [
        "cargo",
        "run",
        "--quiet",
        "--release",
        "-p",
        "trackway-server",
        "--bin",
        "ingest-bench",
        "--",
        rows,
        per_batch,
    ]
    sys.exit(subprocess.run(cmd, cwd=REPO).returncode)


if __name__ == "__main__":
    main()
