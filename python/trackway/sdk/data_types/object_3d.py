"""`wandb.sdk.data_types.object_3d`."""

from ...data_types.object_3d import Object3D  # noqa: F401
