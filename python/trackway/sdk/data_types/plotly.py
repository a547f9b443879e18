"""`wandb.sdk.data_types.plotly`."""

from ...data_types.plotly import Plotly  # noqa: F401
