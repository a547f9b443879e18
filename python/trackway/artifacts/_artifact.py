"""`Artifact`: a named, typed set of files, logged by a run and read back through `Api`.

An `Artifact` is either *local* (built with `Artifact(name, type)` and `add_*`, not yet logged:
entries point at local files) or *stored* (returned by `Api().artifact(...)`,
`run.use_artifact(...)` or `wait()` after logging: entries carry their SHA-256 and size and
`download()` fetches them). The manifest format and the name rules are docs/artifacts.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import urllib.parse

from ..errors import CommError, UsageError
from . import _references

NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
NAME_FORM = "1-128 letters, digits, '-', '_' or '.' (e.g. 'model-abc123' or 'mnist_train.v2')"
PATH_FORM = "'name', 'name:alias', 'name:vN', 'project/name:alias' or 'entity/project/name:alias'"


def check_name(name, what="name") -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValueError(f"invalid artifact {what} {name!r}: use {NAME_FORM}")
    return name


def split_path(path: str):
    """'[[entity/]project/]name[:alias]' -> (entity|None, project|None, name, selector)."""
    if not isinstance(path, str) or not path:
        raise ValueError(f"invalid artifact path {path!r}: use {PATH_FORM}")
    body, _, selector = path.partition(":")
    parts = body.split("/")
    if len(parts) > 3 or not all(parts) or (":" in selector) or (_ and not selector):
        raise ValueError(f"invalid artifact path {path!r}: use {PATH_FORM}")
    name = parts[-1]
    check_name(name)
    if selector:
        check_name(selector, "alias or version")
    entity = parts[0] if len(parts) == 3 else None
    project = parts[-2] if len(parts) >= 2 else None
    return entity, project, name, selector or "latest"


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class ArtifactManifestEntry:
    """One file of an artifact: `path` inside it, and either a local file (`local_path`), a
    stored blob (`digest` = SHA-256 hex, `size`) or a reference (`ref`)."""

    def __init__(self, path, digest=None, size=None, local_path=None, ref=None, artifact=None):
        self.path = path
        self.digest = digest
        self.size = size
        self.local_path = local_path
        self.ref = ref
        self._artifact = artifact

    def download(self, root=None) -> str:
        if self._artifact is None:
            raise UsageError("this entry belongs to no stored artifact")
        return self._artifact._download_entry(self, root or self._artifact._default_root())

    def ref_url(self):
        return self.ref

    def __repr__(self) -> str:
        return (
            f"ArtifactManifestEntry(path={self.path!r}, digest={self.digest!r}, size={self.size!r})"
        )


class Artifact:
    """wandb's `Artifact`: see the module docs."""

    def __init__(self, name, type, description=None, metadata=None, incremental=False, use_as=None):
        check_name(name)
        check_name(type, "type")
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError("metadata must be a dict")
        self._name = name
        self._type = type
        self.description = description
        self.metadata = dict(metadata or {})
        self._entries: dict[str, ArtifactManifestEntry] = {}
        self._staging = None  # temp dir of new_file()
        self._policies: dict[str, str] = {}
        self.aliases: list[str] = []
        self.tags: list[str] = []
        self._ttl = None  # datetime.timedelta or None (kept for good)
        self._stored = None  # the server's JSON once stored
        self._api = None
        self._logged = None  # (run, record id) after log_artifact, until wait() resolves it

    # -- identity -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        if self._stored is not None:
            return f"{self._name}:v{self._stored['version']}"
        return self._name

    @property
    def type(self) -> str:
        return self._type

    @property
    def version(self):
        return None if self._stored is None else f"v{self._stored['version']}"

    @property
    def digest(self):
        return None if self._stored is None else self._stored["digest"]

    @property
    def entity(self):
        return None if self._stored is None else self._stored["entity"]

    @property
    def project(self):
        return None if self._stored is None else self._stored["project"]

    @property
    def ttl(self):
        """Time to live (a `datetime.timedelta`, counted from the version's creation) or None:
        the server deletes an expired version and frees the blobs nothing else lists."""
        return self._ttl

    @ttl.setter
    def ttl(self, value) -> None:
        import datetime

        if value is not None and not isinstance(value, datetime.timedelta):
            raise TypeError("ttl must be a datetime.timedelta or None")
        if value is not None and value.total_seconds() < 0:
            raise ValueError("ttl must not be negative")
        self._ttl = value

    def _ttl_seconds(self):
        return None if self._ttl is None else int(self._ttl.total_seconds())

    @property
    def source_name(self) -> str:
        return self.name

    @property
    def qualified_name(self) -> str:
        if self._stored is None:
            return self._name
        return f"{self.entity}/{self.project}/{self.name}"

    @property
    def id(self):
        return None if self._stored is None else f"{self.qualified_name}"

    @property
    def state(self) -> str:
        return "COMMITTED" if self._stored is not None else "PENDING"

    @property
    def size(self) -> int:
        return sum(e.size or 0 for e in self._entries.values())

    @property
    def file_count(self) -> int:
        return len(self._entries)

    @property
    def created_at(self):
        return None if self._stored is None else self._stored.get("created_at")

    @property
    def manifest(self) -> dict:
        """The manifest as docs/artifacts.md writes it."""
        entries = {}
        for p, e in sorted(self._entries.items()):
            entries[p] = (
                {"digest": e.digest, "size": e.size}
                if e.ref is None
                else {"ref": e.ref, "size": e.size}
            )
        return {"version": 1, "entries": entries}

    def __repr__(self) -> str:
        return f"<Artifact {self.qualified_name} ({self._type})>"

    # -- building -------------------------------------------------------------------------------
    def _check_local(self, what):
        if self._stored is not None or self._logged is not None:
            raise UsageError(
                f"{what}: this artifact was already logged; create a new Artifact to change files"
            )

    def _add(self, path, entry, overwrite):
        path = _clean_rel(path)
        if (
            path in self._entries
            and not overwrite
            and self._entries[path].local_path != entry.local_path
        ):
            raise ValueError(
                f"the artifact already has a file at {path!r} (pass overwrite=True to replace it)"
            )
        entry.path = path
        self._entries[path] = entry
        return entry

    def add_file(
        self,
        local_path,
        name=None,
        is_tmp=False,
        skip_cache=None,
        policy="mutable",
        overwrite=False,
    ):
        """Adds one local file (raises at once when it is missing). `policy="mutable"` copies it
        into the run directory when the artifact is logged, so later writes to the file do not
        change what is uploaded; `"immutable"` uploads the file in place."""
        self._check_local("add_file()")
        if policy not in ("mutable", "immutable"):
            raise ValueError(f"policy must be 'mutable' or 'immutable', not {policy!r}")
        local_path = os.fspath(local_path)
        if not os.path.isfile(local_path):
            raise ValueError(f"Path is not a file: {local_path!r}")
        name = name or os.path.basename(local_path)
        size = os.path.getsize(local_path)
        entry = self._add(
            name,
            ArtifactManifestEntry(name, size=size, local_path=os.path.abspath(local_path)),
            overwrite,
        )
        self._policies[entry.path] = policy
        return entry

    def add_dir(self, local_path, name=None, skip_cache=None, policy="mutable", merge=False):
        """Adds every file under a directory, under `name/` (default: at the root)."""
        self._check_local("add_dir()")
        local_path = os.fspath(local_path)
        if not os.path.isdir(local_path):
            raise ValueError(f"Path is not a directory: {local_path!r}")
        for root, _dirs, files in os.walk(local_path):
            for f in sorted(files):
                full = os.path.join(root, f)
                rel = os.path.relpath(full, local_path).replace(os.sep, "/")
                self.add_file(
                    full,
                    name=f"{name}/{rel}" if name else rel,
                    policy=policy,
                    overwrite=merge or True,
                )

    @contextlib.contextmanager
    def new_file(self, name, mode="x", encoding=None):
        """A file written inside the artifact: `with art.new_file("a.txt", mode="w") as f`."""
        self._check_local("new_file()")
        if self._staging is None:
            self._staging = tempfile.mkdtemp(prefix="trackway-artifact-")
        rel = _clean_rel(name)
        if rel in self._entries:
            raise ValueError(f"the artifact already has a file at {rel!r}")
        full = os.path.join(self._staging, *rel.split("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if "b" not in mode and encoding is None:
            encoding = "utf-8"
        with open(full, mode, encoding=encoding) as f:
            yield f
        self.add_file(full, name=rel, policy="immutable")

    def add_reference(self, uri, name=None, checksum=True, max_objects=None):
        """A file kept outside Trackway (`file://`, `s3://`, `gs://`, `http(s)://`). A `file://`
        reference is hashed when `checksum` so a change makes a new version."""
        self._check_local("add_reference()")
        parsed = urllib.parse.urlparse(str(uri))
        if parsed.scheme not in ("file", "s3", "gs", "http", "https"):
            raise ValueError(
                f"unsupported reference {uri!r}: use file://, s3://, gs://, http:// or https://"
            )
        size, digest = 0, None
        if parsed.scheme == "file":
            local = urllib.parse.unquote(parsed.path)
            if not os.path.isfile(local):
                raise ValueError(f"Path is not a file: {local!r}")
            size = os.path.getsize(local)
            digest = sha256_file(local) if checksum else None
        elif checksum and parsed.scheme in ("s3", "http", "https"):
            # Read once to learn its SHA-256: a change makes a new version, and a download is
            # verified against it.
            digest, size = _references.fetch(str(uri), None)
        name = name or os.path.basename(parsed.path.rstrip("/")) or parsed.netloc
        entry = ArtifactManifestEntry(name, digest=digest, size=size, ref=str(uri))
        return [self._add(name, entry, overwrite=True)]

    def remove(self, item) -> None:
        self._check_local("remove()")
        path = item.path if isinstance(item, ArtifactManifestEntry) else _clean_rel(item)
        if path not in self._entries:
            raise FileNotFoundError(f"the artifact has no file {path!r}")
        del self._entries[path]

    def get_entry(self, name) -> ArtifactManifestEntry:
        try:
            return self._entries[_clean_rel(name)]
        except KeyError:
            raise KeyError(f"the artifact has no file {name!r}") from None

    get_path = get_entry

    def files(self):
        return list(self._entries.values())

    # -- records (what log_artifact writes) -----------------------------------------------------
    def _record_entries(self, stage_dir) -> list:
        """The `entries` of the `artifact` record; mutable files are copied into `stage_dir`."""
        out = []
        for path, e in sorted(self._entries.items()):
            if e.ref is not None:
                out.append({"path": path, "ref": e.ref, "ref_digest": e.digest, "size": e.size})
                continue
            local = e.local_path
            if self._policies.get(path, "mutable") == "mutable":
                dest = os.path.join(stage_dir, *path.split("/"))
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copyfile(local, dest)
                local = dest
            out.append({"path": path, "local": local, "size": os.path.getsize(local)})
        return out

    # -- stored artifacts -----------------------------------------------------------------------
    @classmethod
    def _from_server(cls, api, data) -> Artifact:
        art = cls.__new__(cls)
        Artifact.__init__(
            art, data["name"], data["type"], data.get("description"), data.get("metadata") or {}
        )
        art._api = api
        art._load(data)
        return art

    def _load(self, data) -> None:
        self._stored = data
        self.aliases = [a for a in data.get("aliases") or []]
        self.tags = list(data.get("tags") or [])
        self._saved_aliases = list(self.aliases)
        self.metadata = data.get("metadata") or {}
        self.description = data.get("description")
        expires = data.get("expires_at")
        if expires is None:
            self._ttl = None
        else:
            import datetime

            self._ttl = datetime.timedelta(seconds=round(expires - data["created_at"]))
        self._saved_ttl = self._ttl
        self._entries = {}
        for e in data.get("entries") or []:
            self._entries[e["path"]] = ArtifactManifestEntry(
                e["path"],
                digest=e.get("sha256") or e.get("ref_digest"),
                size=e.get("size"),
                ref=e.get("ref"),
                artifact=self,
            )

    def _require_stored(self, what):
        if self._stored is None and self._logged is not None:
            self.wait()
        if self._stored is None:
            raise UsageError(
                f"{what}: log the artifact first (run.log_artifact) or get it with Api().artifact()"
            )
        if self._stored.get("entries") is None:  # from a listing: the manifest is loaded on use
            self._load(self._fresh())

    def _url_base(self) -> str:
        from ..apis.public import _q

        return f"/api/v1/artifacts/{_q(self.entity)}/{_q(self.project)}/{_q(self._name)}"

    def _default_root(self) -> str:
        base = (
            os.environ.get("TRACKWAY_ARTIFACT_DIR")
            or os.environ.get("WANDB_ARTIFACT_DIR")
            or "artifacts"
        )
        return os.path.join(base, f"{self._name}:{self.version}")

    def _download_entry(self, entry, root) -> str:
        from .. import _native
        from . import _cache

        dest = os.path.join(root, *entry.path.split("/"))
        os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
        if entry.ref is not None:
            try:
                _references.download(entry.ref, dest, entry.digest, entry.size)
            except (OSError, ValueError) as e:
                raise CommError(f"downloading {entry.path} from {entry.ref}: {e}", exc=e) from None
            return dest
        src = _cache.cached(entry.digest, entry.size)
        if src is None:
            src = _cache.blob_path(entry.digest)
            os.makedirs(os.path.dirname(src), exist_ok=True)
            http = self._api._http
            try:
                _native.download_blob(
                    http.base_url, http.api_key, self.entity, self.project, entry.digest, src
                )
            except OSError as e:
                raise CommError(
                    f"downloading {entry.path} of {self.qualified_name}: {e}", exc=e
                ) from None
        if (
            os.path.exists(dest)
            and os.path.getsize(dest) == entry.size
            and sha256_file(dest) == entry.digest
        ):
            return dest
        _copy_atomic(src, dest)
        return dest

    def download(
        self,
        root=None,
        allow_missing_references=False,
        skip_cache=None,
        path_prefix=None,
        multipart=None,
    ):
        """Downloads every file (verified) into `root` (default `./artifacts/<name>:<version>`);
        returns `root`."""
        self._require_stored("download()")
        from . import _cache

        root = os.fspath(root) if root is not None else self._default_root()
        for entry in self._entries.values():
            if path_prefix and not entry.path.startswith(path_prefix):
                continue
            self._download_entry(entry, root)
        _cache.apply_cap()
        return root

    def checkout(self, root=None) -> str:
        """`download()`, then removes files under `root` that the artifact does not have."""
        root = self.download(root)
        keep = {os.path.normpath(os.path.join(root, *p.split("/"))) for p in self._entries}
        for d, _dirs, files in os.walk(root):
            for f in files:
                full = os.path.normpath(os.path.join(d, f))
                if full not in keep:
                    os.remove(full)
        return root

    def verify(self, root=None) -> None:
        """Raises ValueError unless `root` holds exactly the artifact's files, byte for byte."""
        self._require_stored("verify()")
        root = os.fspath(root) if root is not None else self._default_root()
        seen = set()
        for d, _dirs, files in os.walk(root):
            for f in files:
                seen.add(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/"))
        for path, e in self._entries.items():
            if e.ref is not None and e.digest is None:
                continue  # a reference logged without a checksum: nothing to compare
            full = os.path.join(root, *path.split("/"))
            if path not in seen or sha256_file(full) != e.digest:
                raise ValueError(f"{full}: missing or different from the artifact's {path}")
        extra = seen - set(self._entries)
        if extra:
            raise ValueError(f"{root} has files the artifact does not: {sorted(extra)[:5]}")

    def wait(self, timeout=None) -> Artifact:
        """Waits until the agent has uploaded and committed a logged artifact, then loads it."""
        if self._stored is not None or self._logged is None:
            return self
        from . import _logging

        data = _logging.wait_committed(self, timeout)
        if data is not None:
            self._load(data)
        return self

    def is_draft(self) -> bool:
        return self._stored is None

    def logged_by(self):
        self._require_stored("logged_by()")
        p = self._fresh().get("producer")
        return None if p is None else self._api.run(f"{p['entity']}/{p['project']}/{p['run_id']}")

    def used_by(self) -> list:
        self._require_stored("used_by()")
        return [
            self._api.run(f"{c['entity']}/{c['project']}/{c['run_id']}")
            for c in self._fresh().get("consumers") or []
        ]

    def _fresh(self) -> dict:
        return self._api._http.get(f"{self._url_base()}/v{self._stored['version']}")

    def save(self) -> None:
        """Stores changes made to `aliases` (adds and removals, atomically) and to `ttl`."""
        self._require_stored("save()")
        add = [a for a in self.aliases if a not in self._saved_aliases]
        remove = [a for a in self._saved_aliases if a not in self.aliases]
        ttl_changed = self._ttl != self._saved_ttl
        if add or remove or ttl_changed:
            body = {"add_aliases": add, "remove_aliases": remove}
            if ttl_changed:
                body["ttl"] = self._ttl_seconds()
            self._load(
                {
                    **self._stored,
                    **self._api._http.patch(f"{self._url_base()}/v{self._stored['version']}", body),
                }
            )

    def delete(self, delete_aliases=False) -> None:
        self._require_stored("delete()")
        self._api._http.request("DELETE", f"{self._url_base()}/v{self._stored['version']}")


def _clean_rel(path) -> str:
    rel = os.fspath(path).replace("\\", "/").strip("/")
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ValueError(
            f"invalid path inside an artifact: {path!r} (a relative path without '..')"
        )
    return "/".join(parts)


def _copy_atomic(src, dest) -> None:
    """Copies through a temporary file beside `dest`, so `dest` is never half-written."""
    tmp = f"{dest}.part-{os.getpid()}"
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
