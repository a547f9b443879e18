"""System-metrics sampler overhead: CPU per sample and % of one core (target <= 1 %).

Run: python bench/sysmon_overhead.py [samples]   (builds and runs the trackway-sysmon example)
"""

import os
import subprocess
import sys

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main() -> None:
    samples = sys.argv[1] if len(sys.argv) > 1 else "300"
    cmd = [
        "cargo",
        "run",
        "--quiet",
        "--release",
        "-p",
        "trackway-sysmon",
        "--example",
        "overhead",
        "--",
        samples,
    ]
    sys.exit(subprocess.run(cmd, cwd=REPO).returncode)


if __name__ == "__main__":
    main()
