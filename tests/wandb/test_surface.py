"""The public API of the real `wandb` (this venv's release) against Trackway's: names and call
signatures of the top-level module, Run, Config, Summary, Api and its Run/Runs/Artifact, the data
types, `wandb.plot` and the public `Sweep`. Every difference must be implemented or listed, with a reason, in
`surface_allowlist.txt` (next to this file); a new wandb release that adds public API fails here
until someone decides.
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
from pathlib import Path

import pytest

ALLOWLIST = Path(__file__).with_name("surface_allowlist.txt")

DATA_TYPES = (
    "Image",
    "Table",
    "Histogram",
    "Audio",
    "Video",
    "Html",
    "Object3D",
    "Molecule",
    "Plotly",
    "Classes",
)


def _wandb_targets():
    import wandb
    import wandb.apis.public as public
    from wandb.sdk import wandb_config, wandb_summary

    out = {
        "module": wandb,
        "Run": wandb.Run,
        "Config": wandb_config.Config,
        "Summary": wandb_summary.Summary,
        "Api": wandb.Api,
        "Api.Run": public.Run,
        "Api.Runs": public.Runs,
        "Api.Sweep": public.Sweep,
        "Artifact": wandb.Artifact,
        "plot": importlib.import_module("wandb.plot"),
    }
    out.update({f"data.{n}": getattr(wandb, n) for n in DATA_TYPES})
    return out


def _trackway_targets():
    import trackway
    from trackway import _config, _summary, apis

    def opt(obj, name):
        return getattr(obj, name, None)

    out = {
        "module": trackway,
        "Run": trackway.Run,
        "Config": _config.Config,
        "Summary": _summary.Summary,
        "Api": apis.Api,
        "Api.Run": apis.Run,
        "Api.Runs": apis.Runs,
        "Api.Sweep": apis.Sweep,
        "Artifact": opt(trackway, "Artifact"),
        "plot": importlib.import_module("trackway.plot"),
    }
    out.update({f"data.{n}": opt(trackway, n) for n in DATA_TYPES})
    return out


def public_names(obj) -> set[str]:
    names = {n for n in dir(obj) if not n.startswith("_")}
    if inspect.ismodule(obj):
        # submodules that are only implementation detail are still public API in wandb (wandb.sdk,
        # wandb.apis, ...): they count like any other name
        pass
    return names


def params(fn):
    """(names of the parameters, whether it takes **kwargs), or None when not introspectable."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    names = [
        p.name
        for p in sig.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"
    ]
    return names, any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())


def _instance_attrs(cls) -> set[str]:
    """Attributes a class's own code assigns on `self` (Trackway sets many in __init__ where
    wandb has properties): present on every instance, though not on the class."""
    import re

    names = set()
    for klass in inspect.getmro(cls):
        try:
            src = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        names.update(re.findall(r"self\.([A-Za-z][A-Za-z0-9_]*)\s*=[^=]", src))
        names.update(re.findall(r"object\.__setattr__\(self, \"([A-Za-z][A-Za-z0-9_]*)\"", src))
    return names


def _member(obj, name):
    if inspect.isclass(obj):
        return inspect.getattr_static(obj, name, None)
    return getattr(obj, name, None)


def _callable(m):
    if isinstance(m, (staticmethod, classmethod)):
        return m.__func__
    if isinstance(m, property):
        return None
    return m if callable(m) else None


def _signature_diffs(key, w, t):
    """Parameters of wandb's callable that Trackway's lacks (unless it takes **kwargs)."""
    wp, tp = params(w), params(t)
    if wp is None or tp is None:
        return []
    missing = [n for n in wp[0] if n not in tp[0]]
    if tp[1] or not missing:
        return []
    return [f"signature:{key}({n})" for n in missing]


def differences() -> list[str]:
    wt, tt = _wandb_targets(), _trackway_targets()
    out = []
    for target, wobj in wt.items():
        tobj = tt[target]
        if tobj is None:
            out.append(f"missing:{target}")
            continue
        if inspect.isclass(wobj):
            out += _signature_diffs(f"{target}.__init__", wobj.__init__, tobj.__init__)
        for name in sorted(public_names(wobj)):
            key = f"{target}.{name}"
            tm = _member(tobj, name)
            if tm is None and inspect.isclass(tobj) and name in _instance_attrs(tobj):
                continue
            if tm is None and not hasattr(tobj, name):
                out.append(f"missing:{key}")
                continue
            wc, tc = _callable(_member(wobj, name)), _callable(tm)
            if wc is not None and tc is not None and not inspect.isclass(wc):
                out += _signature_diffs(key, wc, tc)
    return out


def load_allowlist():
    entries = []
    for i, line in enumerate(ALLOWLIST.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pattern, _, reason = line.partition("#")
        assert reason.strip(), f"{ALLOWLIST.name}:{i}: an entry needs a reason after '#'"
        entries.append((pattern.strip(), reason.strip()))
    return entries


def test_allowlist_entries_have_reasons():
    assert load_allowlist()


def test_every_difference_is_implemented_or_allowlisted():
    allowed = [p for p, _ in load_allowlist()]
    unexplained = [d for d in differences() if not any(fnmatch.fnmatchcase(d, p) for p in allowed)]
    assert not unexplained, (
        f"{len(unexplained)} differences from the real wandb are neither implemented nor listed in "
        f"{ALLOWLIST.name} (with a reason):\n  " + "\n  ".join(unexplained)
    )


@pytest.mark.parametrize(
    "name", ["sweep", "agent", "init", "log", "finish", "define_metric", "Api"]
)
def test_core_names_match_exactly(name):
    """These must never be allowlisted away: they are what scripts call."""
    import wandb

    import trackway

    assert hasattr(trackway, name)
    d = _signature_diffs(name, getattr(wandb, name), getattr(trackway, name))
    assert not d, d


def test_the_diff_notices_a_missing_name(monkeypatch):
    """The mechanism can fail: a name removed from Trackway shows up as a difference."""
    import trackway

    monkeypatch.delattr(trackway, "define_metric")
    assert "missing:module.define_metric" in differences()
