"""Run-table query benchmark (issues 4 and 15): 100,000 runs x (50 config + 20 summary keys),
then filter + sort + first page of 50 (with the total count) for seven query shapes, on SQLite
and on PostgreSQL (a throwaway server from the installed binaries) in one run. Prints cold
(first use of a key: builds its expression indexes) and warm (median of 5) milliseconds.

Run: python bench/run_table.py [runs]   (trackway-postgres's runs_bench example; it also builds
trackway-store's runs-bench, whose `--fill` web/e2e/perf.mjs uses)
"""

import os
import subprocess
import sys

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main() -> None:
    runs = sys.argv[1] if len(sys.argv) > 1 else "100000"
    build = [
        "cargo",
        "build",
        "--quiet",
        "--release",
        "-p",
        "trackway-store",
        "--bin",
        "runs-bench",
    ]
    subprocess.run(build, cwd=REPO, check=True)
    cmd = [
        "cargo",
        "run",
        "--quiet",
        "--release",
        "-p",
        "trackway-postgres",
        "--example",
        "runs_bench",
        "--",
        runs,
    ]
    sys.exit(subprocess.run(cmd, cwd=REPO).returncode)


if __name__ == "__main__":
    main()
