"""Trackway's PEP 517 build backend: maturin, after making sure the web UI is built.

The server embeds `web/dist` at compile time (rust-embed), and `web/dist` is a build output that
git does not carry. So a wheel built from a fresh clone or a git URL (`pip install git+...`)
would serve the built-in fallback page instead of the UI. Before maturin builds a wheel or an
sdist this backend builds the UI with npm when `web/dist` has none; an sdist carries the built
`web/dist` (pyproject.toml, `[tool.maturin] include`), so building from one needs no Node.

With no built UI and no npm the build fails here, at install time, naming the way out; set
`TRACKWAY_WEB_UI=skip` to build deliberately without the UI (the server then shows its short
built-in page; the client, agent and API are complete).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import maturin

# The hooks this backend passes through to maturin unchanged.
from maturin import (
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "prepare_metadata_for_build_wheel",
]

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
DIST = WEB / "dist"
SKIP_ENV = "TRACKWAY_WEB_UI"


class WebUIError(RuntimeError):
    """The web UI is neither built nor buildable here."""


def ui_built() -> bool:
    return (DIST / "index.html").is_file()


def _npm(*args: str) -> None:
    """Runs npm in web/; its output goes to the build log (pip shows it with -v or on failure)."""
    npm = shutil.which("npm")
    if npm is None:
        raise WebUIError(_missing("npm (Node.js 20 or newer) is not on PATH"))
    done = subprocess.run(
        [npm, *args], cwd=WEB, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    print(done.stdout[-20000:], flush=True)
    if done.returncode != 0:
        raise WebUIError(
            _missing(
                f"`npm {' '.join(args)}` in {WEB} failed (exit {done.returncode}); its output is above"
            )
        )


def _missing(why: str) -> str:
    return (
        f"Trackway's web UI is not built ({DIST} has no index.html) and cannot be built here: {why}.\n"
        "Install Node.js 20+ (with npm) and retry, or install a wheel or an sdist (both carry the "
        f"built UI), or set {SKIP_ENV}=skip to build without the UI (the server then shows a short "
        "built-in page; the Python client, agent and API are unaffected)."
    )


def ensure_web_ui(*, may_skip: bool = True) -> None:
    """Builds `web/dist` with npm unless it is built already or (for a wheel) the user opted
    out; an sdist always carries the UI, since whoever builds from it may have no Node."""
    if ui_built():
        return
    if may_skip and os.environ.get(SKIP_ENV, "").strip().lower() == "skip":
        print(f"trackway: {SKIP_ENV}=skip: building without the web UI", flush=True)
        return
    if not (WEB / "package.json").is_file():
        raise WebUIError(_missing("this source tree has no web/ sources"))
    print("trackway: building the web UI (npm ci, npm run build) into web/dist", flush=True)
    if not (WEB / "node_modules").is_dir():
        # --prefer-offline: a machine that installed the packages once builds from npm's cache.
        _npm("ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error")
    _npm("run", "--silent", "build")
    if not ui_built():
        raise WebUIError(_missing("`npm run build` wrote no index.html"))


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    ensure_web_ui()
    return maturin.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    ensure_web_ui()
    return maturin.build_editable(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory, config_settings=None):
    ensure_web_ui(may_skip=False)
    return maturin.build_sdist(sdist_directory, config_settings)
