"""`trackway.Api`: read runs back from a Trackway server (the wandb public API's shape).

    api = trackway.Api()
    for run in api.runs("admin/mnist", filters={"config.lr": {"$gt": 1e-4}}):
        print(run.name, run.summary.get("loss"))
    rows = list(api.run("admin/mnist/abc123").scan_history(keys=["loss"]))
    best = api.sweep("admin/mnist/SWEEP_ID").best_run()

Standard library only (urllib): importing this module costs nothing and needs no extra package.
"""

from .public import Api, Run, Runs, decode_value
from .sweeps import Sweep

__all__ = ["Api", "Run", "Runs", "Sweep", "decode_value"]
