"""`wandb.sdk.data_types.html`."""

from ...data_types.html import Html  # noqa: F401
