"""End-to-end figures for the agent path (issue 3). Prints numbers; asserts nothing.

    .venv/bin/python bench/e2e_bench.py [--quick]

1. init() latency, online, server up (target <= 150 ms)
2. finish() after 100,000 steps x 10 metrics (target <= 500 ms), and how long the drain took
3. end-to-end ingest points/s, run log -> `trackway sync` -> durable on the server (>= 500,000/s)
4. agent CPU % of one core and RSS while a loop logs 1,000 rows/s x 10 metrics for ~20 s
   (targets <= 5 % and <= 50 MiB)

Each part starts its own `trackway server --port 0` on a temporary data dir.
"""

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYDIR = REPO / "python"
QUICK = "--quick" in sys.argv


def binary() -> str:
    for c in (
        os.environ.get("TRACKWAY_EXE"),
        os.path.join(
            os.environ.get("CARGO_TARGET_DIR", str(REPO / "target")), "release", "trackway"
        ),
    ):
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    sys.exit("no `trackway` binary: run `make build` or set TRACKWAY_EXE")


BIN = binary()


class Server:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKWAY_", "WANDB_"))}
        env.update(HOME=str(tmp / "home"), TRACKWAY_CONFIG_DIR=str(tmp / "config"), USER="admin")
        self.env = env
        self.proc = subprocess.Popen(
            [BIN, "server", "--port", "0", "--data-dir", str(tmp / "data")],
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

    def script_env(self, **extra):
        env = dict(
            self.env,
            PYTHONPATH=str(PYDIR),
            TRACKWAY_EXE=BIN,
            TRACKWAY_BASE_URL=self.url,
            TRACKWAY_MODE="online",
            TRACKWAY_AGENT_IDLE_SECONDS="2",
        )
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def run_script(tmp: Path, code: str, env: dict, *args) -> dict:
    path = tmp / "bench_script.py"
    path.write_text(code)
    done = subprocess.run(
        [sys.executable, str(path), *map(str, args)],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        sys.exit(f"script failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def stop_agent(root: Path):
    try:
        pid = int((root / "agent.lock").read_text().strip())
    except (OSError, ValueError):
        return
    if (
        Path(f"/proc/{pid}/cmdline").exists()
        and b"agent" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ):
        os.kill(pid, signal.SIGKILL)


INIT = r"""
import json, time
t0 = time.perf_counter()
import trackway
t1 = time.perf_counter()
run = trackway.init(project="bench-init")
t2 = time.perf_counter()
trackway.log({"x": 1.0})
trackway.finish()
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "init": t2 - t1, "finish": t3 - t2}))
"""


def bench_init():
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        srv = Server(tmp)
        try:
            res = [run_script(tmp, INIT, srv.script_env()) for _ in range(3 if QUICK else 7)]
        finally:
            stop_agent(tmp / "trackway")
            srv.stop()
    inits = [r["init"] * 1e3 for r in res]
    print(
        f"init() online, server up: first {inits[0]:.1f} ms (starts the agent), "
        f"median {statistics.median(inits):.1f} ms, max {max(inits):.1f} ms over {len(inits)} runs "
        f"(target <= 150 ms); import {statistics.median(r['import'] for r in res) * 1e3:.0f} ms"
    )


FINISH = r"""
import json, sys, time, trackway
n = int(sys.argv[1])
run = trackway.init(project="bench-finish")
t0 = time.perf_counter()
for i in range(n):
    trackway.log({"m0": i, "m1": i * 0.5, "m2": 1.0 / (i + 1), "m3": -i, "m4": i % 13,
                  "m5": 0.25, "m6": i * 2, "m7": 3.5, "m8": i * 1e-3, "m9": 7})
t1 = time.perf_counter()
trackway.finish()
t2 = time.perf_counter()
print(json.dumps({"log_s": t1 - t0, "finish_s": t2 - t1, "end": time.time(), "dir": run.dir}))
"""


def bench_finish():
    n = 20_000 if QUICK else 100_000
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        srv = Server(tmp)
        try:
            r = run_script(tmp, FINISH, srv.script_env(), n)
            run_dir = Path(
                r["dir"]
            )  # run.dir is the files/ dir (as wandb's); the marker is beside run.jsonl
            while not (run_dir / "run.jsonl").exists() and run_dir != run_dir.parent:
                run_dir = run_dir.parent
            synced = run_dir / "synced"
            while not synced.exists() and time.time() - r["end"] < 120:
                time.sleep(0.01)
            drained = time.time() - r["end"]
            state = "synced" if synced.exists() else "NOT synced after 120 s"
            try:
                hwm = proc_mem(int((tmp / "trackway" / "agent.lock").read_text().strip())).get(
                    "VmHWM", 0
                )
            except (OSError, ValueError):
                hwm = float("nan")
        finally:
            stop_agent(tmp / "trackway")
            srv.stop()
    print(
        f"finish() after {n:,} steps x 10 metrics: {r['finish_s'] * 1e3:.0f} ms (target <= 500 ms); "
        f"the log loop took {r['log_s']:.2f} s ({n / r['log_s']:,.0f} rows/s); upload fully drained "
        f"{max(drained, 0) * 1e3:.0f} ms after finish() returned ({state}); agent peak RSS {hwm:.1f} MiB"
    )


def write_log(path: Path, rows: int, metrics: int):
    """A run log as an SDK would write it (docs/run-format.md), produced quickly in Python."""
    rng = random.Random(0)
    with open(path, "w") as f:
        f.write(
            json.dumps(
                {
                    "t": "run",
                    "v": 1,
                    "log_id": "b" * 16,
                    "run_id": "ingest1",
                    "project": "bench-ingest",
                    "mode": "offline",
                    "created_at": time.time(),
                }
            )
            + "\n"
        )
        for s in range(rows):
            data = ",".join(f'"m{k}":{rng.random()!r}' for k in range(metrics))
            f.write(
                f'{{"t":"history","step":{s},"ts":{1.7e9 + s * 0.01!r},"rt":{s * 0.01!r},"data":{{{data}}}}}\n'
            )
        f.write('{"t":"finish","exit_code":0,"ts":1.0,"rt":1.0}\n')


def bench_ingest():
    rows, metrics = (50_000, 10) if QUICK else (200_000, 10)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        run = tmp / "trackway" / "run-20261128_120000-ingest1"
        (run / "files").mkdir(parents=True)
        write_log(run / "run.jsonl", rows, metrics)
        size = (run / "run.jsonl").stat().st_size
        srv = Server(tmp)
        try:
            t0 = time.perf_counter()
            done = subprocess.run(
                [BIN, "sync", str(run)], env=srv.script_env(), capture_output=True, text=True
            )
            dt = time.perf_counter() - t0
        finally:
            srv.stop()
    if done.returncode != 0:
        sys.exit(f"sync failed: {done.stdout}{done.stderr}")
    pts = rows * metrics
    print(
        f"end-to-end ingest (run log -> sync -> durable on server): {pts:,} points ({size / 2**20:.0f} MiB) "
        f"in {dt:.2f} s = {pts / dt:,.0f} points/s, {rows / dt:,.0f} rows/s (target >= 500,000 points/s)"
    )


STEADY = r"""
import json, sys, time, trackway
seconds = float(sys.argv[1])
run = trackway.init(project="bench-agent")
print(json.dumps({"started": True}), flush=True)
t0 = time.perf_counter()
i = 0
while time.perf_counter() - t0 < seconds:
    trackway.log({f"m{k}": i * 0.001 + k for k in range(10)})
    i += 1
    delay = t0 + i / 1000.0 - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
trackway.finish()
print(json.dumps({"rows": i}), flush=True)
"""


def proc_cpu_s(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_mem(pid):
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out


def bench_agent_steady():
    seconds = 8 if QUICK else 20
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        srv = Server(tmp)
        try:
            path = tmp / "steady.py"
            path.write_text(STEADY)
            proc = subprocess.Popen(
                [sys.executable, str(path), str(seconds)],
                cwd=tmp,
                env=srv.script_env(),
                stdout=subprocess.PIPE,
                text=True,
            )
            proc.stdout.readline()
            time.sleep(1.0)  # let the agent start
            pid = int((tmp / "trackway" / "agent.lock").read_text().strip())
            c0, t0 = proc_cpu_s(pid), time.time()
            peak = 0.0
            while proc.poll() is None:
                time.sleep(0.5)
                try:
                    peak = max(peak, proc_mem(pid).get("VmRSS", 0))
                    c1, t1 = proc_cpu_s(pid), time.time()
                except OSError:
                    break
            rows = json.loads(proc.stdout.read().strip().splitlines()[-1])["rows"]
            mem = proc_mem(pid)
        finally:
            stop_agent(tmp / "trackway")
            srv.stop()
    cpu = (c1 - c0) / (t1 - t0) * 100
    print(
        f"agent while logging 1,000 rows/s x 10 metrics for {seconds} s ({rows:,} rows): CPU {cpu:.1f} % of one core "
        f"(target <= 5 %), RSS {peak:.1f} MiB (peak {mem.get('VmHWM', 0):.1f} MiB; target <= 50 MiB)"
    )


if __name__ == "__main__":
    print(f"binary: {BIN}")
    bench_init()
    bench_finish()
    bench_ingest()
    bench_agent_steady()
