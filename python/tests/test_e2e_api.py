"""`trackway.Api` against a real server: pagination, filters, order, history sampling, scans,
errors, and settings resolution from the environment / stored login."""

import json
import math
import subprocess
import sys

import pytest

from test_e2e_agent import (
    PYDIR,
    Server,
    run_dirs,
    run_py,
    script_env,
    stop_agent,
    wait_synced,
    write_script,
)
from trackway.apis import Api
from trackway.errors import CommError

RUNS = r"""
import trackway
for n, lr in enumerate([0.1, 0.01, 0.001, 0.0001, 0.00001]):
    run = trackway.init(project="api", name=f"fox-{n}" if n % 2 == 0 else f"owl-{n}",
                        config={"lr": lr, "opt": "adam" if n < 3 else "sgd", "n": n},
                        tags=["even"] if n % 2 == 0 else ["odd"], group="g1", job_type="train")
    for i in range(100):
        row = {"loss": (n + 1) / (i + 1)}
        if i % 10 == 0:
            row["eval"] = i * 1.5
        trackway.log(row)
    trackway.finish()
"""


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api")
    srv = Server(tmp).start()
    run_py(tmp, write_script(tmp, "runs.py", RUNS), script_env(srv))
    wait_synced(run_dirs(tmp))
    yield srv
    srv.stop()
    stop_agent(tmp / "trackway")


def test_runs_pages_order_and_len(filled):
    api = filled.api()
    runs = api.runs("admin/api", per_page=2)
    assert len(runs) == 5
    newest_first = [r.name for r in runs]
    assert len(set(r.id for r in api.runs("admin/api", per_page=2))) == 5
    oldest_first = [r.name for r in api.runs("admin/api", order="+created_at")]
    assert (
        oldest_first
        == list(reversed(newest_first))
        == ["fox-0", "owl-1", "fox-2", "owl-3", "fox-4"]
    )
    assert runs[0].name == "fox-4" and runs[4].name == "fox-0" and runs[-1].name == "fox-0"
    r = runs[0]
    assert (r.state, r.group, r.job_type, r.tags) == ("finished", "g1", "train", ["even"])
    assert r.config == {"lr": 0.00001, "opt": "sgd", "n": 4}
    assert r.path == ["admin", "api", r.id] and r.url.endswith(r.id)
    assert isinstance(r.created_at, (int, float, str))


@pytest.mark.parametrize(
    "filters,names",
    [
        ({"config.lr": {"$gt": 0.005}}, {"fox-0", "owl-1"}),
        ({"config.opt": "sgd"}, {"owl-3", "fox-4"}),
        ({"tags": {"$in": ["odd"]}}, {"owl-1", "owl-3"}),
        ({"summary_metrics.loss": {"$lt": 0.025}}, {"fox-0", "owl-1"}),
        (
            {"$and": [{"state": "finished"}, {"display_name": {"$regex": "^fox"}}]},
            {"fox-0", "fox-2", "fox-4"},
        ),
    ],
)
def test_runs_filters(filled, filters, names):
    runs = filled.api().runs("admin/api", filters=filters)
    assert {r.name for r in runs} == names
    assert len(runs) == len(names)


def test_history_samples_keys_and_scan(filled):
    api = filled.api()
    run = next(r for r in api.runs("admin/api") if r.name == "fox-0")
    sampled = run.history(samples=10, pandas=False)
    steps = [row["_step"] for row in sampled]
    assert len(steps) <= 10 and steps[0] == 0 and steps[-1] == 99 and steps == sorted(steps)
    assert len(run.history(keys=["loss", "eval"], pandas=False)) == 10
    only = run.history(keys=["loss"], samples=500, pandas=False)
    assert len(only) == 100 and set(only[5]) == {"_step", "loss"}
    evals = list(run.scan_history(keys=["eval"], page_size=3))
    assert [e["_step"] for e in evals] == list(range(0, 100, 10))
    assert evals[3] == {"_step": 30, "eval": 45.0}
    window = list(run.scan_history(min_step=20, max_step=29))
    assert [w["_step"] for w in window] == list(range(20, 30))
    assert math.isclose(window[0]["loss"], 1 / 21)
    try:
        import pandas  # noqa: F401
    except ImportError:
        assert isinstance(run.history(), list)
    else:
        frame = run.history(keys=["loss", "eval"])  # rows holding both keys, as wandb
        assert list(frame.columns) == ["_step", "loss", "eval"] and len(frame) == 10
        assert list(frame["_step"]) == list(range(0, 100, 10))


def test_errors_are_comm_errors_with_the_server_message(filled):
    api = filled.api()
    with pytest.raises(CommError, match="invalid_filter"):
        list(api.runs("admin/api", filters={"nope": 1}))
    with pytest.raises(CommError, match="404"):
        api.run("admin/api/doesnotexist")
    with pytest.raises(CommError, match="401"):
        Api(base_url=filled.url, api_key="tw_wrong").run("admin/api/x")
    with pytest.raises(CommError, match="cannot reach"):
        Api(base_url="http://127.0.0.1:1", api_key="k", timeout=2).run("admin/api/x")


def test_api_finds_server_and_key_like_the_sdk(filled):
    # No arguments: the URL from TRACKWAY_BASE_URL and the key from the stored login the server
    # wrote on first start; a project path without entity uses the key's entity.
    code = (
        "import json, trackway\n"
        "api = trackway.Api()\n"
        "print(json.dumps([api.base_url, len(api.runs('api')), api.run('admin/api/' + api.runs('api')[0].id).name]))\n"
    )
    env = script_env(filled)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    base, count, name = json.loads(done.stdout)
    assert (base, count, name) == (filled.url, 5, "fox-4")
    assert str(PYDIR) in env["PYTHONPATH"]


def test_run_update_edits_name_notes_tags(filled):
    api = filled.api()
    run = next(r for r in api.runs("admin/api") if r.name == "owl-3")
    run.name, run.notes, run.tags = "owl-renamed", "edited", ["odd", "edited"]
    run.update()
    again = api.run("/".join(run.path))
    assert (again.name, again.notes, again.tags) == ("owl-renamed", "edited", ["odd", "edited"])
    again.name = "owl-3"
    again.update()  # leave the module fixture as the other tests expect it
    assert api.run("/".join(run.path)).name == "owl-3"


def test_api_resolves_settings_by_the_sdk_rule(tmp_path):
    # One rule for Api() and init(): the workspace settings file (<cwd>/trackway/settings) names
    # the server, and the stored login for that host gives key and entity. The former Python copy
    # ignored the settings file and used the stored default host instead.
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "credentials.json").write_text(
        json.dumps(
            {
                "default_host": "http://127.0.0.1:1",
                "hosts": {
                    "http://127.0.0.1:1": {"api_key": "k-default", "entity": "e-default"},
                    "http://127.0.0.1:2": {"api_key": "k-two", "entity": "e-two"},
                },
            }
        )
    )
    (tmp_path / "trackway").mkdir()
    (tmp_path / "trackway" / "settings").write_text("[default]\nbase_url = http://127.0.0.1:2/\n")
    code = (
        "import json, os, trackway\n"
        "from trackway import _native\n"
        "api = trackway.Api()\n"
        "s = _native.resolve_settings({}, os.getcwd())\n"
        "print(json.dumps([[api.base_url, api.api_key, api._stored_entity], [s['base_url'], s['api_key'], s['entity']]]))\n"
    )
    env = {k: v for k, v in script_env_base().items() if not k.startswith(("TRACKWAY_", "WANDB_"))}
    env["TRACKWAY_CONFIG_DIR"] = str(cfg)
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    api, sdk = json.loads(done.stdout)
    assert api == sdk == ["http://127.0.0.1:2", "k-two", "e-two"]


def script_env_base():
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(PYDIR) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_api_goes_through_the_one_http_client_with_its_timeouts():
    # A server that accepts the connection and never answers: the read API gives up after its
    # timeout (trackway-client's), with the client's message, instead of hanging.
    import socket

    with socket.socket() as stalled:
        stalled.bind(("127.0.0.1", 0))
        stalled.listen(1)
        url = f"http://127.0.0.1:{stalled.getsockname()[1]}"
        code = (
            "import sys, trackway\n"
            "from trackway.errors import CommError\n"
            f"api = trackway.Api(base_url={url!r}, api_key='k', timeout=1)\n"
            "try:\n    api.run('a/b/c')\nexcept CommError as e:\n    print(e)\n    sys.exit(0)\n"
            "sys.exit(1)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=script_env_base(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cannot reach" in done.stdout


NESTED_SUMMARY = r"""
import json
import trackway
from trackway.apis import Api
run = trackway.init(project="sumrule", id="nest")
run.log({"opt": {"lr": 0.1, "m": {"beta": 0.9}}})
run.log({"opt": {"m": {"eps": 1e-8}}}, commit=False)
run.log({"opt": {"wd": 0.01}, "loss": 1.0})
run.summary["opt"]["lr"] = 0.2
run.log({"opt": {"m": 3}})
user = lambda s: {k: v for k, v in dict(s).items() if not k.startswith("_")}
live = user(run.summary)
# Before finish() (which writes the full summary): what the server derived from the rows.
assert run._backend.wait_uploaded(60)
served = user(Api().run("admin/sumrule/nest").summary)
run.finish()
print(json.dumps({"live": live, "served": served}))
"""


def test_live_and_served_summary_follow_one_nested_merge_rule(tmp_path):
    """One summary rule (wandb's: nested values merge leaf by leaf): the SDK's live summary
    and the summary the server derives from the uploaded rows agree before any full summary
    record; the server used to replace top-level keys."""
    srv = Server(tmp_path).start()
    try:
        env = script_env(srv, TRACKWAY_API_KEY=srv.key)
        done = run_py(tmp_path, write_script(tmp_path, "nested.py", NESTED_SUMMARY), env)
        got = json.loads(done.stdout.strip().splitlines()[-1])
        want = {"opt": {"lr": 0.2, "m": 3, "wd": 0.01}, "loss": 1.0}
        assert got["live"] == want
        assert got["served"] == want
    finally:
        srv.stop()
        stop_agent(tmp_path / "trackway")
