"""`wandb.sdk.data_types.molecule`."""

from ...data_types.molecule import Molecule  # noqa: F401
