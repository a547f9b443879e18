"""The real wandb SDK logging to a Trackway server over wandb's protocol (issue 14), against
Trackway's own client logging the same rows to the same server in the same run.

Prints, for N steps x 10 metrics: the wandb script's log-loop and finish() times, whether the
server held every row when finish() returned (wandb's finish waits for its uploads), and the
server's CPU seconds per ingested point for each path and their ratio (wandb / trackway).

Run: python bench/wandb_sdk.py [steps]   (needs `make build wandb-venvs`; default 100000)
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))
sys.path.insert(0, str(REPO / "python" / "tests"))
WANDB_PY = REPO / ".venv-wandb-0.31.0" / "bin" / "python"
METRICS = 10

WANDB_SCRIPT = """
import sys, time, wandb
n = int(sys.argv[1])
METRICS = int(sys.argv[3])
run = wandb.init(project="bench", id=sys.argv[2])
t0 = time.perf_counter()
for i in range(n):
    run.log({f"m{j}": i * 0.001 + j for j in range(METRICS)})
t1 = time.perf_counter()
run.finish()
t2 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f}")
"""

TRACKWAY_SCRIPT = """
import sys, time, trackway
n = int(sys.argv[1])
METRICS = int(sys.argv[3])
run = trackway.init(project="bench", id=sys.argv[2])
t0 = time.perf_counter()
for i in range(n):
    run.log({f"m{j}": i * 0.001 + j for j in range(METRICS)})
t1 = time.perf_counter()
run.finish()
print(f"{t1 - t0:.3f} {time.perf_counter() - t1:.3f}")
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rows_of(api, run_id: str) -> int:
    try:
        return api.run(f"admin/bench/{run_id}").lastHistoryStep + 1
    except Exception:  # not created yet
        return 0


def measure(server, api, python, script, env, run_id, n, tmp):
    before = cpu_seconds(server.proc.pid)
    out = subprocess.run(
        [str(python), "-c", script, str(n), run_id, str(METRICS)],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    at_finish = rows_of(api, run_id)
    deadline = time.time() + 600
    while rows_of(api, run_id) < n and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    cpu = cpu_seconds(server.proc.pid) - before
    return float(out[-2]), float(out[-1]), at_finish, cpu


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    if not WANDB_PY.exists():
        print("wandb_sdk: NOT MEASURED - no .venv-wandb-0.31.0 (run `make wandb-venvs`)")
        return
    import trackway
    from conftest import Server, clean_env

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "home").mkdir()
        server = Server(tmp).start()
        try:
            api = trackway.Api(base_url=server.url, api_key=server.key)
            base = clean_env(
                tmp, TRACKWAY_MODE=None, TRACKWAY_BASE_URL=server.url, TRACKWAY_API_KEY=server.key
            )
            wenv = dict(
                base,
                WANDB_BASE_URL=server.url,
                WANDB_API_KEY=server.key,
                WANDB_SILENT="true",
                WANDB_DIR=str(tmp),
                WANDB_DISABLE_GIT="true",
            )
            wenv.pop("PYTHONPATH", None)
            w_log, w_fin, w_rows, w_cpu = measure(
                server, api, WANDB_PY, WANDB_SCRIPT, wenv, "wandb1", n, tmp
            )
            t_log, t_fin, _, t_cpu = measure(
                server, api, sys.executable, TRACKWAY_SCRIPT, base, "trackway1", n, tmp
            )
        finally:
            server.stop()
    points = n * METRICS
    print(f"wandb SDK -> Trackway, {n} steps x {METRICS} metrics:")
    print(
        f"  wandb log loop {w_log:.1f} s, finish() {w_fin:.2f} s, rows on the server at finish: {w_rows}/{n}"
    )
    print(f"  trackway client log loop {t_log:.1f} s, finish() {t_fin:.2f} s")
    print(
        f"  server CPU per point: wandb {1e6 * w_cpu / points:.2f} us, trackway {1e6 * t_cpu / points:.2f} us, "
        f"ratio {w_cpu / max(t_cpu, 1e-9):.2f}x"
    )


if __name__ == "__main__":
    main()
