"""The same script under the real `wandb` (offline) and under Trackway (`import trackway as
wandb`, offline), comparing what the script observes: repeated `define_metric`, summaries with
NaN, metric names with (escaped) dots, `reinit` modes, and an `init(dir=)` that cannot be
created. Each script prints one `RESULT <json>` line."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPO, clean_env

HEADER = """
import json, math, os, sys
if sys.argv[1] == "wandb":
    import wandb
else:
    import trackway as wandb
out = {}
"""

SUMMARY_AND_REINIT = """
run = wandb.init(project="diff", mode="offline", reinit="create_new")
run.log({"a.b": 1, "c\\\\.d": 2, "nan": float("nan")})
run.log({"a.b": 3})
out["keys"] = sorted(k for k in run.summary.keys() if not k.startswith("_"))
out["a.b"] = run.summary.get("a.b")
out["nan_is_nan"] = math.isnan(run.summary["nan"])
r2 = wandb.init(project="diff", mode="offline", reinit="create_new")
out["create_new_distinct"] = r2.id != run.id
out["create_new_active_is_first"] = wandb.run is run
r3 = wandb.init(project="diff", mode="offline", reinit="return_previous")
out["return_previous_is_latest"] = r3 is r2
r4 = wandb.init(project="diff", mode="offline", reinit="finish_previous")
out["finish_previous_new"] = r4.id not in (run.id, r2.id)
out["finish_previous_active"] = wandb.run is r4
try:
    run.log({"x": 1})
    out["log_after_finish"] = "ok"
except Exception as e:
    out["log_after_finish"] = type(e).__name__
r4.finish()
"""

UNWRITABLE_DIR = """
blocker = os.path.join(sys.argv[2], "a-file")
open(blocker, "w").close()
bad = os.path.join(blocker, "sub")  # under a regular file: cannot be created, even by root
try:
    run = wandb.init(project="diff", mode="offline", dir=bad)
    out["started"] = True
    out["dir_under_bad"] = os.path.abspath(run.dir).startswith(os.path.abspath(bad))
    out["dir_writable"] = os.access(run.dir, os.W_OK)
    run.log({"x": 1})
    run.finish()
except Exception as e:
    out["started"] = False
    out["error"] = type(e).__name__
"""


REPEATED_DEFINE_METRIC = """
run = wandb.init(project="diff", mode="offline")
run.define_metric("loss", summary="min")
run.define_metric("loss", summary="max")  # wandb: a second call adds to the first
run.define_metric("acc", summary="min")
run.define_metric("acc", summary="max", overwrite=True)  # ... unless it overwrites
run.log({"loss": 2.0, "acc": 2.0})
run.log({"loss": 1.0, "acc": 1.0})
out["loss"] = dict(run.summary.get("loss"))
out["acc"] = dict(run.summary.get("acc"))
run.finish()
"""


def run_under(which: str, code: str, tmp: Path) -> dict:
    work = tmp / which
    work.mkdir()
    script = work / "script.py"
    script.write_text(
        textwrap.dedent(HEADER)
        + textwrap.dedent(code)
        + '\nprint("RESULT", json.dumps(out, sort_keys=True, default=repr))\n'
    )
    env = clean_env(tmp, WANDB_MODE="offline", WANDB_DIR=str(work), WANDB_SILENT="true")
    env["PYTHONPATH"] = str(REPO / "python")
    done = subprocess.run(
        [sys.executable, str(script), which, str(work)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    assert done.returncode == 0 and lines, (
        f"{which}: rc {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}"
    )
    return json.loads(lines[-1][len("RESULT ") :])


@pytest.mark.parametrize(
    "code", [SUMMARY_AND_REINIT, UNWRITABLE_DIR], ids=["summary-reinit", "unwritable-dir"]
)
def test_same_script_same_results(code, tmp):
    real = run_under("wandb", code, tmp)
    ours = run_under("trackway", code, tmp)
    assert ours == real, f"wandb: {real}\ntrackway: {ours}"


def test_repeated_define_metric_merges_aggregations(tmp):
    real = run_under("wandb", REPEATED_DEFINE_METRIC, tmp)
    ours = run_under("trackway", REPEATED_DEFINE_METRIC, tmp)
    assert real["loss"] == {"max": 2, "min": 1} and real["acc"] == {"max": 2}, real
    assert ours == real, f"wandb: {real}\ntrackway: {ours}"
