"""Console entry point `trackway` (and `python -m trackway`): the command line is compiled into
the native extension, so it runs in this process and the wheel needs no second executable."""

import os
import signal
import sys


def main(argv=None) -> None:
    try:
        from . import _native
    except ImportError as e:
        sys.stderr.write(
            f"trackway: the native module is not built ({e}).\n"
            "Install the package with `pip install .` (needs Rust), or run "
            "`make build` in a checkout.\n"
        )
        raise SystemExit(127) from None
    args = sys.argv[1:] if argv is None else list(argv)
    # `trackway agent SWEEP_ID` runs the sweep's `${interpreter}` as this Python, as wandb's does
    os.environ.setdefault("TRACKWAY_INTERPRETER", sys.executable or "python3")
    # The Rust side runs with the GIL released, where Python's own SIGINT handler would only set
    # a flag nobody reads: Ctrl-C must stop `trackway sync` as it stops the standalone binary.
    if hasattr(signal, "SIGINT"):
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        except ValueError:  # not the main thread: leave the handler alone
            pass
    sys.stdout.flush()
    sys.stderr.flush()
    raise SystemExit(_native.cli_main(["trackway", *args]))


if __name__ == "__main__":
    main()
