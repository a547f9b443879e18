"""Fills the browser tests' workspace project through the Python SDK: a sweep of runs whose
metrics cover the magnitudes and edge cases the charts must label and draw.

usage: sdk_workspace.py N_RUNS   (server and key come from TRACKWAY_BASE_URL/_API_KEY)
"""

import math
import sys

import trackway

STEPS = 50
LONG = (
    "eval/a_metric_name_long_enough_to_overflow_any_panel_header_and_toolbar"
    "_if_nothing_shortened_it_with_an_ellipsis"
)


def main() -> None:
    n = int(sys.argv[1])
    for i in range(n):
        lr = 10 ** -(1 + i % 4) * (1 + i // 4)
        run = trackway.init(
            project="ws",
            id=f"ws-{i:02d}",
            name=f"sweep-{i:02d}-lr{lr:g}",
            config={
                "lr": lr,
                "optimizer": ["adam", "sgd", "adamw"][i % 3],
                "seed": 7,
                "data": {"path": "/d"},
            },
        )
        for s in range(STEPS):
            loss = 1.0 / (1.0 + 0.05 * s * (1 + i)) + 0.01 * i
            row = {
                "loss": loss,
                "tiny": (1 + i + s) * 1e-9,  # nanoscale: ticks read 10n, 20n, ... never 0
                "huge": 3e9 + s * 1e6 * (1 + i),  # 3.0xG: every digit that differs is kept
                "lr": lr * 0.97**s,  # a decaying learning rate, charted on log y
                "phase": "train" if s < 40 else "eval",  # text: never an empty line chart
            }
            if i == 0 and s in (10, 20):
                row["bad"] = math.nan if s == 10 else math.inf
            elif i == 0:
                row["bad"] = 0.5 + s * 0.01
            trackway.log(row, step=s)
        trackway.log({"test/acc": 0.9 - 0.01 * i}, step=STEPS)  # logged once: a marker
        trackway.log({LONG: 0.5 + 0.01 * i}, step=STEPS)  # a name no panel header can hold
        run.finish()


if __name__ == "__main__":
    main()
