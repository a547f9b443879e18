"""Framework tests: real frameworks (tests/frameworks/requirements.txt, installed by
`make frameworks-venv` into a separate venv) log through the `wandb` module to a real Trackway
server; each test reads the values back through `trackway.Api`.

The `wandb` module is the compatibility distribution in compat/wandb, installed by pip (its
own build backend) into a per-session directory on the scripts' PYTHONPATH: the same package
and `wandb` dist-info a user gets from `pip install ./compat/wandb`, without changing the venv.
Scripts run in subprocesses with this venv's interpreter, as a user's training script would.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "python"))

# The SDK suite's helpers (real server process, clean env, script runner), loaded under another
# module name: both files are called conftest.py.
_spec = importlib.util.spec_from_file_location("sdk_conftest", REPO / "python/tests/conftest.py")
_sdk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sdk)
Server, clean_env, run_script, trackway_bin = (
    _sdk.Server,
    _sdk.clean_env,
    _sdk.run_script,
    _sdk.trackway_bin,
)


@pytest.fixture(scope="session")
def compat_wandb(tmp_path_factory) -> Path:
    """compat/wandb installed with pip into a directory of its own (`--target`)."""
    target = tmp_path_factory.mktemp("compat-wandb")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
        + ["--target", str(target), str(REPO / "compat" / "wandb")],
        check=True,
        timeout=300,
    )
    return target


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("server")
    (tmp / "home").mkdir()
    s = Server(tmp).start()
    yield s
    s.stop()


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path


@pytest.fixture
def online_env(tmp, server, compat_wandb):
    """Environment of a training script that logs online to the test server via `wandb`."""
    env = clean_env(
        tmp,
        TRACKWAY_MODE="online",
        TRACKWAY_BASE_URL=server.url,
        TRACKWAY_API_KEY=server.key,
        KERAS_BACKEND="torch",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        RAY_USAGE_STATS_ENABLED="0",
        CUDA_VISIBLE_DEVICES="",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    env["PYTHONPATH"] = os.pathsep.join([str(compat_wandb), str(REPO / "python")])
    return env


@pytest.fixture
def api(server):
    import trackway

    return trackway.Api(base_url=server.url, api_key=server.key)


def history(api, path: str, keys=None) -> list:
    """Every history row of a run (dicts), read through the public API."""
    run = api.run(path)
    return list(run.scan_history(keys=keys))


def find_run(api, project: str, **match):
    runs = list(api.runs(f"admin/{project}"))
    assert runs, f"no run in project {project}"
    for r in runs:
        if all(getattr(r, k, None) == v for k, v in match.items()):
            return r
    raise AssertionError(f"no run matching {match} in {project}: {[r.id for r in runs]}")
