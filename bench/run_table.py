"""Run-table query benchmark (issue 4): 100,000 runs x (50 config + 20 summary keys), then
filter + sort + first page of 50 (with the total count) for several query shapes. Prints cold
(first use of a key: builds its expression index) and warm (median of 5) milliseconds.

Run: python bench/run_table.py [runs]   (builds and runs trackway-store's runs-bench)
"""

import os
import subprocess
import sys

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main() -> None:
    runs = sys.argv[1] if len(sys.argv) > 1 else "100000"
    cmd = [
        "cargo",
        "run",
        "--quiet",
        "--release",
        "-p",
        "trackway-store",
        "--bin",
        "runs-bench",
        "--",
        runs,
    ]
    sys.exit(subprocess.run(cmd, cwd=REPO).returncode)


if __name__ == "__main__":
    main()
