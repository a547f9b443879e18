"""End to end: run files, console output and system metrics on a real `trackway server`, and
`trackway restore`/`pull` over HTTP into a fresh git clone.

The server runs on port 0 with a temporary data dir and config dir. Uploads use plain
`urllib` (as any client could), so the test checks the HTTP contract of docs/api.md.

The restore test runs a real training script (offline) in a git repository with uncommitted
changes of every kind, sends its run log to the server through `POST /api/v1/ingest`, and uploads
its files with `PUT .../files/{path}` the way the agent does. Until the agent runs the capture
itself, the test writes the two files the capture writes (`diff.patch` = `git diff --binary
HEAD` with the capture's flags, and `trackway-metadata.json` with the git commit);
crates/trackway-capture/tests check that the capture writes exactly those.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import Server as BaseServer
from conftest import clean_env, only_run, trackway_bin

REPO = Path(__file__).resolve().parents[2]


BIN = trackway_bin()


class Server(BaseServer):
    """The shared test server, started at once, with small HTTP helpers for the file routes."""

    def __init__(self, tmp: Path):
        super().__init__(tmp)
        self.start()

    def stop(self, sig=signal.SIGKILL):
        super().stop(sig)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ):
        """(status, headers, body bytes); HTTP errors are answers, not exceptions."""
        req = urllib.request.Request(
            self.url + path,
            data=body,
            method=method,
            headers={"Authorization": f"Bearer {self.key}", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def json(self, method: str, path: str, doc=None):
        body = None if doc is None else json.dumps(doc).encode()
        status, _, data = self.request(method, path, body, {"Content-Type": "application/json"})
        return status, json.loads(data) if data else None

    def put_file(self, run: str, rel: str, data: bytes, digest: str | None = None):
        quoted = "/".join(urllib.parse.quote(seg, safe="") for seg in rel.split("/"))
        headers = {"X-Content-SHA256": digest} if digest else {}
        status, _, body = self.request("PUT", f"/api/v1/runs/{run}/files/{quoted}", data, headers)
        return status, json.loads(body)

    def ingest_log(self, log: Path, project: str, run_id: str, log_id: str):
        """Sends a whole log as one batch with exact byte positions (docs/api.md "Ingest")."""
        data, records, pos = log.read_bytes(), [], 0
        while (end := data.find(b"\n", pos)) >= 0:
            records.append([pos, json.loads(data[pos:end])])
            pos = end + 1
        doc = {
            "entity": "admin",
            "project": project,
            "run_id": run_id,
            "log_id": log_id,
            "from": 0,
            "to": pos,
            "records": records,
        }
        status, ack = self.json("POST", "/api/v1/ingest", doc)
        assert status == 200 and ack["acked"] == pos, ack


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    yield s
    s.stop()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_run(server: Server, run_id: str = "files1") -> str:
    log = {
        "t": "run",
        "v": 1,
        "log_id": "e2e0000000000001",
        "run_id": run_id,
        "project": "p",
        "created_at": 1764331200.0,
    }
    server.ingest_log(write_log(server.tmp / f"{run_id}.jsonl", [log]), "p", run_id, log["log_id"])
    return f"admin/p/{run_id}"


def write_log(path: Path, records: list) -> Path:
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records))
    return path


def test_upload_list_download_and_versions(server):
    run = make_run(server)
    v1, v2 = b"checkpoint one\n", bytes(range(256)) * 40
    status, out = server.put_file(run, "ckpt/model.pt", v1, sha(v1))
    assert status == 200, out
    assert (out["version"], out["created"], out["sha256"], out["size"]) == (
        1,
        True,
        sha(v1),
        len(v1),
    )
    assert server.put_file(run, "ckpt/model.pt", v1, sha(v1))[1]["created"] is False, (
        "resend is a no-op"
    )
    assert server.put_file(run, "ckpt/model.pt", v2, sha(v2))[1]["version"] == 2
    assert server.put_file(run, "ckpt/model.pt", v1)[1]["version"] == 3, (
        "a live file edited three times"
    )
    assert server.put_file(run, "logs/out put.txt", b"spaces ok")[1]["path"] == "logs/out put.txt"

    status, listing = server.json("GET", f"/api/v1/runs/{run}/files")
    assert status == 200
    latest = {f["path"]: f for f in listing["files"]}
    assert set(latest) == {"ckpt/model.pt", "logs/out put.txt"}
    assert (latest["ckpt/model.pt"]["versions"], latest["ckpt/model.pt"]["sha256"]) == (3, sha(v1))
    _, every = server.json("GET", f"/api/v1/runs/{run}/files?all=true")
    assert [(f["path"], f["version"]) for f in every["files"]] == [
        ("ckpt/model.pt", 1),
        ("ckpt/model.pt", 2),
        ("ckpt/model.pt", 3),
        ("logs/out put.txt", 1),
    ]

    status, headers, body = server.request("GET", f"/api/v1/runs/{run}/files/ckpt/model.pt")
    assert (status, body, headers["ETag"]) == (200, v1, f'"{sha(v1)}"')
    assert server.request("GET", f"/api/v1/runs/{run}/files/ckpt/model.pt?version=2")[2] == v2
    _, headers, _ = server.request("GET", f"/api/v1/runs/{run}/files/logs/out%20put.txt")
    assert headers["Content-Type"] == "text/plain"
    assert server.request("GET", f"/api/v1/runs/{run}/files/ckpt/model.pt?version=7")[0] == 404
    blobs = [p for p in (server.data / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 3, f"identical content is stored once: {blobs}"


@pytest.mark.parametrize(
    "bad",
    [
        "../escape.txt",
        "a/../../etc/passwd",
        "%2e%2e/x",
        "/etc/passwd",
        "%2Fetc%2Fpasswd",
        "a%5Cb.txt",
        "a%00b",
        "a//b",
        "a/./b",
    ],
)
def test_paths_that_leave_the_files_area_are_refused(server, bad):
    run = make_run(server)
    # urllib would normalise nothing, but send the raw path as given (no quoting here).
    status, _, body = server.request("PUT", f"/api/v1/runs/{run}/files/{bad}", b"x")
    assert status == 400, body
    assert json.loads(body)["error"]["code"] == "invalid_path"
    assert server.request("GET", f"/api/v1/runs/{run}/files/{bad}")[0] == 400
    assert server.json("GET", f"/api/v1/runs/{run}/files")[1]["files"] == []


def test_wrong_digest_and_missing_key_are_refused(server):
    run = make_run(server)
    status, out = server.put_file(run, "a.txt", b"abc", sha(b"abd"))
    assert (status, out["error"]["code"]) == (409, "content_mismatch")
    req = urllib.request.Request(
        f"{server.url}/api/v1/runs/{run}/files/a.txt", data=b"x", method="PUT"
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=30)
    assert err.value.code == 401


def test_system_metrics_stream_is_queryable(server):
    run = make_run(server)
    header = {
        "t": "stream",
        "v": 1,
        "kind": "system",
        "log_id": "sys0000000000001",
        "run_id": "files1",
        "run_log_id": "e2e0000000000001",
    }
    stats = [
        {
            "t": "stats",
            "ts": 1764331200.0 + 30 * i,
            "samples": 15,
            "window": 30.0,
            "data": {"system/cpu": 10.0 * i, "system/memory_percent": 50.0},
        }
        for i in range(1, 4)
    ]
    server.ingest_log(
        write_log(server.tmp / "system.jsonl", [header, *stats]), "p", "files1", header["log_id"]
    )
    _, page = server.json("GET", f"/api/v1/runs/{run}/history?stream=system")
    assert [r["system/cpu"] for r in page["rows"]] == [10.0, 20.0, 30.0]
    assert [r["_runtime"] for r in page["rows"]] == [30.0, 60.0, 90.0]
    assert server.json("GET", f"/api/v1/runs/{run}/history")[1]["rows"] == [], (
        "never merged into history"
    )
    query = {
        "runs": [{"entity": "admin", "project": "p", "run_id": "files1"}],
        "metric": "system/cpu",
        "x": "_runtime",
        "stream": "system",
    }
    status, chart = server.json("POST", "/api/v1/charts/query", query)
    assert status == 200 and chart["series"][0]["x"] == [30.0, 60.0, 90.0], chart


# ---------------------------------------------------------------------------------------------
# restore over HTTP


def git(cwd: Path, *args: str) -> bytes:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, f"git {args}: {done.stderr.decode()}"
    return done.stdout


def write(path: Path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


TRAIN_V1 = b"print('v1')\n"
TRAIN_V2 = (
    b"import trackway\r\nrun = trackway.init(project='p', config={'lr': 0.1})\n"
    b"print('hello from train')\nrun.log({'loss': 0.5})\n"
    b"run.save('weights.bin', policy='now')\nrun.finish()\n# \xe2\x9c\x93 no newline at end"
)


def dirty_repo(base: Path) -> Path:
    """A committed repository, then uncommitted changes of every kind (as the capture tests)."""
    repo = base / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    write(repo / "train.py", TRAIN_V1)
    write(repo / "data/cfg.json", b'{"a": 1}\n')
    write(repo / "weights.bin", bytes(range(256)))
    write(repo / "old.txt", b"to be deleted\n")
    write(repo / "run.sh", b"#!/bin/sh\necho hi\n")
    write(repo / ".gitignore", b"trackway/\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "remote", "add", "origin", "https://example.com/org/repo.git")
    write(repo / "train.py", TRAIN_V2)
    write(repo / "weights.bin", bytes(reversed(range(256))) + b"\0\0\7")
    (repo / "old.txt").unlink()
    write(repo / "pkg/new_module.py", b"X = 1\n")
    git(repo, "add", "pkg/new_module.py")
    (repo / "run.sh").chmod(0o755)
    return repo


def tree(root: Path, skip=(".git", "trackway")) -> dict:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts[0] in skip or not p.is_file():
            continue
        out[str(rel)] = (p.read_bytes(), bool(p.stat().st_mode & stat.S_IXUSR))
    return out


def capture_like_the_agent(repo: Path, files: Path):
    """The two files the agent's capture writes (docs/capture.md section 3)."""
    diff = git(
        repo,
        "-c",
        "core.quotepath=off",
        "diff",
        "--binary",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "HEAD",
    )
    write(files / "diff.patch", diff)
    head = git(repo, "rev-parse", "HEAD").decode().strip()
    meta = {
        "program": "train.py",
        "host": "testhost",
        "git": {
            "root": str(repo),
            "commit": head,
            "branch": "main",
            "remote": "origin",
            "remote_url": "https://example.com/org/repo.git",
            "dirty": True,
        },
    }
    write(files / "trackway-metadata.json", json.dumps(meta).encode())
    return head


def test_restore_over_http_reproduces_the_working_tree(server, tmp_path):
    repo = dirty_repo(tmp_path)
    env = clean_env(tmp_path, TRACKWAY_MODE="offline", TRACKWAY_DIR=None)
    done = subprocess.run(
        [sys.executable, "train.py"],
        cwd=repo,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b"hello from train" in done.stdout, "output still reaches the terminal"
    run_dir = only_run(repo)
    first = json.loads((run_dir / "run.jsonl").read_bytes().split(b"\n", 1)[0])
    run_id = first["run_id"]
    server.ingest_log(run_dir / "run.jsonl", "p", run_id, first["log_id"])
    head = capture_like_the_agent(repo, run_dir / "files")

    # Upload every run file as the agent does: one PUT per file with its digest.
    for path in sorted((run_dir / "files").rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            status, out = server.put_file(
                f"admin/p/{run_id}", str(path.relative_to(run_dir / "files")), data, sha(data)
            )
            assert status == 200 and out["sha256"] == sha(data), out
    _, run = server.json("GET", f"/api/v1/runs/admin/p/{run_id}")
    assert run["metadata"]["git"]["commit"] == head, "trackway-metadata.json sets Run.metadata"
    _, console = server.json("GET", f"/api/v1/runs/admin/p/{run_id}/output?q=hello")
    assert [line["text"] for line in console["lines"]] == ["hello from train"], console

    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(repo), str(fresh))
    cli_env = clean_env(tmp_path, TRACKWAY_API_KEY=server.key, TRACKWAY_MODE=None)
    done = subprocess.run(
        [BIN, "restore", f"admin/p/{run_id}", "--repo", str(fresh), "--base-url", server.url],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    assert f"checked out {head}".encode() in done.stdout, done.stdout
    assert tree(fresh) == tree(repo), "byte for byte, executable bits included"
    assert git(fresh, "rev-parse", "--abbrev-ref", "HEAD").decode().strip() == f"trackway/{run_id}"
    assert "lr" in (fresh / "trackway" / "config.yaml").read_text()
    pulled = fresh / "trackway" / "pulled" / run_id
    assert (pulled / "weights.bin").read_bytes() == (repo / "weights.bin").read_bytes()

    # pull: every file, then nothing new the second time.
    dest = tmp_path / "pulled"
    args = [BIN, "pull", f"admin/p/{run_id}", "--dir", str(dest), "--base-url", server.url]
    first_pull = subprocess.run(
        args, cwd=tmp_path, env=cli_env, capture_output=True, timeout=60, check=False
    )
    assert first_pull.returncode == 0, first_pull.stderr.decode()
    assert (dest / "diff.patch").read_bytes() == (run_dir / "files" / "diff.patch").read_bytes()
    n = len(server.json("GET", f"/api/v1/runs/admin/p/{run_id}/files")[1]["files"])
    assert first_pull.stdout.count(b"downloaded ") == n, first_pull.stdout
    again = subprocess.run(
        args, cwd=tmp_path, env=cli_env, capture_output=True, timeout=60, check=False
    )
    assert again.returncode == 0 and b"downloaded " not in again.stdout, again.stdout
    assert f"({n} already up to date)".encode() in again.stdout, again.stdout
