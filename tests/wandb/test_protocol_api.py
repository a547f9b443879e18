"""`wandb.Api()` and `wandb.restore` against a Trackway server (docs/wandb-server.md
"wandb.Api()"): a run logged with the real SDK is read back with the real SDK's public API —
run, runs (filtered, ordered), config, summary, history, scan_history, files, restore — and
compared with what the script logged and with what `trackway.Api` reads."""

import json

from test_protocol import run_wandb

LOG = """
import wandb
for rid, lr in (("api1", 0.1), ("api2", 0.2)):
    run = wandb.init(project="apiproj", id=rid, config={"lr": lr, "opt": {"name": "adam"}}, tags=["t-" + rid])
    for i in range(30):
        run.log({"loss": 1.0 / (i + 1), "acc": i / 30})
    run.summary["best"] = lr * 10
    open("notes.txt", "w").write("saved by " + rid + "\\n")
    run.save("notes.txt", policy="now")
    run.finish()
"""

READ = """
import json, os, wandb
api = wandb.Api()
run = api.run("admin/apiproj/api1")
rows = list(run.scan_history())
out = {
    "id": run.id, "state": run.state, "tags": run.tags, "config": dict(run.config),
    "best": run.summary["best"], "loss_summary": run.summary["loss"],
    "history": run.history(pandas=False),
    "sampled": run.history(keys=["loss"], pandas=False),
    "scan": rows,
    "scan_range": [r["_step"] for r in run.scan_history(min_step=10, max_step=15)],
    "files": sorted(f.name for f in run.files()),
    "runs": [r.id for r in api.runs("admin/apiproj", order="+created_at")],
    "filtered": [r.id for r in api.runs("admin/apiproj", filters={"config.lr": 0.2})],
}
restored = wandb.restore("notes.txt", run_path="admin/apiproj/api1", root="restored")
out["restored"] = open(restored.name).read()
print("API " + json.dumps(out))
"""


def test_wandb_api_reads_runs_history_files_and_restores(server, api, tmp):
    run_wandb(tmp, server, LOG)
    done = run_wandb(tmp, server, READ)
    line = [x for x in done.stdout.splitlines() if x.startswith("API ")]
    assert line, done.stdout[-3000:] + done.stderr[-3000:]
    got = json.loads(line[-1][4:])

    ours = api.run("admin/apiproj/api1")
    assert got["id"] == "api1" and got["state"] == "finished"
    assert got["tags"] == ["t-api1"]
    assert (
        got["config"]
        == {"lr": 0.1, "opt": {"name": "adam"}}
        == {k: ours.config[k] for k in ("lr", "opt")}
    )
    assert got["best"] == 1.0 == ours.summary["best"]
    assert got["loss_summary"] == 1.0 / 30

    expected = [{"loss": 1.0 / (i + 1), "acc": i / 30} for i in range(30)]
    scanned = [{k: r[k] for k in ("loss", "acc")} for r in got["scan"]]
    assert scanned == expected
    assert [r["_step"] for r in got["scan"]] == list(range(30))
    assert [{k: r[k] for k in ("loss", "acc")} for r in ours.scan_history()] == expected
    assert got["scan_range"] == list(range(10, 15))
    assert [{k: r[k] for k in ("loss", "acc")} for r in got["history"]] == expected
    assert [r["loss"] for r in got["sampled"]] == [e["loss"] for e in expected]

    assert "notes.txt" in got["files"] and "wandb-metadata.json" in got["files"]
    assert got["restored"] == "saved by api1\n"
    assert got["runs"] == ["api1", "api2"]
    assert got["filtered"] == ["api2"]


def test_wandb_metadata_is_merged_into_the_run_metadata(server, api, tmp):
    code = LOG.replace('("api1", 0.1), ("api2", 0.2)', '("meta1", 0.3),').replace(
        "apiproj", "apimeta"
    )
    run_wandb(tmp, server, code)
    meta = api.run("admin/apimeta/meta1").metadata
    # wandb-metadata.json's top-level keys (written by the SDK) next to what init sent.
    assert meta["client"] == "wandb"
    assert meta.get("os") and meta.get("python"), meta
    assert meta.get("host") or meta.get("hostname"), meta


PREEMPT = """
import wandb
run = wandb.init(project="apipre", id="preempt1")
run.log({"a": 1})
run.mark_preempting()
run.finish()
"""


def test_mark_preempting_is_recorded_on_the_run(server, api, tmp):
    run_wandb(tmp, server, PREEMPT)
    run = api.run("admin/apipre/preempt1")
    assert isinstance(run.metadata.get("preempting"), float), run.metadata
    assert [r["a"] for r in run.scan_history()] == [1]
