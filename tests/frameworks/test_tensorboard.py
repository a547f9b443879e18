"""TensorBoard: `trackway import tensorboard` of event files written by torch.utils.tensorboard
and by tensorboardX, compared value for value with TensorBoard's own reader
(EventAccumulator); idempotent re-import; live sync with `--follow` and with
`init(sync_tensorboard=True)`."""

import math
import subprocess
import sys

import pytest

from conftest import find_run, history, run_script, trackway_bin

WRITE = """
import sys
import numpy as np
from {module} import SummaryWriter

logdir, start, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
w = SummaryWriter(logdir)
rng = np.random.default_rng(start)
for step in range(start, stop):
    w.add_scalar("loss", 1.0 / (step + 1), step)
    w.add_scalar("acc/train", step * 0.01 + 0.5, step)
    if step % 5 == 0:
        w.add_histogram("weights", rng.normal(size=500), step)
        w.add_text("note", f"step {{step}}", step)
        w.add_image("img", (rng.random((3, 8, 6)) * 255).astype(np.uint8), step)
if start == 0:
    w.add_hparams({{"lr": 0.01, "layers": 3, "opt": "adam"}}, {{"hp/final": 0.5}})
w.close()
"""


def write_events(tmp, module, logdir, start, stop):
    script = tmp / f"write_{module.replace('.', '_')}.py"
    script.write_text(WRITE.format(module=module))
    subprocess.run(
        [sys.executable, str(script), str(logdir), str(start), str(stop)],
        check=True,
        capture_output=True,
        timeout=120,
    )


def reference(run_dir):
    """Every scalar/histogram/text TensorBoard's EventAccumulator reads from a run directory."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(
        str(run_dir), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0, "images": 0}
    )
    acc.Reload()
    tags = acc.Tags()
    scalars = {t: {e.step: e.value for e in acc.Scalars(t)} for t in tags["scalars"]}
    histos = {t: {e.step: e.histogram_value for e in acc.Histograms(t)} for t in tags["histograms"]}
    images = {t: {e.step: (e.width, e.height) for e in acc.Images(t)} for t in tags["images"]}
    texts = {}
    for t in tags["tensors"]:
        texts[t] = {
            e.step: e.tensor_proto.string_val[0].decode()
            for e in acc.Tensors(t)
            if e.tensor_proto.string_val
        }
    return scalars, histos, images, texts


def expected_histogram(h):
    """A TensorBoard histogram in Trackway's shape: edges min, each bucket's right limit (the
    last clamped to max); more than 512 buckets merged in runs of ceil(n/512)."""
    edges = [h.min, *h.bucket_limit]
    edges[-1] = min(edges[-1], h.max)
    counts = [int(c) for c in h.bucket]
    if len(counts) > 512:
        k = -(-len(counts) // 512)
        counts = [sum(counts[i : i + k]) for i in range(0, len(counts), k)]
        edges = edges[::k][: len(counts)] + [edges[-1]]
    return edges, counts


def import_tb(tmp, env, *args):
    done = subprocess.run(
        [
            trackway_bin(),
            "import",
            "tensorboard",
            *map(str, args),
            "--project",
            "tb",
            "--dir",
            str(tmp / "trackway"),
        ],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def run_of(api, name):
    return find_run(api, "tb", name=name)


def compare(api, run_dir, name):
    scalars, histos, images, texts = reference(run_dir)
    run = run_of(api, name)
    rows = {r["_step"]: r for r in history(api, "/".join(run.path))}
    checked = 0
    for tag, series in scalars.items():
        for step, value in series.items():
            assert rows[step][tag] == pytest.approx(value, rel=0, abs=0), (tag, step)
            checked += 1
    for tag, series in histos.items():
        for step, h in series.items():
            got = rows[step][tag]
            assert got["_type"] == "histogram"
            bins, values = expected_histogram(h)
            assert got["values"] == values
            assert got["bins"] == pytest.approx(bins, rel=0, abs=0)
            checked += 1
    for tag, series in images.items():
        for step, (w, h) in series.items():
            got = rows[step][tag]
            assert (got["_type"], got["width"], got["height"]) == ("image-file", w, h)
            checked += 1
    for tag, series in texts.items():
        for step, text in series.items():
            assert rows[step][tag] == text
            checked += 1
    return run, checked


@pytest.mark.parametrize("module", ["torch.utils.tensorboard", "tensorboardX"])
def test_import_matches_tensorboard_reader_and_is_idempotent(tmp, online_env, api, module):
    logdir = tmp / "logs" / module.replace(".", "_")
    write_events(tmp, module, logdir, 0, 30)
    out = import_tb(tmp, online_env, logdir)
    assert "synced" in out or "uploaded" in out or "rows" in out, out
    name = logdir.name
    run, checked = compare(api, logdir, name)
    assert checked >= 60 + 6 * 3
    assert run.state == "finished"
    # hparams went into a sub-run written by add_hparams, as its config
    hp_runs = [r for r in api.runs("admin/tb") if r.name.startswith(f"{name}/")]
    assert hp_runs and hp_runs[0].config["lr"] == pytest.approx(0.01)
    assert hp_runs[0].config["opt"] == "adam"
    before = len(history(api, "/".join(run.path)))

    again = import_tb(tmp, online_env, logdir)  # nothing new: nothing appended or re-sent
    assert "0 rows, 0 points" in again, again
    assert len(history(api, "/".join(run.path))) == before

    write_events(tmp, module, logdir, 30, 40)  # a restarted writer adds a second event file
    import_tb(tmp, online_env, logdir)
    rows = history(api, "/".join(run.path))
    assert len(rows) == before + 10
    assert rows[-1]["loss"] == pytest.approx(1.0 / 40, rel=1e-6)
    compare(api, logdir, name)


def test_follow_imports_while_the_writer_runs(tmp, online_env, api):
    logdir = tmp / "live"
    writer = tmp / "slow_writer.py"
    writer.write_text(
        "import sys, time\nfrom tensorboardX import SummaryWriter\n"
        "w = SummaryWriter(sys.argv[1], flush_secs=1)\n"
        "for s in range(20):\n    w.add_scalar('x', float(s), s); w.flush(); time.sleep(0.1)\n"
        "w.close()\n"
    )
    proc = subprocess.Popen([sys.executable, str(writer), str(logdir)])
    follow = subprocess.Popen(
        [
            trackway_bin(),
            "import",
            "tensorboard",
            str(logdir),
            "--follow",
            "--interval",
            "0.2",
            "--idle-exit",
            "3",
            "--project",
            "tb-live",
            "--dir",
            str(tmp / "trackway"),
        ],
        env=online_env,
        cwd=tmp,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.wait(timeout=60) == 0
    out, _ = follow.communicate(timeout=120)
    assert follow.returncode == 0
    assert out.count("rows") >= 2, f"expected several passes while writing:\n{out}"
    run = find_run(api, "tb-live", name="live")
    rows = history(api, "/".join(run.path))
    assert [r["x"] for r in rows] == [float(s) for s in range(20)]
    assert run.state == "finished"


@pytest.mark.parametrize("module", ["torch.utils.tensorboard", "tensorboardX"])
def test_sync_tensorboard_logs_events_live(tmp, online_env, api, module):
    run_script(
        tmp,
        f"""
        import numpy as np
        import wandb
        from {module} import SummaryWriter
        run = wandb.init(project="tb-sync", name="{module}", sync_tensorboard=True)
        w = SummaryWriter("{tmp}/tb")
        for step in range(10):
            w.add_scalar("loss", 1.0 / (step + 1), step)
            w.add_scalar("lr", 0.1, step)
            if step == 4:
                w.add_histogram("w", np.arange(100.0), step)
        w.add_text("note", "hello", 10)
        w.close()
        wandb.finish()
    """,
        env=online_env,
        timeout=120,
    )
    run = find_run(api, "tb-sync", name=module)
    rows = history(api, "/".join(run.path))
    by_step = {r["global_step"]: r for r in rows}
    assert [by_step[s]["loss"] for s in range(10)] == [
        pytest.approx(1.0 / (s + 1), rel=1e-6) for s in range(10)
    ]
    assert all(by_step[s]["lr"] == pytest.approx(0.1, rel=1e-6) for s in range(10))
    assert sum(by_step[4]["w"]["values"]) == 100
    assert by_step[10]["note/text_summary"] == "hello"  # both writers add this suffix
    assert math.isclose(run.summary["loss"], 0.1, rel_tol=1e-6)


def test_tensorboard_patch_before_init(tmp, online_env, api):
    """`wandb.tensorboard.patch()` (wandb's documented form: patch, then init) forwards a
    writer's events to the run started after it; the module is reached as an attribute."""
    run_script(
        tmp,
        f"""
        import wandb
        wandb.tensorboard.patch(root_logdir="{tmp}/tb")
        from tensorboardX import SummaryWriter
        wandb.init(project="tb-patch", name="patched")
        w = SummaryWriter("{tmp}/tb")
        for step in range(5):
            w.add_scalar("acc", step / 10, step)
        w.close()
        wandb.finish()
    """,
        env=online_env,
        timeout=120,
    )
    run = find_run(api, "tb-patch", name="patched")
    by_step = {r["global_step"]: r for r in history(api, "/".join(run.path)) if "acc" in r}
    assert [by_step[s]["acc"] for s in range(5)] == [
        pytest.approx(s / 10, rel=1e-6) for s in range(5)
    ]
