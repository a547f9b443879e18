"""Console entry point `trackway`: replaces this process with the bundled Rust binary."""
import os
import sys


def main() -> None:
    exe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "trackway")
    if not os.path.isfile(exe):
        sys.stderr.write(
            f"trackway: the bundled binary is missing ({exe}).\n"
            "Reinstall the package (`pip install .`, or `make build` in a checkout).\n"
        )
        raise SystemExit(127)
    os.execv(exe, [exe] + sys.argv[1:])


if __name__ == "__main__":
    main()
