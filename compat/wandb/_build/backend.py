"""PEP 517 backend of the `wandb` compatibility distribution (stdlib only, builds offline).

It writes a pure-Python wheel by hand (the package is two small files) and, before building,
refuses to go on when the interpreter it builds for already has the *real* `wandb`: pip would
uninstall that one without asking, since both distributions are named `wandb`.

The check asks the target interpreter itself (pip's build isolation hides its site-packages
from this process). It cannot see installs aimed elsewhere (`pip --target`, `--prefix`), and a
prebuilt wheel runs no code at install time, so the documented way in is this source tree.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "wandb"
LABEL = "trackway"


def _version() -> str:
    text = (ROOT / NAME / "_version.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if match is None:
        raise RuntimeError("compat/wandb/wandb/_version.py has no __version__")
    return match.group(1)


_PROBE = """
import importlib.metadata as m
try:
    print(m.distribution("wandb").version)
except m.PackageNotFoundError:
    pass
"""


def _installed_wandb() -> str | None:
    """The version of the `wandb` distribution the target interpreter sees, if any."""
    hidden = ("PYTHONPATH", "PYTHONNOUSERSITE", "PYTHONHOME", "PYTHONSAFEPATH")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, cwd=os.path.abspath(os.sep),
                          capture_output=True, text=True, timeout=120)
    return done.stdout.strip() or None


def _refuse_real_wandb() -> None:
    found = _installed_wandb()
    if found and f"+{LABEL}" not in found:
        sys.exit(
            f"\nerror: the real wandb {found} is installed in this environment "
            f"({sys.executable}).\n"
            "The Trackway compatibility package is also named `wandb`, so installing it would "
            "silently replace wandb.\nIf that is what you want, run `pip uninstall wandb` first, "
            "then install this package again.\n"
        )


def _metadata(version: str) -> str:
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {NAME}\n"
        f"Version: {version}\n"
        "Summary: Trackway's wandb compatibility package: `import wandb` is Trackway.\n"
        "Requires-Python: >=3.9\n"
        "Requires-Dist: trackway\n"
    )


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _wheel_files(version: str) -> list:
    dist_info = f"{NAME}-{version}.dist-info"
    files = [(f"{NAME}/{p.name}", p.read_bytes()) for p in sorted((ROOT / NAME).glob("*.py"))]
    files.append((f"{dist_info}/METADATA", _metadata(version).encode()))
    files.append((f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: trackway-compat\n"
                  b"Root-Is-Purelib: true\nTag: py3-none-any\n"))
    files.append((f"{dist_info}/top_level.txt", f"{NAME}\n".encode()))
    record = [_record_line(p, d) for p, d in files] + [f"{dist_info}/RECORD,,"]
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    return files


def get_requires_for_build_wheel(config_settings=None):
    _refuse_real_wandb()
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _refuse_real_wandb()
    version = _version()
    name = f"{NAME}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in _wheel_files(version):
            z.writestr(path, data)
    return name


def build_sdist(sdist_directory, config_settings=None):
    version = _version()
    base = f"{NAME}-{version}"
    name = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as tar:
        for path in ["pyproject.toml", "_build/backend.py",
                     *(f"{NAME}/{p.name}" for p in sorted((ROOT / NAME).glob("*.py")))]:
            tar.add(ROOT / path, arcname=f"{base}/{path}")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = _metadata(version).encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return name
