"""The venv under test holds the real wandb release it was built for, not Trackway's shim."""

import importlib.metadata

from conftest import expected_wandb_version


def test_the_real_wandb_release_is_installed():
    import wandb

    want = expected_wandb_version()
    assert want, "run through `make test-wandb` (sets WANDB_EXPECTED_VERSION)"
    assert importlib.metadata.version("wandb") == want
    assert "trackway" not in (wandb.__file__ or "")
