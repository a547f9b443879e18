"""run.watch(): gradient and parameter histograms of torch modules, recorded through hooks.

As in wandb: parameters are histogrammed every ``log_freq`` forward calls (a forward hook on
each submodule that owns parameters), gradients every ``log_freq`` backward passes (a hook on each parameter
tensor). Histograms go into the current row with ``commit=False`` (keys
``parameters/<name>`` and ``gradients/<name>``), so they land with the user's next ``log()``.
The value is the histogram shape ``log()`` already uses for large arrays
(``{"_type": "histogram", "bins": [n+1 edges], "values": [n counts]}``).
"""

from __future__ import annotations

BINS = 64
_MODES = {
    "gradients": (False, True),
    "parameters": (True, False),
    "all": (True, True),
    None: (False, False),
}


def histogram(tensor, bins: int = BINS) -> dict:
    """A histogram value of a torch tensor (non-finite entries ignored)."""
    import torch

    flat = tensor.detach().flatten().float()
    flat = flat[torch.isfinite(flat)]
    if flat.numel() == 0:
        return {"_type": "histogram", "bins": [], "values": []}
    lo, hi = flat.min().item(), flat.max().item()
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.histc(flat.cpu(), bins=bins, min=lo, max=hi)
    width = (hi - lo) / bins
    edges = [lo + i * width for i in range(bins)] + [hi]
    return {"_type": "histogram", "bins": edges, "values": [int(c) for c in counts.tolist()]}


class _Watch:
    """The hooks of one watched module."""

    def __init__(self, run, module, prefix: str, log, log_freq: int):
        self.run = run
        self.module = module
        self.prefix = prefix
        self.log_params, self.log_grads = _MODES.get(log, (False, True))
        self.log_freq = max(1, int(log_freq or 1))
        self.forward_calls = {}
        self.backward_calls = {}
        self.handles = []

    def attach(self) -> None:
        if self.log_params:
            # A hook on each submodule that owns parameters, not only on the root: frameworks
            # (Lightning's training_step) often call the submodules and never the root's forward.
            for name, sub in self.module.named_modules():
                own = [p for p, _ in sub.named_parameters(recurse=False)]
                if own:
                    hook = self._forward_hook(f"{name}." if name else "")
                    self.handles.append(sub.register_forward_hook(hook))
        if self.log_grads:
            for name, p in self.module.named_parameters():
                if p.requires_grad:
                    self.handles.append(p.register_hook(self._grad_hook(name)))

    def detach(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()

    def _emit(self, data: dict) -> None:
        try:
            self.run.log(data, commit=False)
        except Exception:  # a finished run, a failed write: training must go on
            self.detach()

    def _forward_hook(self, sub_name: str):
        def hook(module, inputs, output) -> None:
            if not module.training:
                return
            n = self.forward_calls.get(sub_name, 0) + 1
            self.forward_calls[sub_name] = n
            if n % self.log_freq:
                return
            self._emit(
                {
                    f"parameters/{self.prefix}{sub_name}{name}": histogram(p)
                    for name, p in module.named_parameters(recurse=False)
                }
            )

        return hook

    def _grad_hook(self, name: str):
        def hook(grad):
            n = self.backward_calls.get(name, 0) + 1
            self.backward_calls[name] = n
            if n % self.log_freq == 0:
                self._emit({f"gradients/{self.prefix}{name}": histogram(grad)})

        return hook


def watch(
    run, models, criterion=None, log="gradients", log_freq=1000, idx=None, log_graph=False
) -> list:
    """Attach hooks to each torch module in ``models``; returns the watches made."""
    if models is None:
        return []
    if not isinstance(models, (list, tuple)):
        models = [models]
    if log not in _MODES:
        from .errors import UsageError

        raise UsageError(f"watch(log={log!r}): use 'gradients', 'parameters', 'all' or None")
    watches = run.__dict__.setdefault("_watches", [])
    made = []
    for i, model in enumerate(models):
        if not hasattr(model, "named_parameters") or not hasattr(model, "register_forward_hook"):
            from .errors import UsageError

            raise UsageError(f"watch() expects torch.nn.Module objects, got {type(model).__name__}")
        prefix = f"graph_{i if idx is None else idx}." if len(models) > 1 else ""
        w = _Watch(run, model, prefix, log, log_freq)
        w.attach()
        watches.append(w)
        made.append(w)
    return made


def unwatch(run, models=None) -> None:
    """Remove the hooks of ``models`` (all watched modules when None)."""
    watches = run.__dict__.get("_watches", [])
    targets = None
    if models is not None:
        targets = {id(m) for m in (models if isinstance(models, (list, tuple)) else [models])}
    keep = []
    for w in watches:
        if targets is None or id(w.module) in targets:
            w.detach()
        else:
            keep.append(w)
    watches[:] = keep
