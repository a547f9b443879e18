# The one version of the compatibility distribution (read by _build/backend.py too): the wandb
# release whose API Trackway follows, with a local label saying this is not wandb itself.
__version__ = "0.31.0+trackway"
