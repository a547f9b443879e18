"""Serving this package under another top-level name (the `wandb` compatibility distribution in
compat/wandb): `alias.x.y` *is* `trackway.x.y`, the same module objects, not copies.

`install(module)` turns the calling package (`wandb`) into a facade whose attribute reads,
writes and deletes go to `trackway` (so `wandb.run` is always `trackway.run`, and patching
`wandb.log` patches `trackway.log`), and puts a meta-path finder in front that answers every
`wandb.<sub>` import with the already-imported `trackway.<sub>`. Whatever submodules trackway
has are served this way, with nothing listed here. Names trackway lacks fall through to the
normal finders, which find nothing, so `import wandb.nothing` fails as usual.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys

# The module type without importing `types` (and importlib.util, which pulls in contextlib and
# collections): `import wandb` through the compatibility package stays as cheap as trackway's.
_ModuleType = type(sys)

# The finder and loader are duck-typed (the import protocol needs only these methods): deriving
# from importlib.abc would import importlib.resources, which costs more than all of trackway.


class _AliasLoader:
    """Loads `alias.x` by returning the module `real` (importing it if needed)."""

    def __init__(self, real: str):
        self.real = real
        self.spec = None

    def create_module(self, spec):
        module = importlib.import_module(self.real)
        self.spec = getattr(module, "__spec__", None)
        return module

    def exec_module(self, module) -> None:
        # The import system set `module.__spec__` to the alias's spec before this call; the
        # module keeps its own (its `__name__` and `__package__` were left alone).
        if self.spec is not None:
            module.__spec__ = self.spec


class _AliasFinder:
    def __init__(self, alias: str, target: str):
        self.prefix = alias + "."
        self.target = target

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(self.prefix):
            return None
        real = self.target + fullname[len(self.prefix) - 1 :]
        if real not in sys.modules:
            try:  # the loader returns this very module; importing it here answers "exists?"
                importlib.import_module(real)
            except ModuleNotFoundError as e:
                if e.name != real:
                    raise  # the module exists but an import inside it failed: show that
                return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(real))


def _facade_class(target: _ModuleType) -> type:
    class Facade(_ModuleType):
        """The alias's top-level module: its own dunders (name, spec, path, `__version__`);
        every other attribute lives on `target`."""

        def __getattr__(self, name):
            return getattr(target, name)

        def __setattr__(self, name, value):
            if name.startswith("__") or name in self.__dict__:
                super().__setattr__(name, value)
            else:
                setattr(target, name, value)

        def __delattr__(self, name):
            if name in self.__dict__:
                super().__delattr__(name)
            else:
                delattr(target, name)

        def __dir__(self):
            return sorted(set(dir(target)) | {k for k in self.__dict__ if k.startswith("__")})

    Facade.__name__ = Facade.__qualname__ = f"{target.__name__}_alias"
    return Facade


def install(module: _ModuleType, target: str = __package__) -> None:
    """Make `module` (a top-level package being imported) an alias of `target`."""
    real = importlib.import_module(target)
    alias = module.__name__
    if not any(isinstance(f, _AliasFinder) and f.prefix == alias + "." for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder(alias, target))
    for name in [k for k in vars(module) if not k.startswith("__")]:
        delattr(module, name)  # helpers the alias's __init__ imported; trackway's names win
    module.__class__ = _facade_class(real)
    # Submodules trackway already imported are bound now, so `wandb.sdk` works without an
    # import statement just as `trackway.sdk` does (the attribute lives on `real`).
    prefix = target + "."
    for name, mod in list(sys.modules.items()):
        if name.startswith(prefix) and mod is not None:
            sys.modules.setdefault(alias + name[len(target) :], mod)
