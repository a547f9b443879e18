"""A real training-style script for the browser tests: logs through the Python SDK.

usage: sdk_log.py RUN_ID STEPS DELAY_S   (server and key come from TRACKWAY_BASE_URL/_API_KEY)
"""
import sys
import time

import trackway


def main() -> None:
    run_id, steps, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    run = trackway.init(project="sdk", id=run_id, name=f"sdk-{run_id}",
                        config={"lr": 0.02, "model": {"layers": 3}, "optimizer": "adam"})
    print("starting training", flush=True)
    for step in range(steps):
        loss = 1.0 / (1.0 + 0.02 * step) + 0.0001
        trackway.log({"loss": loss, "acc": 1.0 - loss / 2})
        if step % 10 == 0:
            print(f"step {step} loss {loss:.4f}", flush=True)
        if step % 25 == 5:
            print(f"warning: step {step} was slow", file=sys.stderr, flush=True)
        time.sleep(delay)
    run.finish()


if __name__ == "__main__":
    main()
