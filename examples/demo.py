"""A demo training run: logs a loss curve, accuracy and config to a Trackway server.

    python examples/demo.py --base-url http://127.0.0.1:8767

Uses the wandb-style API exactly as a training script would.
"""

import argparse
import math
import os
import random

import trackway as wandb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default=None)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--lr", type=float, default=3e-4)
    args = parser.parse_args()
    if args.base_url:
        os.environ.setdefault("TRACKWAY_BASE_URL", args.base_url)

    run = wandb.init(
        project="demo",
        config={"lr": args.lr, "model": {"layers": 4, "width": 256}},
        tags=["demo"],
        notes="Logged by examples/demo.py",
    )
    wandb.define_metric("eval/*", step_metric="epoch")
    rng = random.Random(0)
    for step in range(args.steps):
        loss = 2.5 * math.exp(-step / 120) + 0.05 * rng.random()
        wandb.log({"train/loss": loss, "train/lr": args.lr * (1 - step / args.steps)})
        if step % 50 == 49:
            wandb.log({"eval/accuracy": 1 - loss / 3, "epoch": step // 50})
    wandb.finish()
    print(f"demo run logged: {run.url or run.dir}")


if __name__ == "__main__":
    main()
