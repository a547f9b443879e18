"""The run side of artifacts: `log_artifact`, `use_artifact`, models, and `wait()`.

`log_artifact` appends one record to the run log and returns (docs/run-format.md, `artifact`):

    {"t":"artifact","id":"<hex>","name":"model-x","type":"model","description":null,
     "metadata":{},"aliases":["best"],"tags":[],"ttl":null,
     "entries":[{"path":"model.ckpt","local":"/abs/run-dir/artifacts/<id>/model.ckpt","size":123},
                {"path":"data","ref":"s3://bucket/key","ref_digest":null,"size":0}]}

Files of policy "mutable" are first copied into `<run dir>/artifacts/<id>/`, so the upload is
the content at log time. The agent hashes, uploads and commits, then writes what each record
became into `<run dir>/artifacts.json` (`results[id]`), which `Artifact.wait()` reads.
`use_artifact` resolves the version on the server at once (it is about to be downloaded) and
appends a `use_artifact` record, which the agent turns into lineage.
"""

from __future__ import annotations

import json
import os
import secrets
import time

from ..errors import CommError, UsageError
from ._artifact import Artifact, check_name, split_path

STATE_FILE = "artifacts.json"
#: Longest `wait()` without a timeout.
DEFAULT_WAIT_S = 600.0


def _append(run, record) -> None:
    from .._files import append_record

    append_record(run._backend.log_path, record)


def _aliases(aliases) -> list:
    if aliases is None:
        return []
    if isinstance(aliases, str):
        aliases = [aliases]
    out = []
    for a in aliases:
        check_name(str(a), "alias")
        if a != "latest" and a not in out:
            out.append(str(a))  # `latest` moves by itself
    return out


def log_artifact(run, artifact_or_path, name=None, type=None, aliases=None, tags=None):
    if isinstance(artifact_or_path, Artifact):
        art = artifact_or_path
    else:
        path = os.fspath(artifact_or_path)
        art = Artifact(
            name or f"run-{run.id}-{os.path.basename(path.rstrip('/'))}", type or "unspecified"
        )
        if os.path.isdir(path):
            art.add_dir(path)
        else:
            art.add_file(path)
    if art._stored is not None or art._logged is not None:
        raise UsageError(f"{art.name} was logged already; create a new Artifact for a new version")
    extra = _aliases(aliases)
    art.aliases = ["latest", *extra]
    art.tags = [check_name(str(t), "tag") for t in (tags or [])]
    if run._disabled:
        return art
    rid = secrets.token_hex(8)
    stage = os.path.join(run._backend.dir, "artifacts", rid)
    record = {
        "t": "artifact",
        "id": rid,
        "name": art._name,
        "type": art.type,
        "description": art.description,
        "metadata": art.metadata,
        "aliases": extra,
        "tags": art.tags,
        "ttl": art._ttl_seconds(),
        "entries": art._record_entries(stage),
    }
    _append(run, record)
    art._logged = (run, rid)
    return art


def wait_committed(art, timeout):
    """The server's JSON of a logged artifact once the agent committed it (None offline)."""
    run, rid = art._logged
    if run.offline:
        return None
    deadline = time.monotonic() + (DEFAULT_WAIT_S if timeout is None else float(timeout))
    state_path = os.path.join(run._backend.dir, STATE_FILE)
    while True:
        result = _result(state_path, rid)
        if result is not None:
            from ..apis import Api

            api = Api()
            data = api._http.get(
                _version_url(
                    result["entity"], result["project"], result["name"], f"v{result['version']}"
                )
            )
            art._api = api
            return data
        if time.monotonic() >= deadline:
            raise CommError(
                f"artifact {art._name} was not uploaded within {timeout} s (the agent keeps trying)"
            )
        time.sleep(0.1)


def _result(state_path, rid):
    try:
        with open(state_path, encoding="utf-8") as f:
            return (json.load(f).get("results") or {}).get(rid)
    except (OSError, ValueError):
        return None


def _version_url(entity, project, name, selector) -> str:
    from ..apis.public import _q

    return f"/api/v1/artifacts/{_q(entity)}/{_q(project)}/{_q(name)}/{_q(selector)}"


def fetch(api, path, type=None, default_project=None) -> Artifact:
    """`Api().artifact(path)`: one stored version."""
    entity, project, name, selector = split_path(path)
    project = project or default_project or api.overrides.get("project")
    if not project:
        raise ValueError(
            f"{path!r} names no project: use 'project/name:alias' or 'entity/project/name:alias'"
        )
    entity = entity or api.default_entity
    data = api._http.get(_version_url(entity, project, name, selector))
    if type is not None and data.get("type") != type:
        raise ValueError(f"artifact {path!r} has type {data.get('type')!r}, not {type!r}")
    return Artifact._from_server(api, data)


def use_artifact(run, artifact_or_name, type=None, aliases=None, use_as=None):
    if run._disabled:
        return (
            artifact_or_name
            if isinstance(artifact_or_name, Artifact)
            else Artifact("disabled", type or "unspecified")
        )
    if isinstance(artifact_or_name, Artifact):
        art = artifact_or_name
        if art._stored is None and art._logged is None:
            return log_artifact(run, art, aliases=aliases)  # a local artifact is logged as an input
        art.wait()
    else:
        if run.offline:
            raise UsageError(
                "use_artifact() by name needs the server: run online, or download it with Api() first"
            )
        from ..apis import Api

        api = Api(
            overrides={"project": run.project, **({"entity": run.entity} if run.entity else {})}
        )
        art = fetch(api, artifact_or_name, type=type)
    if art._stored is not None:
        _append(
            run,
            {
                "t": "use_artifact",
                "id": secrets.token_hex(8),
                "entity": art.entity,
                "project": art.project,
                "name": art._name,
                "selector": art.version,
            },
        )
    return art


def log_model(run, path, name=None, aliases=None):
    return log_artifact(
        run, path, name=name or f"run-{run.id}-model", type="model", aliases=aliases
    )


def use_model(run, name) -> str:
    art = use_artifact(run, name)
    if art.type != "model":
        raise ValueError(f"{name!r} is a {art.type!r} artifact, not a model")
    return art.download()


def link_model(run, path, registered_model_name, aliases=None):
    """Logs the model under `registered_model_name` (this server's registry is the project)."""
    return log_artifact(run, path, name=registered_model_name, type="model", aliases=aliases)
