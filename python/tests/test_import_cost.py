"""`import trackway` (and `import wandb` through compat/wandb) loads almost nothing: the run
machinery, data types, artifacts, the public API, json, re and numpy are imported on first use.
Each check runs in a fresh interpreter and compares `sys.modules` before and after the import,
so a heavy module imported eagerly again fails here (the time itself is printed by
bench/import_time.py, not asserted)."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# What `import trackway` may load: the package, its exceptions and the pre-init placeholders.
EAGER = {"trackway", "trackway.errors", "trackway._preinit", "__future__"}

PROBE = """
import json, sys
{prepare}
before = set(sys.modules)
import {module}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def new_modules(module: str, prepare: str = "") -> set:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKWAY_", "WANDB_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "python"), str(REPO / "compat" / "wandb")])
    env.pop("PYTHONSTARTUP", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module, prepare=prepare)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(done.stdout))


def test_import_trackway_loads_only_the_package_and_its_errors():
    # json is imported by the probe itself; anything else trackway pulled in shows up here.
    assert new_modules("trackway") <= EAGER


def test_import_wandb_compat_adds_only_the_alias_machinery():
    # The alias finder needs importlib.machinery (and nothing heavier, such as importlib.util);
    # load it first so only our own modules remain.
    loaded = new_modules("wandb", prepare="import importlib.machinery")
    allowed = EAGER | {"trackway._alias", "wandb", "wandb._version"}
    allowed |= {"wandb" + n[len("trackway") :] for n in allowed if n.startswith("trackway.")}
    assert loaded <= allowed


LAZY = """
import sys
import trackway
assert "trackway._lifecycle" not in sys.modules
from trackway import init, Image, Table, Run
import trackway.sdk.wandb_run
from trackway import *  # every name in __all__ resolves
assert trackway.sdk.wandb_run.Run is Run and trackway.wandb_run.Run is Run
assert trackway.Api.__module__.startswith("trackway.apis")
assert trackway.__version__ and "init" in dir(trackway) and "Image" in dir(trackway)
assert isinstance(trackway.errors.Error("x"), Exception) and trackway.Error is trackway.errors.Error
try:
    trackway.config.lr
except trackway.Error:
    pass
else:
    raise AssertionError("config before init() must raise")
try:
    trackway.no_such_name
except AttributeError:
    pass
else:
    raise AssertionError("unknown names must raise AttributeError")
print("ok")
"""


def test_lazy_names_resolve_on_first_use():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKWAY_", "WANDB_"))}
    env["PYTHONPATH"] = str(REPO / "python")
    done = subprocess.run(
        [sys.executable, "-c", LAZY], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
