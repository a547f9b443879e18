"""`wandb` from the Trackway compatibility distribution: this module *is* Trackway.

Every `wandb.<name>` reads, writes or deletes `trackway.<name>`, and every `wandb.<sub>` import
returns the module `trackway.<sub>` (see `trackway._alias`). Only `__version__` is our own: a
wandb release number, so frameworks that compare versions enable what Trackway implements.
"""

from trackway._alias import install

from ._version import __version__  # noqa: F401  (kept: a dunder)

install(__import__(__name__))
