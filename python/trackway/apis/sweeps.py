"""`Api().sweep(path)`: wandb's public `Sweep` over the server's sweep routes (docs/sweeps.md).
The controller decides the best trial (trackway-sweep's rule, one home); this object only reads."""

import urllib.parse

from ..errors import CommError

# The server's sweep states as wandb's public API spells them.
_STATES = {
    "running": "RUNNING",
    "paused": "PAUSED",
    "finished": "FINISHED",
    "cancelled": "CANCELED",
}
# Run ids per `run_id $in` filter: well under the server's 500 filter terms.
_IDS_PER_QUERY = 200


def _q(part):
    return urllib.parse.quote(str(part), safe="")


class Sweep:
    """A sweep: `config`, `state`, `runs` (the trials' runs), `best_run()`, `expected_run_count`,
    `order`, `name`, `path`, `url`. Read when made; `load(force=True)` reads it again."""

    def __init__(self, api, entity, project, sweep_id, attrs=None):
        self._api = api
        self._entity = entity
        self.project = project
        self.id = sweep_id
        self._attrs = dict(attrs or {})
        self.runs = []
        self.load(force=not attrs)

    def _url(self):
        return f"/api/v1/sweeps/{_q(self._entity)}/{_q(self.project)}/{_q(self.id)}"

    def load(self, force=False):
        """Reads the sweep and its trials' runs from the server (again when `force`)."""
        if force or not self._attrs:
            try:
                self._attrs = self._api._http.get(self._url())
            except CommError as e:
                raise ValueError(f"Could not find sweep {self!r}: {e}") from None
            self.runs = self._trial_runs()
        return self._attrs

    def _trial_ids(self):
        return [t["run_id"] for t in self._attrs.get("trials") or []]

    def _query_runs(self, ids, order="-created_at"):
        from .public import Runs

        out = []
        for i in range(0, len(ids), _IDS_PER_QUERY):
            flt = {"run_id": {"$in": ids[i : i + _IDS_PER_QUERY]}}
            out.extend(Runs(self._api, self._entity, self.project, flt, order, _IDS_PER_QUERY))
        return out

    def _trial_runs(self):
        """The trials' runs that exist on the server (a claimed trial may not have started one
        yet), in claim order."""
        ids = self._trial_ids()
        by_id = {r.id: r for r in self._query_runs(ids)}
        return [by_id[i] for i in ids if i in by_id]

    @property
    def entity(self):
        return self._entity

    @property
    def username(self):
        """Deprecated in wandb: the entity."""
        return self._entity

    @property
    def config(self):
        """The sweep config as created (wandb's format)."""
        return dict((self._attrs.get("sweep") or {}).get("config") or {})

    @property
    def state(self):
        """RUNNING, PAUSED, FINISHED or CANCELED (wandb's names)."""
        raw = (self._attrs.get("sweep") or {}).get("state", "")
        return _STATES.get(raw, raw.upper())

    @property
    def name(self):
        return (self._attrs.get("sweep") or {}).get("name") or self.config.get("name") or self.id

    @property
    def order(self):
        """The runs' order that puts the best first: `+summary_metrics.<metric>` to minimize,
        `-...` to maximize; None without a metric."""
        metric = self._attrs.get("metric")
        if not metric:
            return None
        sign = "+" if metric.get("goal", "minimize") == "minimize" else "-"
        return f"{sign}summary_metrics.{metric['name']}"

    def best_run(self, order=None):
        """The best run: by the controller's metric (its rule), or sorted by `order` (e.g.
        `"-summary_metrics.acc"`); None when the sweep has no run yet."""
        if order is None:
            best = self._attrs.get("best_run_id")
            if best is not None:
                return self._api.run(f"{self._entity}/{self.project}/{best}")
            order = "-created_at"  # no metric (or nothing measured yet): the newest run
        runs = self._query_runs(self._trial_ids(), order)
        return runs[0] if runs else None

    @property
    def expected_run_count(self):
        """`run_cap`, else the grid's size; None for an unbounded random/bayes sweep."""
        caps = [c for c in (self._attrs.get("run_cap"), self._attrs.get("grid_size")) if c]
        return min(caps) if caps else None

    @property
    def path(self):
        return [_q(self._entity), _q(self.project), _q(self.id)]

    @property
    def url(self):
        return f"{self._api.base_url.rstrip('/')}/{self._entity}/{self.project}/sweeps/{self.id}"

    @classmethod
    def get(cls, api, entity=None, project=None, sid=None, order=None, query=None, **kwargs):
        """wandb's constructor-by-query: the sweep `sid` of `entity/project`."""
        del order, query, kwargs  # the server has one query for a sweep
        return cls(api, entity or api.default_entity, project, sid)

    def __repr__(self):
        return f"<Sweep {'/'.join(self.path)} ({self.state})>"
