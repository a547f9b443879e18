"""Where the server is and which key to send (the SDK's rule, through the native module), and a
small JSON client."""

import json
import os
import urllib.parse

from .. import _native
from ..errors import CommError, UsageError

DEFAULT_PORT = 8767


def env(name):
    """TRACKWAY_<name>, then WANDB_<name>; empty counts as unset (as trackway-config)."""
    for prefix in ("TRACKWAY_", "WANDB_"):
        value = os.environ.get(prefix + name)
        if value is not None and value.strip():
            return value
    return None


def resolve(base_url=None, api_key=None):
    """(base_url, api_key, entity) by the SDK's one rule, `trackway._native.resolve_settings`
    (arguments, then TRACKWAY_*/WANDB_* env, then the workspace settings file, then the stored
    login for that host), so `Api()` and `trackway.init()` always talk to the same server."""
    args = {k: v for k, v in (("base_url", base_url), ("api_key", api_key)) if v is not None}
    try:
        cwd = os.getcwd()
    except OSError:  # the working directory was deleted: no workspace settings to read
        cwd = "/"
    try:
        settings = _native.resolve_settings(args, cwd)
    except ValueError as e:
        raise UsageError(f"invalid Trackway setting: {e}") from None
    base = settings.get("base_url") or f"http://127.0.0.1:{DEFAULT_PORT}"
    return base, settings.get("api_key"), settings.get("entity")


class Http:
    """JSON over HTTP with a bearer key, through the one HTTP client (trackway-client, via
    `trackway._native.api_request`); errors become CommError with the server's message."""

    def __init__(self, base_url, api_key, timeout):
        self.base_url = base_url
        self.api_key = api_key
        self.timeout = timeout

    def get(self, path, params=None):
        return self.request("GET", path, params)

    def patch(self, path, body):
        return self.request("PATCH", path, None, body)

    def post(self, path, body):
        return self.request("POST", path, None, body)

    def delete(self, path):
        return self.request("DELETE", path)

    def request(self, method, path, params=None, body=None):
        query = ""
        if params:
            clean = {k: v for k, v in params.items() if v is not None}
            query = "?" + urllib.parse.urlencode(clean) if clean else ""
        data = None if body is None else json.dumps(body)
        try:
            text = _native.api_request(
                self.base_url, self.api_key, method, path + query, data, float(self.timeout)
            )
        except (OSError, ValueError) as e:
            raise CommError(str(e), exc=e) from None
        try:
            return json.loads(text)
        except ValueError as e:
            raise CommError(f"{path}: the server sent invalid JSON", exc=e) from None
