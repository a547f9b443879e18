"""`trackway.login()`: keys are stored by the CLI so there is one credentials writer."""

import os
import subprocess

from . import _term
from ._lifecycle import _require_native, agent_command
from .errors import Error


def login(key=None, host=None, timeout=None, verify=False) -> bool:
    if key is None:
        args = {"base_url": host} if host else {}
        settings = _require_native().resolve_settings(args, os.getcwd())
        if settings.get("api_key"):
            return True
        _term.termwarn("no API key found: call trackway.login(key=...) or run `trackway login`")
        return False
    launcher = agent_command()
    if launcher is None:
        raise Error(
            "no `trackway` command: TRACKWAY_EXE is not an executable, or the native "
            "module is not built"
        )
    cmd = (
        [launcher[0], *launcher[1], "login"]
        + (["--host", host] if host else [])
        + ([] if verify else ["--no-verify"])
    )
    env = dict(os.environ, TRACKWAY_API_KEY=str(key))  # not argv: other users can read that
    try:
        done = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout or 30,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        _term.termerror(f"login failed: {e}")
        return False
    if done.returncode != 0:
        _term.termerror(f"login failed: {done.stderr.strip() or done.stdout.strip()}")
        return False
    return True
