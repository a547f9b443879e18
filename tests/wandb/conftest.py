"""Tests that drive the real, unmodified `wandb` package from PyPI (one venv per supported minor
release, `make wandb-venvs`) against a real Trackway server, and read back through
`trackway.Api`.

`WANDB_EXPECTED_VERSION` names the release the venv was built for, so a venv that silently holds
another version fails instead of passing for the wrong reason.
"""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "python"))

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
def api(server):
    import trackway

    return trackway.Api(base_url=server.url, api_key=server.key)


def expected_wandb_version() -> str:
    return os.environ.get("WANDB_EXPECTED_VERSION", "")
