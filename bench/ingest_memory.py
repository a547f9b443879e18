"""Server memory under ingest (issue 9 item 2). Prints figures; asserts nothing.

    .venv/bin/python bench/ingest_memory.py [--quick]

A fresh `trackway server` receives, in one run of this script:
1. one large batch (MiB of small `history` records, as the agent frames them), alone;
2. eight such batches at once, against the server's ingest slots (`--ingest-concurrency 4`).

For each it prints the peak RSS (`VmHWM`) above the idle server's RSS, divided by the bytes of
the bodies being processed at once (one body for 1; `min(8, slots)` bodies for 2): the target is
at most 3x. Requests refused with 503 + Retry-After are counted and retried, as the agent does.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUICK = "--quick" in sys.argv
BODY_MIB = 16 if QUICK else 48
SLOTS = 4
CONCURRENT = 8


def binary() -> str:
    for c in (
        os.environ.get("TRACKWAY_EXE"),
        str(REPO / "python" / "trackway" / "bin" / "trackway"),
        os.path.join(
            os.environ.get("CARGO_TARGET_DIR", str(REPO / "target")), "release", "trackway"
        ),
    ):
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    sys.exit("no `trackway` binary: run `make build` or set TRACKWAY_EXE")


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def body(run_id: str, mib: int) -> bytes:
    """A batch of ~`mib` MiB: a run record, then history rows of 3 metrics, exact positions."""
    lines = [
        json.dumps(
            {"t": "run", "v": 1, "log_id": "m" * 16, "run_id": run_id, "project": "mem"},
            separators=(",", ":"),
        )
    ]
    step = 0
    size = len(lines[0])
    while size < mib << 20:
        line = (
            f'{{"t":"history","step":{step},"ts":1700000000.{step % 1000:03d},"rt":{step}.5,'
            f'"data":{{"loss":0.{step % 999983:06d},"acc":0.{step % 9973:04d},"lr":0.001}}}}'
        )
        lines.append(line)
        size += len(line) + 1
        step += 1
    parts, pos = [], 0
    for line in lines:
        parts.append(f"[{pos},{line}]")
        pos += len(line) + 1
    head = json.dumps(
        {"project": "mem", "run_id": run_id, "log_id": "m" * 16, "from": 0, "to": pos}
    )[:-1]
    return (head + ',"records":[' + ",".join(parts) + "]}").encode()


class Server:
    def __init__(self, tmp: Path):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKWAY_", "WANDB_"))}
        env.update(HOME=str(tmp / "home"), TRACKWAY_CONFIG_DIR=str(tmp / "config"), USER="admin")
        data = tmp / "data"
        self.proc = subprocess.Popen(
            [
                binary(),
                "server",
                "--port",
                "0",
                "--data-dir",
                str(data),
                "--ingest-concurrency",
                str(SLOTS),
            ],
            stdout=subprocess.PIPE,
            stderr=open(tmp / "server.log", "ab"),
            env=env,
        )
        for _ in range(50):
            line = self.proc.stdout.readline().decode()
            if "listening on http://" in line:
                self.url = line.strip().rsplit(" ", 1)[1]
                break
        else:
            sys.exit("server did not start")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        self.key = (data / "admin-api-key").read_text().strip()

    def ingest(self, data: bytes, busy: list) -> None:
        while True:
            req = urllib.request.Request(
                self.url + "/api/v1/ingest",
                data=data,
                method="POST",
                headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(req, timeout=600) as r:
                    r.read()
                return
            except urllib.error.HTTPError as e:
                if e.code != 503:
                    raise
                busy.append(1)
                time.sleep(float(e.headers.get("Retry-After", "1")))
            except urllib.error.URLError:
                # Refused while still sending: the 503 came before the body was read.
                busy.append(1)
                time.sleep(1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def measure(label: str, bodies: list, in_flight: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(Path(tmp))
        pid = srv.proc.pid
        base = status_kib(pid, "VmRSS")
        busy: list = []
        started = time.monotonic()
        threads = [threading.Thread(target=srv.ingest, args=(b, busy)) for b in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - started
        peak, after = status_kib(pid, "VmHWM"), status_kib(pid, "VmRSS")
        srv.stop()
    per = len(bodies[0]) / 2**20
    ratio = (peak - base) * 1024 / (in_flight * len(bodies[0]))
    print(
        f"{label}: {len(bodies)} x {per:.0f} MiB bodies, {in_flight} in flight at most: "
        f"idle RSS {base / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB, after {after / 1024:.0f} MiB; "
        f"peak above idle = {ratio:.2f}x the bodies in flight (target <= 3x); "
        f"{len(busy)} x 503 busy; {wall:.1f} s"
    )


def main() -> None:
    one = body("single", BODY_MIB)
    measure("ingest memory, one request", [one], 1)
    many = [body(f"c{i}", BODY_MIB) for i in range(CONCURRENT)]
    measure(
        f"ingest memory, {CONCURRENT} concurrent requests, {SLOTS} ingest slots",
        many,
        min(CONCURRENT, SLOTS),
    )


if __name__ == "__main__":
    main()
