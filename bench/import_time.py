"""Import cost: `import trackway` (target <= 30 ms) and `import wandb` through the compatibility
package in compat/wandb (target <= 40 ms). Each is timed inside a fresh interpreter (the time of
the import statement alone, not interpreter start-up), median of 10: wall-clock time, and the
CPU time of the same import, which stays meaningful on a machine busy with other work. Prints
numbers; asserts nothing. The interpreter's start-up is printed alongside for scale.

Run: .venv/bin/python bench/import_time.py [repeats]
"""

import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PATHS = os.pathsep.join([str(REPO / "python"), str(REPO / "compat" / "wandb")])
TIMER = (
    "import time; t, c = time.perf_counter(), time.process_time(); import {mod}; "
    "print((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000)"
)


def import_ms(module: str, repeats: int) -> list:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKWAY_", "WANDB_"))}
    env["PYTHONPATH"] = PATHS
    env.pop("PYTHONSTARTUP", None)
    out = []
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-c", TIMER.format(mod=module)],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        wall, cpu = done.stdout.split()
        out.append((float(wall), float(cpu)))
    return out


def startup_ms(repeats: int) -> float:
    import time

    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    for label, module, target in (
        ("import trackway", "trackway", 30),
        ("import wandb (compat)", "wandb", 40),
    ):
        times = import_ms(module, repeats)
        wall = statistics.median(t[0] for t in times)
        cpu = statistics.median(t[1] for t in times)
        print(
            f"{label + ':':23} {wall:6.1f} ms wall, {cpu:6.1f} ms CPU  "
            f"(median of {repeats}, target <= {target} ms)"
        )
    print(
        f"{'python -c pass:':23} {startup_ms(repeats):6.1f} ms  (interpreter start-up, for scale)"
    )


if __name__ == "__main__":
    main()
