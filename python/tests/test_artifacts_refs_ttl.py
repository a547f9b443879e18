"""End to end: artifact references downloaded and verified (`http://` from a local server,
`s3://` from SeaweedFS's S3 gateway), versions deleted when their TTL passes (blobs freed), and
the one cache-cleanup rule (docs/artifacts.md "References", "TTL", "Cache").
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import http.server
import os
import signal
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import Server as BaseServer
from test_e2e_agent import script_env, stop_agent
from test_e2e_artifacts import run_py
from test_scaleout import s3, wait_until  # noqa: F401  (the SeaweedFS fixture)
from trackway.apis import Api
from trackway.errors import CommError


class Server(BaseServer):
    """A server that sweeps expired artifact versions every 0.3 s."""

    def env(self) -> dict:
        return {**super().env(), "TRACKWAY_ARTIFACT_EXPIRY_SECS": "0.3"}

    def api(self) -> Api:
        return Api(base_url=self.url, api_key=self.key, timeout=30)

    def blobs(self) -> set:
        root = self.data / "blobs"
        return {p.parent.name + p.name for p in root.glob("??/*") if p.is_file()}


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path).start()
    yield s
    s.stop(signal.SIGKILL)
    for lock in tmp_path.rglob("agent.lock"):
        stop_agent(lock.parent)


@pytest.fixture
def web(tmp_path):
    """A plain HTTP server over `tmp_path/web` (what an http:// reference points at)."""
    root = tmp_path / "web"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


REF_PRODUCER = r"""
import trackway
run = trackway.init(project="refs")
art = trackway.Artifact("remote-data", type="dataset")
art.add_reference(URI, name="data.bin")
logged = run.log_artifact(art)
logged.wait(timeout=60)
print(logged.version, logged.get_entry("data.bin").digest, flush=True)
trackway.finish()
"""


def log_reference(server, tmp, uri, **env) -> tuple[str, str]:
    code = REF_PRODUCER.replace("URI", repr(uri))
    version, digest = run_py(tmp, "ref.py", code, script_env(server, **env)).split()[-2:]
    return version, digest


def download_checked(art, dest: Path, content: bytes) -> None:
    """Downloads, then checks the bytes; then changes nothing and expects the same again."""
    root = Path(art.download(root=str(dest)))
    assert (root / "data.bin").read_bytes() == content
    art.verify(str(root))


def test_http_reference_is_downloaded_and_verified(server, web, tmp_path):
    root, base = web
    content = os.urandom(3 << 20)
    (root / "data.bin").write_bytes(content)
    version, digest = log_reference(server, tmp_path, f"{base}/data.bin")
    assert (version, digest) == ("v0", hashlib.sha256(content).hexdigest())
    art = server.api().artifact("admin/refs/remote-data:latest")
    download_checked(art, tmp_path / "dl", content)
    # The referenced file changed: the download is refused and nothing is placed.
    (root / "data.bin").write_bytes(b"x" * len(content))
    with pytest.raises(CommError, match="not the logged"):
        art.download(root=str(tmp_path / "dl2"))
    assert not (tmp_path / "dl2" / "data.bin").exists()
    assert [p for p in (tmp_path / "dl2").rglob("*") if ".part" in p.name] == []


def test_s3_reference_is_downloaded_and_verified(server, s3, tmp_path, monkeypatch):  # noqa: F811
    content = os.urandom(9 << 20)  # more than one S3 read chunk
    url = f"http://127.0.0.1:{s3}/trackway/refs/data.bin"
    with urllib.request.urlopen(urllib.request.Request(url, data=content, method="PUT")) as r:
        assert r.status == 200
    aws = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{s3}",
        "AWS_ACCESS_KEY_ID": "any",
        "AWS_SECRET_ACCESS_KEY": "any",
        "AWS_REGION": "us-east-1",
    }
    version, digest = log_reference(server, tmp_path, "s3://trackway/refs/data.bin", **aws)
    assert (version, digest) == ("v0", hashlib.sha256(content).hexdigest())
    for k, v in aws.items():
        monkeypatch.setenv(k, v)
    art = server.api().artifact("admin/refs/remote-data:v0")
    download_checked(art, tmp_path / "dl", content)
    with urllib.request.urlopen(urllib.request.Request(url, data=b"changed", method="PUT")):
        pass
    with pytest.raises(CommError, match="not the logged"):
        art.download(root=str(tmp_path / "dl2"))
    assert not (tmp_path / "dl2" / "data.bin").exists()


TTL_PRODUCER = r"""
import datetime, os, trackway
run = trackway.init(project="ttl")
for name, text, ttl in (("short", "gone soon", 1), ("kept", "stays", None)):
    os.makedirs(name, exist_ok=True)
    open(f"{name}/f.txt", "w").write(text)
    art = trackway.Artifact(name, type="dataset")
    art.add_dir(name)
    if ttl is not None:
        art.ttl = datetime.timedelta(seconds=ttl)
    run.log_artifact(art).wait(timeout=60)
trackway.finish()
"""


def test_ttl_deletes_versions_and_frees_their_blobs(server, tmp_path):
    run_py(tmp_path, "ttl.py", TTL_PRODUCER, script_env(server))
    gone = hashlib.sha256(b"gone soon").hexdigest()
    stays = hashlib.sha256(b"stays").hexdigest()
    api = server.api()
    kept = api.artifact("admin/ttl/kept:latest")
    assert kept.ttl is None
    # Setting a TTL on a stored version (wandb's `ttl` + `save()`) counts from its creation.
    kept.ttl = datetime.timedelta(days=30)
    kept.save()
    assert api.artifact("admin/ttl/kept:v0").ttl == datetime.timedelta(days=30)

    def expired():
        try:
            api.artifact("admin/ttl/short:v0")
            return False
        except CommError:
            return True

    wait_until(expired, 30, "the sweep to delete the expired version")
    blobs = server.blobs()
    assert gone not in blobs and stays in blobs
    assert api.artifact("admin/ttl/kept:v0").version == "v0"
    with pytest.raises(TypeError):
        kept.ttl = 3600


def test_cache_cleanup_is_one_rule_for_python_and_the_cli(tmp_path, monkeypatch):
    import subprocess

    from conftest import trackway_bin
    from trackway.artifacts import cache_dir, cleanup

    monkeypatch.setenv("TRACKWAY_CACHE_DIR", str(tmp_path / "cache"))
    root = Path(cache_dir())
    assert root == tmp_path / "cache" / "artifacts" / "sha256"
    now = time.time()
    for i in range(4):  # 4 KiB each, oldest first
        p = root / f"0{i}" / ("a" * 62)
        p.parent.mkdir(parents=True)
        p.write_bytes(b"x" * 4096)
        os.utime(p, (now - 100 + i, now - 100 + i))
    assert cleanup("12KB") == 4096  # the least recently used goes first
    assert not (root / "00").joinpath("a" * 62).exists()
    out = subprocess.run(
        [trackway_bin(), "artifact", "cache", "cleanup", "4KB"],
        env={**os.environ},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("freed 8192 bytes")
    assert [p.parent.name for p in root.glob("*/*")] == ["03"]
    with pytest.raises(ValueError, match="KB, MB or GB"):
        cleanup("10TB")
