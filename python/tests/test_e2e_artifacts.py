"""End to end: artifacts (docs/artifacts.md) from real scripts through the agent to a real
server and back through `Api`, online and offline + `trackway sync`.

Covers: byte-for-byte round trips, versions only when content changes, blobs stored once
(across versions and projects), alias moves, lineage (producer and consumer runs), a kill -9 of
the agent in the middle of a large upload resuming without re-sending finished parts (the
server logs every part it stores, with its offset), a corrupted blob rejected at download and
never left at the destination, and the errors for bad input.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import trackway
from conftest import Server as BaseServer
from conftest import trackway_bin
from test_e2e_agent import run_dirs, script_env, stop_agent, wait_synced
from test_run_format_schema import validate_log
from trackway.apis import Api
from trackway.errors import CommError

BIN = trackway_bin()


class Server(BaseServer):
    def api(self) -> Api:
        return Api(base_url=self.url, api_key=self.key, timeout=30)

    def blobs(self) -> set:
        root = self.data / "blobs"
        return {p.parent.name + p.name for p in root.glob("??/*") if p.is_file()}

    def parts(self) -> list:
        """(digest, offset) of every artifact blob part the server stored, from its log."""
        text = re.sub(r"\x1b\[[0-9;]*m", "", (self.tmp / "server.log").read_text())
        return [
            (d, int(o))
            for d, o in re.findall(r"artifact blob part stored digest=(\w+) offset=(\d+)", text)
        ]


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path).start()
    yield s
    s.stop(signal.SIGKILL)
    for lock in tmp_path.rglob("agent.lock"):
        stop_agent(lock.parent)


def run_py(tmp: Path, name: str, code: str, env: dict, timeout=120) -> str:
    path = tmp / name
    path.write_text(code)
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"script failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


PRODUCER = r"""
import os, sys, trackway
run = trackway.init(project="arts")
os.makedirs("ds/sub", exist_ok=True)
open("ds/a.bin", "wb").write(bytes(range(256)) * 4000)
open("ds/sub/b.txt", "w").write(sys.argv[1])
art = trackway.Artifact("dataset", type="dataset", metadata={"rows": 3})
art.add_dir("ds")
with art.new_file("notes/readme.md", mode="w") as f:
    f.write("hello")
logged = run.log_artifact(art, aliases=sys.argv[2:])
logged.wait(timeout=60)
print(run.id, logged.version, logged.digest, flush=True)
trackway.finish()
"""


def produce(server, tmp, text, *aliases):
    out = run_py(
        tmp,
        "produce.py",
        PRODUCER.replace("sys.argv[1]", repr(text)).replace("sys.argv[2:]", repr(list(aliases))),
        script_env(server),
    )
    run_id, version, digest = out.split()[-3:]
    return run_id, version, digest


CONSUMER = r"""
import trackway
run = trackway.init(project="arts")
art = run.use_artifact("dataset:best", type="dataset")
root = art.download(root="got")
art.verify(root)
print(run.id, art.version, root, flush=True)
trackway.finish()
"""


def test_online_versions_dedup_aliases_lineage(server, tmp_path):
    p1, v, d1 = produce(server, tmp_path, "one")
    assert v == "v0"
    sent_v0 = {d for d, _ in server.parts()}
    assert len(sent_v0) == 3  # a.bin, sub/b.txt, notes/readme.md
    # The same content again: no new version, nothing sent.
    p2, v, d2 = produce(server, tmp_path, "one", "best")
    assert (v, d2) == ("v0", d1) and {d for d, _ in server.parts()} == sent_v0
    # One changed file: one new version, only that file sent.
    p3, v, d3 = produce(server, tmp_path, "two")
    assert v == "v1" and d3 != d1
    sent_v1 = {d for d, _ in server.parts()} - sent_v0
    assert len(sent_v1) == 1 and len(server.parts()) == 4
    assert sent_v0 | sent_v1 <= server.blobs()
    api = server.api()
    latest = api.artifact("admin/arts/dataset:latest")
    assert latest.version == "v1" and latest.metadata == {"rows": 3}
    assert sorted(latest.aliases) == ["latest"]
    assert api.artifact("arts/dataset:best").version == "v0"
    assert sorted(e.path for e in latest.files()) == ["a.bin", "notes/readme.md", "sub/b.txt"]
    # A consumer downloads "best" byte for byte and becomes its lineage.
    env = script_env(server, TRACKWAY_CACHE_DIR=tmp_path / "cache")
    consumer, v, root = run_py(tmp_path, "consume.py", CONSUMER, env).split()[-3:]
    assert v == "v0"
    got = tmp_path / root
    assert (got / "a.bin").read_bytes() == (tmp_path / "ds" / "a.bin").read_bytes()
    assert (got / "sub" / "b.txt").read_text() == "one" and (
        got / "notes" / "readme.md"
    ).read_text() == "hello"
    wait_synced(run_dirs(tmp_path))
    (consumer_dir,) = [d for d in run_dirs(tmp_path) if d.name.endswith(consumer)]
    assert "use_artifact" in validate_log(consumer_dir / "run.jsonl")
    v0 = api.artifact("admin/arts/dataset:v0")
    assert v0.logged_by().id == p1
    assert [r.id for r in v0.used_by()] == [consumer]
    assert [a.version for a in api.run(f"admin/arts/{consumer}").used_artifacts()] == ["v0"]
    assert [a.version for a in api.run(f"admin/arts/{p3}").logged_artifacts()] == ["v1"]
    assert api.run(f"admin/arts/{p2}").logged_artifacts() == []  # re-logged content: no version
    # Aliases move atomically through Api: best to v1.
    latest.aliases.append("best")
    latest.save()
    assert (
        api.artifact("arts/dataset:best").version == "v1"
        and "best" not in api.artifact("arts/dataset:v0").aliases
    )
    assert [a.version for a in api.artifact_versions("dataset", "admin/arts/dataset")] == [
        "v1",
        "v0",
    ]
    # Deleting v1 frees only the blob no other version lists; latest moves back.
    api.artifact("arts/dataset:v1").delete()
    assert sent_v0 <= server.blobs() and not (sent_v1 & server.blobs())
    assert api.artifact("arts/dataset:latest").version == "v0"


OFFLINE = r"""
import trackway
run = trackway.init(project="offl")
open("model.pt", "wb").write(b"\x00weights" * 10000)
trackway.log_model("model.pt", name="net", aliases=["best"])
open("model.pt", "wb").write(b"changed after logging")  # mutable policy: the logged copy counts
print(run.id, flush=True)
trackway.finish()
"""


def test_offline_then_sync_round_trip(server, tmp_path):
    out = run_py(tmp_path, "off.py", OFFLINE, script_env(server, TRACKWAY_MODE="offline"))
    run_id = out.split()[-1]
    (d,) = run_dirs(tmp_path)
    assert "artifact" in validate_log(d / "run.jsonl")  # the record validates against the schema
    sync = subprocess.run(
        [BIN, "sync", str(d)],
        cwd=tmp_path,
        env=script_env(server),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sync.returncode == 0, sync.stdout + sync.stderr
    api = server.api()
    art = api.artifact("admin/offl/net:best", type="model")
    assert art.logged_by().id == run_id and art.type == "model"
    root = art.download(root=str(tmp_path / "dl"))
    assert Path(root, "model.pt").read_bytes() == b"\x00weights" * 10000


BIG = r"""
import os, trackway
run = trackway.init(project="big")
with open("big.bin", "wb") as f:
    for i in range(96):
        f.write(os.urandom(1 << 20))
art = trackway.Artifact("big", type="blob")
art.add_file("big.bin", policy="immutable")
run.log_artifact(art)
print(run.id, flush=True)
trackway.finish()
"""


def test_kill9_agent_mid_upload_resumes_without_resending_parts(server, tmp_path):
    # 1 MiB parts: 96 requests, each fsynced by the server, leave time to kill the agent between.
    env = script_env(server, TRACKWAY_AGENT_IDLE_SECONDS="30", TRACKWAY_ARTIFACT_PART_BYTES=1 << 20)
    run_py(tmp_path, "big.py", BIG, env)
    (d,) = run_dirs(tmp_path)
    uploads = server.data / "uploads"

    def staged():
        return max((p.stat().st_size for p in uploads.iterdir()), default=0)

    deadline = time.time() + 60
    while staged() < 4 << 20 and time.time() < deadline:
        time.sleep(0.002)
    stop_agent(tmp_path / "trackway", signal.SIGKILL)
    at_kill = staged()
    assert 4 << 20 <= at_kill < 96 << 20, f"killed at {at_kill} bytes: not mid-upload"
    sync = subprocess.run(
        [BIN, "sync", str(d)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert sync.returncode == 0, sync.stdout + sync.stderr
    # Every part was stored once: no offset twice, and offsets only grow (the new uploader
    # continued where the killed one stopped instead of starting over).
    offsets = [o for _, o in server.parts()]
    assert (
        len(offsets) >= 90 and len(offsets) == len(set(offsets)) and offsets == sorted(offsets)
    ), offsets
    art = server.api().artifact("admin/big/big:latest")
    root = art.download(root=str(tmp_path / "dl"))
    assert sha(Path(root, "big.bin")) == sha(tmp_path / "big.bin")


def test_corrupted_blob_is_rejected_and_never_placed(server, tmp_path):
    produce(server, tmp_path, "one")
    api = server.api()
    art = api.artifact("admin/arts/dataset:latest")
    entry = art.get_entry("sub/b.txt")
    blob = server.data / "blobs" / entry.digest[:2] / entry.digest[2:]
    blob.write_bytes(b"two")  # same size, other bytes
    os.environ["TRACKWAY_CACHE_DIR"] = str(tmp_path / "cache")
    try:
        with pytest.raises(CommError, match="hash"):
            art.download(root=str(tmp_path / "dl"))
    finally:
        del os.environ["TRACKWAY_CACHE_DIR"]
    assert not (tmp_path / "dl" / "sub" / "b.txt").exists()
    assert not list((tmp_path / "cache").rglob(entry.digest[2:]))
    leftovers = [p for p in (tmp_path / "dl").rglob("*") if ".part" in p.name]
    assert leftovers == []


def test_bad_input_is_refused_with_the_accepted_form(tmp_path):
    art = trackway.Artifact("ok-name", type="model")
    with pytest.raises(ValueError, match="Path is not a file"):
        art.add_file(tmp_path / "missing.pt")
    for bad in ("a/b", "a:b", "", "has space"):
        with pytest.raises(ValueError, match="letters, digits"):
            trackway.Artifact(bad, type="model")
    with pytest.raises(ValueError, match="entity/project/name:alias"):
        Api(base_url="http://127.0.0.1:9", api_key="k").artifact("e/p/q/name:latest")
    with pytest.raises(ValueError, match="without '..'"):
        with art.new_file("../escape.txt"):
            pass
    (tmp_path / "x.txt").write_text("x")
    art.add_file(tmp_path / "x.txt")
    assert art.get_entry("x.txt").size == 1
    art.remove("x.txt")
    with pytest.raises(KeyError):
        art.get_entry("x.txt")
