"""Framework integrations under wandb's module paths (``wandb.integration.*``).

Each submodule imports its framework only when it is imported itself, so ``import trackway``
stays free of them.
"""
