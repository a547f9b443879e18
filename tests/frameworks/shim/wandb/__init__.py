"""TEST-ONLY `wandb` shim for the framework tests (tests/frameworks): the module `wandb` *is*
`trackway`, and every `wandb.X` submodule is the module object `trackway.X` (class identity
holds). It stands in for the compat distribution (compat/wandb) until that is on main; the
framework venv puts this directory on sys.path (with its dist-info, so importlib.metadata
finds a `wandb` distribution, as Lightning and accelerate require)."""

import importlib
import importlib.abc
import importlib.util
import sys

import trackway


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("wandb."):
            return None
        real = "trackway." + fullname[len("wandb.") :]
        try:
            importlib.util.find_spec(real)
        except ModuleNotFoundError:
            return None
        if importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return importlib.import_module("trackway." + spec.name[len("wandb.") :])

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _Alias())
sys.modules[__name__] = trackway
