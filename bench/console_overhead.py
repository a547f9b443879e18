"""Cost of console capture per printed line (wrap mode), against printing without capture.

Run: .venv/bin/python bench/console_overhead.py [lines]   (stdout goes to /dev/null)
"""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from trackway import _console


def bench(n: int, mode: str) -> float:
    with tempfile.TemporaryDirectory() as d:
        devnull = open(os.devnull, "w")
        saved = sys.stdout
        sys.stdout = devnull
        try:
            h = _console.start(d, None, {"console": mode})
            t0 = time.perf_counter()
            for i in range(n):
                print(f"step {i} loss 0.123456 acc 0.987654")
            for i in range(n // 10):
                sys.stdout.write(f"\rprogress {i}")
            print()
            dt = time.perf_counter() - t0
            if h is not None:
                h.stop()
        finally:
            sys.stdout = saved
            devnull.close()
        return dt


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    off = bench(n, "off")
    wrap = bench(n, "wrap")
    print(f"console capture: {n} lines + {n // 10} \\r updates")
    print(f"  off : {off * 1e6 / n:.2f} us/line")
    print(
        f"  wrap: {wrap * 1e6 / n:.2f} us/line (+{(wrap - off) * 1e6 / n:.2f} us/line: "
        "output.log write + one run-log record)"
    )


if __name__ == "__main__":
    main()
