"""The read API: `Api`, `Runs` (lazy pages) and `Run` (attributes, history)."""

import json
import urllib.parse

from .. import _native
from ..errors import CommError, UsageError
from ._http import Http, env, resolve
from .accounts import AccountsMixin
from .reports import ReportsMixin


def decode_value(value):
    """Trackway JSON -> Python: {"$f": "NaN"} -> nan, {"$int": "..."} -> int, {"$map": m} -> m.

    Decoded by the one Rust decoder (`trackway._native.decode_tjson`), so Python, the server and
    the web UI agree on every value; a malformed tag raises CommError (the server never sends one).
    """
    try:
        return _native.decode_tjson(json.dumps(value, allow_nan=False))
    except ValueError as e:
        raise CommError(f"the server sent {e}") from None


def _q(part):
    return urllib.parse.quote(str(part), safe="")


class Api(AccountsMixin, ReportsMixin):
    """A client of one Trackway server.

    base_url / api_key default to TRACKWAY_BASE_URL / TRACKWAY_API_KEY (aliases WANDB_*), then
    the stored login (`trackway login`). `overrides` may hold "entity", "project", "base_url".
    """

    def __init__(self, base_url=None, api_key=None, overrides=None, timeout=None):
        self.overrides = dict(overrides or {})
        base, key, stored_entity = resolve(base_url or self.overrides.get("base_url"), api_key)
        self._http = Http(base, key, timeout or 30)
        self._stored_entity = stored_entity
        self._viewer = None

    @property
    def base_url(self):
        return self._http.base_url

    @property
    def api_key(self):
        return self._http.api_key

    def viewer(self):
        """The key's user: {"username", "entity", "admin"}."""
        if self._viewer is None:
            self._viewer = self._http.get("/api/v1/viewer")
        return self._viewer

    @property
    def default_entity(self):
        e = self.overrides.get("entity") or env("ENTITY") or self._stored_entity
        return e or self.viewer().get("entity") or self.viewer().get("username")

    def _split(self, path, parts):
        """'e/p[/id]' or 'p[/id]' (default entity) or with `/runs/` as in wandb URLs."""
        if path is None:
            path = self.overrides.get("project") or env("PROJECT")
            if not path:
                raise UsageError("give a path like 'entity/project'")
        bits = [b for b in str(path).strip("/").split("/") if b and b != "runs"]
        if len(bits) == parts - 1:
            bits = [self.default_entity] + bits
        if len(bits) != parts:
            shape = "entity/project" + ("/run_id" if parts == 3 else "")
            raise UsageError(f"invalid path {path!r}: expected {shape!r}")
        return bits

    def projects(self, entity=None):
        return self._http.get("/api/v1/projects", {"entity": entity or self.default_entity})

    def flush(self):
        """wandb clears its caches here; this client caches only the viewer."""
        self._viewer = None

    def runs(
        self,
        path=None,
        filters=None,
        order="-created_at",
        per_page=50,
        include_sweeps=True,
        lazy=True,
    ):
        """The runs of a project, newest first by default; MongoDB-style `filters`
        (`config.<key>`, `summary_metrics.<key>`, `tags`, `state`, `display_name`, ...).
        `include_sweeps` and `lazy` are accepted for wandb compatibility."""
        entity, project = self._split(path, 2)
        return Runs(self, entity, project, filters, order, per_page)

    def run(self, path):
        """One run by 'entity/project/run_id'."""
        entity, project, run_id = self._split(path, 3)
        data = self._http.get(f"/api/v1/runs/{_q(entity)}/{_q(project)}/{_q(run_id)}")
        return Run(self, data)

    def sweep(self, path=""):
        """One sweep by 'entity/project/sweep_id' (or 'project/sweep_id'): wandb's `Sweep`
        (`runs`, `best_run()`, `config`, `state`, `expected_run_count`, ...)."""
        from .sweeps import Sweep

        entity, project, sweep_id = self._split(path, 3)
        return Sweep(self, entity, project, sweep_id)

    # -- artifacts (python/trackway/artifacts) ---------------------------------------------------
    def artifact(self, name, type=None):
        """One version by '[entity/]project/name[:alias|:vN]' (default alias: latest)."""
        from ..artifacts import _logging

        return _logging.fetch(self, name, type=type)

    def artifact_exists(self, name, type=None) -> bool:
        from ..errors import CommError

        try:
            self.artifact(name, type)
            return True
        except CommError:
            return False

    def artifact_collections(self, project_name, type_name=None):
        """The project's artifact names: [{name, type, versions, latest, size, updated_at}]."""
        entity, project = self._split(project_name, 2)
        params = {"type": type_name}
        return self._http.get(f"/api/v1/artifacts/{_q(entity)}/{_q(project)}", params)["artifacts"]

    def artifact_versions(self, type_name, name):
        """Every version of '[entity/]project/name', newest first."""
        from ..artifacts import Artifact

        entity, project, coll = self._split(name.partition(":")[0], 3)
        versions = self._http.get(f"/api/v1/artifacts/{_q(entity)}/{_q(project)}/{_q(coll)}")[
            "versions"
        ]
        return [Artifact._from_server(self, v) for v in versions if type_name in (None, v["type"])]

    def artifacts(self, type_name, name, per_page=50, tags=None):
        return self.artifact_versions(type_name, name)


class Runs:
    """A lazily paged list of runs: iterate it, index it, take len() (the server's total)."""

    def __init__(self, api, entity, project, filters, order, per_page):
        self._api, self.entity, self.project = api, entity, project
        self.filters, self.order, self.per_page = filters, order, max(1, int(per_page))
        self._runs, self._cursor, self._done, self._total = [], None, False, None

    def _next_page(self):
        params = {"order": self.order, "limit": self.per_page, "cursor": self._cursor}
        if self.filters:
            params["filters"] = json.dumps(self.filters)
        page = self._api._http.get(
            f"/api/v1/projects/{_q(self.entity)}/{_q(self.project)}/runs", params
        )
        self._runs.extend(Run(self._api, r) for r in page.get("runs") or [])
        self._total = page.get("total", self._total)
        self._cursor = page.get("next_cursor")
        self._done = not self._cursor or not page.get("runs")

    def __iter__(self):
        i = 0
        while True:
            while i < len(self._runs):
                yield self._runs[i]
                i += 1
            if self._done:
                return
            self._next_page()

    def __len__(self):
        if self._total is None and not self._done:
            self._next_page()
        return self._total if self._total is not None else len(self._runs)

    def __getitem__(self, index):
        if isinstance(index, slice) or index < 0:
            return list(self)[index]
        while index >= len(self._runs) and not self._done:
            self._next_page()
        return self._runs[index]

    def __repr__(self):
        return f"<Runs {self.entity}/{self.project}>"


class Run:
    """A run as the server has it. Attributes mirror wandb's public Run."""

    def __init__(self, api, data):
        self._api = api
        self._attrs = data
        self.entity = data.get("entity")
        self.project = data.get("project")
        self.id = data.get("run_id")
        self.name = data.get("name")
        self.state = data.get("state")
        self.tags = list(data.get("tags") or [])
        self.group = data.get("group")
        self.job_type = data.get("job_type")
        self.notes = data.get("notes")
        self.created_at = data.get("created_at")
        self.heartbeat_at = data.get("heartbeat_at")
        self.exit_code = data.get("exit_code")
        self.url = data.get("url")
        self.lastHistoryStep = data.get("last_step")
        self.config = decode_value(data.get("config") or {})
        self.summary = decode_value(data.get("summary") or {})
        self.metadata = decode_value(data.get("metadata") or {})
        self.sweep_name = data.get("sweep")  # the id of the sweep this run is a trial of

    @property
    def sweep(self):
        """The `Sweep` this run is a trial of, or None."""
        if not self.sweep_name:
            return None
        return self._api.sweep(f"{self.entity}/{self.project}/{self.sweep_name}")

    @property
    def path(self):
        return [self.entity, self.project, self.id]

    @property
    def summary_metrics(self):
        return self.summary

    @property
    def display_name(self):
        return self.name

    def _hist_url(self):
        return f"/api/v1/runs/{_q(self.entity)}/{_q(self.project)}/{_q(self.id)}/history"

    def history(self, keys=None, samples=500, x_axis="_step", pandas=True, stream="default"):
        """At most `samples` evenly spaced rows (first and last kept). With `keys`, only rows
        holding all of them (as wandb), restricted to those keys plus `x_axis`."""
        if stream != "default":
            return [] if not pandas else _frame([])
        want = None
        if keys:
            want = list(dict.fromkeys([x_axis] + list(keys)))
        params = {"samples": int(samples)}
        if want:
            params["keys"] = _keys_param(want)
        page = self._api._http.get(self._hist_url(), params)
        rows = decode_value(page.get("rows") or [])
        if keys:
            rows = [{k: r[k] for k in want if k in r} for r in rows if all(k in r for k in keys)]
        return _frame(rows) if pandas else rows

    def scan_history(self, keys=None, page_size=1000, min_step=None, max_step=None):
        """Every history row in step order. With `keys`, only rows containing all of them
        (as wandb does), each row holding those keys and `_step`."""
        want = list(dict.fromkeys(["_step"] + list(keys))) if keys else None
        cursor = None
        while True:
            params = {
                "limit": int(page_size),
                "cursor": cursor,
                "min_step": min_step,
                "max_step": max_step,
            }
            if want:
                params["keys"] = _keys_param(want)
            page = self._api._http.get(self._hist_url(), params)
            for row in decode_value(page.get("rows") or []):
                if want is None:
                    yield row
                elif all(k in row for k in want):
                    yield {k: row[k] for k in want}
            cursor = page.get("next_cursor")
            if not cursor or not page.get("rows"):
                return

    @display_name.setter
    def display_name(self, value):
        self.name = value

    def _run_url(self):
        return f"/api/v1/runs/{_q(self.entity)}/{_q(self.project)}/{_q(self.id)}"

    def update(self):
        """Saves edits of `name`, `notes` and `tags` (as wandb's `Run.update()`)."""
        body = {"name": self.name, "notes": self.notes, "tags": list(self.tags)}
        data = self._api._http.patch(self._run_url(), body)
        if isinstance(data, dict) and data.get("run_id"):
            self.__init__(self._api, data)
        return self

    def _artifacts(self, which):
        from ..artifacts import Artifact

        data = self._api._http.get(
            f"/api/v1/runs/{_q(self.entity)}/{_q(self.project)}/{_q(self.id)}/artifacts"
        )
        return [Artifact._from_server(self._api, v) for v in data[which]]

    def logged_artifacts(self, per_page=100):
        """The versions this run produced."""
        return self._artifacts("logged")

    def used_artifacts(self, per_page=100):
        """The versions this run consumed."""
        return self._artifacts("used")

    def save(self):
        """wandb's alias of `update()`."""
        return self.update()

    def delete(self, delete_artifacts=False):
        """Deletes the run with its history, console and files (as wandb's `Run.delete()`).
        `delete_artifacts` is accepted for wandb compatibility; run deletion never removes
        artifact versions, which may be used by other runs."""
        del delete_artifacts
        self._api._http.delete(self._run_url())

    def move(self, project, entity=None):
        """Moves the run to `project` (created if needed) of `entity` (default: its own),
        keeping its id, history and files. Trackway's addition: wandb's public API has no move."""
        body = {"project": project}
        if entity is not None:
            body["entity"] = entity
        data = self._api._http.post(self._run_url() + "/move", body)
        self.__init__(self._api, data)
        return self

    def refresh(self):
        fresh = self._api.run("/".join(self.path))
        self.__dict__.update(fresh.__dict__)
        return self

    def __repr__(self):
        return f"<Run {'/'.join(str(p) for p in self.path)} ({self.state})>"


_SYSTEM_KEYS = ("_step", "_runtime", "_timestamp")


def _keys_param(keys):
    """The server always returns the system columns; naming them would filter every row out."""
    return ",".join(k for k in keys if k not in _SYSTEM_KEYS)


def _frame(rows):
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.DataFrame(rows)


__all__ = ["Api", "Runs", "Run", "decode_value", "CommError"]
