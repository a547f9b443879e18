"""Reports on `Api` (docs/reports.md): create a report from code for an automated summary,
read, update, share and restore it. A report is a list of blocks: `markdown(text)` and live
panels (`line_panel`, `scatter_panel`, `runs_panel`) over a run set (a project + a filter);
its panels query the server when the report is opened, so they stay live."""


def _q(part):
    import urllib.parse

    return urllib.parse.quote(str(part), safe="")


def markdown(text):
    """A markdown block."""
    return {"type": "markdown", "text": text}


def _panel(kind, project, keys, entity, filters, title, name):
    runset = {"entity": entity, "project": project}
    if filters is not None:
        runset["filters"] = filters
    if name is not None:
        runset["name"] = name
    block = {"type": "panel", "kind": kind, "runset": runset, "keys": list(keys)}
    if title is not None:
        block["title"] = title
    return block


def line_panel(project, metrics, entity=None, filters=None, title=None, name=None):
    """A line chart of `metrics` for the runs of `project` matching `filters`."""
    return _panel("line", project, metrics, entity, filters, title, name)


def scatter_panel(project, x, y, entity=None, filters=None, title=None, name=None):
    """One point per run at run-table fields `x`, `y` (e.g. "config.lr", "summary.loss")."""
    return _panel("scatter", project, [x, y], entity, filters, title, name)


def runs_panel(project, columns, entity=None, filters=None, title=None, name=None):
    """A run table with `columns` (run-table fields)."""
    return _panel("runs", project, columns, entity, filters, title, name)


class ReportsMixin:
    """Mixed into `Api`; uses its `_http` and `default_entity`."""

    def _report_doc(self, entity, blocks, smoothing, x):
        for b in blocks:
            if b.get("type") == "panel" and not b["runset"].get("entity"):
                b["runset"]["entity"] = entity
        return {"settings": {"smoothing": smoothing, "x": x}, "blocks": list(blocks)}

    def create_report(
        self, title, blocks, entity=None, visibility="private", smoothing=0.0, x="_step"
    ):
        """A new report of `blocks` owned by `entity` (default: yours); returns it with its `id`."""
        entity = entity or self.default_entity
        body = {
            "title": title,
            "doc": self._report_doc(entity, blocks, smoothing, x),
            "visibility": visibility,
        }
        return self._http.request("POST", f"/api/v1/reports/{_q(entity)}", body=body)

    def reports(self, path="", name=None, per_page=50, entity=None):
        """wandb's signature: `path` is `entity` or `entity/project` (the reports of that
        entity, those with a panel over that project), `name` a title to match; the list comes
        in one page, so `per_page` changes nothing."""
        parts = [p for p in str(path or "").split("/") if p]
        entity = entity or (parts[0] if parts else None) or self.default_entity
        found = self._http.get(f"/api/v1/reports/{_q(entity)}")["reports"]
        if name is not None:
            found = [r for r in found if r.get("title") == name]
        if len(parts) > 1:
            found = [r for r in found if parts[1] in self._report_projects(r["id"], entity)]
        return found

    def _report_projects(self, report_id, entity):
        doc = self.report(report_id, entity).get("doc") or {}
        return {
            b["runset"].get("project") for b in doc.get("blocks", []) if b.get("type") == "panel"
        }

    def report(self, report_id, entity=None):
        entity = entity or self.default_entity
        return self._http.get(f"/api/v1/reports/{_q(entity)}/{int(report_id)}")

    def update_report(
        self, report_id, title, blocks, entity=None, smoothing=0.0, x="_step", base_version=None
    ):
        """Saves a new version; with `base_version`, refused (409) if someone saved in between."""
        entity = entity or self.default_entity
        body = {
            "title": title,
            "doc": self._report_doc(entity, blocks, smoothing, x),
            "base_version": base_version,
        }
        return self._http.request(
            "PUT", f"/api/v1/reports/{_q(entity)}/{int(report_id)}", body=body
        )

    def set_report_visibility(self, report_id, visibility, entity=None):
        """ "private" (the entity's members), "team" (signed-in users) or "public" (the link)."""
        entity = entity or self.default_entity
        path = f"/api/v1/reports/{_q(entity)}/{int(report_id)}/visibility"
        return self._http.request("PUT", path, body={"visibility": visibility})

    def report_versions(self, report_id, entity=None):
        entity = entity or self.default_entity
        return self._http.get(f"/api/v1/reports/{_q(entity)}/{int(report_id)}/versions")["versions"]

    def restore_report(self, report_id, version, entity=None):
        """Makes an old version current again, as a new version."""
        entity = entity or self.default_entity
        path = f"/api/v1/reports/{_q(entity)}/{int(report_id)}/versions/{int(version)}/restore"
        return self._http.request("POST", path)
