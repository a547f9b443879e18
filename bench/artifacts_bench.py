"""Artifact upload and download over loopback against `cp` (issue 11). Prints figures; asserts
nothing.

    .venv/bin/python bench/artifacts_bench.py [--quick]

In one run, on one disk (a temporary directory):
1. `cp` of a 1 GiB file of random bytes (256 MiB with --quick), and `sha256sum` of it;
2. a training script logs it as an artifact (policy "immutable": read in place); the time from
   `log_artifact` to the agent's commit (hash + part-wise upload + server-side verify and store),
   and the agent's and the server's peak RSS (VmHWM);
3. `trackway artifact get` of it (streamed, verified, renamed into place);
4. a second run logs the unchanged file: the time against `sha256sum` (nothing is sent).
Ratios are speed relative to `cp` (1.0 = as fast as cp; the goal is >= 0.5).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUICK = "--quick" in sys.argv
MIB = 256 if QUICK else 1024


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


def hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(cmd, **kw) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t


LOG = r"""
import json, os, sys, time, trackway
run = trackway.init(project="bench")
art = trackway.Artifact("big", type="bench")
art.add_file(sys.argv[1], policy="immutable")
t = time.perf_counter()
run.log_artifact(art)
logged = time.perf_counter() - t
art.wait(timeout=3600)
print(json.dumps({"log_s": logged, "total_s": time.perf_counter() - t, "version": art.version,
                  "agent_pid": int(open(os.path.join(os.path.dirname(run._backend.dir), "agent.lock")).read().strip())}))
trackway.finish()
"""


def main() -> None:
    exe = binary()
    # The agent may still be closing its run directory when the server stops: ignore that.
    with tempfile.TemporaryDirectory(
        dir=os.environ.get("BENCH_TMP"), ignore_cleanup_errors=True
    ) as d:
        tmp = Path(d)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKWAY_", "WANDB_"))}
        env.update(HOME=str(tmp / "home"), TRACKWAY_CONFIG_DIR=str(tmp / "cfg"), USER="admin")
        server = subprocess.Popen(
            [exe, "server", "--port", "0", "--data-dir", str(tmp / "data")],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        line = ""
        while "listening on http://" not in line:
            line = server.stdout.readline().decode()
        url = line.strip().rsplit(" ", 1)[-1].rstrip("/")
        key = (tmp / "data" / "admin-api-key").read_text().strip()
        env.update(
            TRACKWAY_BASE_URL=url,
            TRACKWAY_API_KEY=key,
            TRACKWAY_MODE="online",
            TRACKWAY_EXE=exe,
            PYTHONPATH=str(REPO / "python"),
            TRACKWAY_AGENT_IDLE_SECONDS="5",
            TRACKWAY_PROJECT="bench",
        )
        src = tmp / "big.bin"
        with open(src, "wb") as f:
            for _ in range(MIB):
                f.write(os.urandom(1 << 20))
        cp_s = timed(["cp", str(src), str(tmp / "copy.bin")])
        (tmp / "copy.bin").unlink()
        hash_s = timed(["sha256sum", str(src)])
        script = tmp / "log.py"
        script.write_text(LOG)
        out = subprocess.run(
            [sys.executable, str(script), str(src)],
            cwd=tmp,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        first = json.loads(out.strip().splitlines()[-1])
        agent_rss = hwm_mib(first["agent_pid"])
        get_s = timed(
            [exe, "artifact", "get", "bench/big:latest", "--root", str(tmp / "got")],
            cwd=tmp,
            env=env,
        )
        out = subprocess.run(
            [sys.executable, str(script), str(src)],
            cwd=tmp,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        again = json.loads(out.strip().splitlines()[-1])
        server_rss = hwm_mib(server.pid)
        server.terminate()
        server.wait(timeout=30)
    gib = MIB / 1024
    print(f"artifacts ({MIB} MiB, loopback, one disk):")
    print(f"  cp {cp_s:.2f} s ({gib / cp_s:.2f} GiB/s), sha256sum {hash_s:.2f} s")
    print(
        f"  log_artifact returned in {first['log_s'] * 1000:.1f} ms; upload committed after {first['total_s']:.2f} s"
        f" -> {cp_s / first['total_s']:.2f} x cp speed"
    )
    print(f"  artifact get {get_s:.2f} s -> {cp_s / get_s:.2f} x cp speed")
    print(
        f"  re-log unchanged: {again['total_s']:.2f} s = {again['total_s'] / hash_s:.2f} x sha256sum"
        f" (version {again['version']}, same as {first['version']})"
    )
    print(f"  peak RSS: agent {agent_rss:.0f} MiB, server {server_rss:.0f} MiB")


if __name__ == "__main__":
    main()
