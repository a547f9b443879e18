"""init/finish lifecycle, exit codes, context manager, reinit, resume, attributes."""

import json

from conftest import clean_env, only_run, read_log, rows, run_dirs, run_script, strip_meta


def records_of(run_dir):
    records, corrupt = read_log(run_dir)
    assert corrupt == []
    return records


def finish_record(run_dir):
    fins = [r for r in records_of(run_dir) if r["t"] == "finish"]
    assert len(fins) == 1, fins
    return fins[0]


def test_run_is_none_before_and_after(tmp):
    run_script(
        tmp,
        """
import trackway as wandb
assert hasattr(wandb, "run") and wandb.run is None
run = wandb.init(project="proj")
assert wandb.run is run and isinstance(run, wandb.Run)
assert isinstance(run, wandb.sdk.wandb_run.Run) and isinstance(run, wandb.wandb_run.Run)
assert wandb.config is run.config and wandb.summary is run.summary
wandb.finish()
assert wandb.run is None
wandb.finish()          # idempotent, also without a run
run.finish()
wandb.join()
""",
    )
    assert finish_record(only_run(tmp))["exit_code"] == 0


def test_attributes(tmp):
    done = run_script(
        tmp,
        """
import os, json, trackway as wandb
run = wandb.init(project="proj", entity="ent", name="n1", id="my.run-1_x", tags=["a"],
                 notes="hi", group="g", job_type="train")
assert (run.id, run.name, run.project, run.entity) == ("my.run-1_x", "n1", "proj", "ent")
assert run.path == "ent/proj/my.run-1_x" and run.url is None and run.get_url() is None
assert os.path.isdir(run.dir) and run.tags == ("a",) and run.group == "g"
assert run.job_type == "train" and run.notes == "hi" and run.offline and not run.disabled
assert run.resumed is False and run.step == 0 and run.sweep_id is None
run.name = "renamed"
run.tags += ("b",)
run.notes = "new notes"
run._label(code="transformers_trainer")
wandb.finish()
for attr, value in (("name", "x"), ("tags", ()), ("notes", "y")):
    try:
        setattr(run, attr, value)
    except wandb.errors.UsageError:
        pass
    else:
        raise SystemExit(f"set {attr} after finish")
print(json.dumps(run.dir))
""",
    )
    run_dir = only_run(tmp)
    assert run_dir.name.endswith("-my.run-1_x")
    assert json.loads(done.stdout) == str(run_dir / "files")
    records = records_of(run_dir)
    start = records[0]
    assert start["t"] == "run" and start["run_id"] == "my.run-1_x" and start["mode"] == "offline"
    assert start["tags"] == ["a"] and start["group"] == "g" and "api_key" not in start["settings"]
    metas = [r for r in records if r["t"] == "meta"]
    assert {"name": "renamed"}.items() <= metas[0].items()
    assert any(m.get("tags") == ["a", "b"] for m in metas)
    assert any(m.get("notes") == "new notes" for m in metas)


def test_methods_of_finished_run_raise_usage_error(tmp):
    run_script(
        tmp,
        """
import trackway as wandb
run = wandb.init()
run.finish()
for call in (lambda: run.log({"a": 1}), lambda: run.save("x"), lambda: run.alert("t", "x"),
             lambda: run.summary.update({"a": 1}), lambda: run.mark_preempting()):
    try:
        call()
    except wandb.errors.UsageError:
        pass
    else:
        raise SystemExit("finished run accepted a call")
try:
    wandb.log({"a": 1})
except wandb.Error:
    pass
else:
    raise SystemExit("module log after finish accepted")
""",
    )


def test_atexit_finishes_with_zero(tmp):
    run_script(
        tmp,
        """
import trackway as wandb
wandb.init()
wandb.log({"a": 1}, commit=False)
""",
    )
    run_dir = only_run(tmp)
    assert finish_record(run_dir)["exit_code"] == 0
    assert [strip_meta(r) for r in rows(records_of(run_dir))] == [{"_step": 0, "a": 1}]


def test_atexit_exit_code_on_uncaught_exception(tmp):
    done = run_script(
        tmp,
        """
import trackway as wandb
wandb.init()
wandb.log({"a": 1})
raise RuntimeError("boom")
""",
        check=False,
    )
    assert done.returncode == 1 and "RuntimeError: boom" in done.stderr
    assert finish_record(only_run(tmp))["exit_code"] == 1


def test_atexit_exit_code_of_sys_exit(tmp):
    done = run_script(
        tmp,
        """
import sys, trackway as wandb
wandb.init()
sys.exit(3)
""",
        check=False,
    )
    assert done.returncode == 3
    assert finish_record(only_run(tmp))["exit_code"] == 3


def test_context_manager(tmp):
    done = run_script(
        tmp,
        """
import trackway as wandb
with wandb.init(project="a") as run:
    assert wandb.run is run
    wandb.log({"x": 1})
assert wandb.run is None
with wandb.init(project="b") as run:
    raise ValueError("inside")
""",
        check=False,
    )
    assert done.returncode == 1 and "ValueError: inside" in done.stderr
    codes = sorted(finish_record(d)["exit_code"] for d in run_dirs(tmp))
    assert codes == [0, 1]


def test_reinit_semantics(tmp):
    run_script(
        tmp,
        """
import trackway as wandb
a = wandb.init(project="p")
assert wandb.init(project="other") is a                      # default: return the active run
assert wandb.init(reinit="return_previous") is a
c = wandb.init(reinit="create_new")
assert c is not a and wandb.run is a                         # create_new leaves wandb.run
b = wandb.init(reinit="finish_previous")
assert b is not a and wandb.run is b
for r in (a, c):
    try:
        r.log({"x": 1})
    except wandb.errors.UsageError:
        pass
    else:
        raise SystemExit("previous run still open")
wandb.finish()
d = wandb.init()
assert d is not b
d.finish()
""",
    )
    assert len(run_dirs(tmp)) == 4
    assert all(finish_record(d)["exit_code"] == 0 for d in run_dirs(tmp))


def test_unknown_kwargs_and_positional_entity(tmp):
    done = run_script(
        tmp,
        """
import argparse, trackway as wandb
run = wandb.init("my-entity", project="p", magic=True, anonymous=None, force=False,
                 sync_tensorboard=False, monitor_gym=True, save_code=False, bogus=1,
                 settings=wandb.Settings(start_method="thread", _disable_stats=True, weird=1))
assert run.entity == "my-entity"
run.finish()
run = wandb.init(settings={"console": "off"})
assert run.settings.console == "off" and run.settings.mode == "offline"
run.finish()
""",
    )
    assert done.stderr.count("ignoring unknown arguments: bogus") == 1
    assert "weird" in done.stderr


def test_resume_allow_must_never(tmp):
    run_script(
        tmp,
        """
import trackway as wandb
run = wandb.init(id="res1", resume="allow", config={"lr": 0.1}, tags=["t1"], project="p1")
assert not run.resumed
for i in range(3):
    wandb.log({"loss": float(i)})
wandb.finish()
""",
    )
    done = run_script(
        tmp,
        """
import trackway as wandb
run = wandb.init(id="res1", resume="allow")
assert run.resumed and run.starting_step == 3 and run.step == 3, (run.starting_step, run.step)
assert run.config.lr == 0.1 and run.tags == ("t1",) and run.project == "p1"
assert run.summary["loss"] == 2.0
wandb.log({"loss": 9.0})
wandb.finish()
for kwargs in ({"id": "res1", "resume": "never"}, {"id": "nope", "resume": "must"}):
    try:
        wandb.init(**kwargs)
    except wandb.errors.UsageError as e:
        print("refused", kwargs["resume"])
    else:
        raise SystemExit(f"accepted {kwargs}")
""",
    )
    assert done.stdout.split() == ["refused", "never", "refused", "must"]
    # two attempts of one run, possibly in the same second: each gets its own directory
    first, second = sorted(run_dirs(tmp), key=lambda d: records_of(d)[0]["created_at"])
    assert [r["_step"] for r in rows(records_of(second))] == [3]
    start = records_of(second)[0]
    assert start["resumed"] is True and start["starting_step"] == 3


def test_with_save_copies_into_files_dir(tmp):
    (tmp / "out").mkdir()
    (tmp / "out" / "model.bin").write_bytes(b"weights")
    run_script(
        tmp,
        """
import trackway as wandb
run = wandb.init()
wandb.save("out/*.bin", base_path=".")
wandb.save()          # old no-argument form: no-op
wandb.finish()
""",
    )
    saved = list((only_run(tmp) / "files").rglob("model.bin"))
    assert len(saved) == 1 and saved[0].read_bytes() == b"weights"


def test_compat_surface(tmp):
    run_script(
        tmp,
        """
import importlib.metadata, trackway as wandb
from packaging.version import Version
Version(wandb.__version__)
from trackway.sdk.lib import RunDisabled
from trackway.sdk.lib.config_util import ConfigError
assert wandb.Error is wandb.errors.Error
assert issubclass(wandb.errors.UsageError, wandb.Error)
assert issubclass(wandb.errors.CommError, wandb.Error)
wandb.require("service"); wandb.require("report-editing:v0")
wandb.setup(); wandb.watch(None, log_freq=100); wandb.unwatch()
wandb.termlog("log"); wandb.termwarn("warn", repeat=False); wandb.termerror("err")
s = wandb.Settings(mode="offline", base_url="http://x")
assert dict(**s)["base_url"] == "http://x" and s.mode == "offline"
assert getattr(s, "api_key", None) is None
from trackway.sdk.lib.printer import new_printer
new_printer().display("printed")
assert wandb.util.json_dumps_safer({"s": {1}}) == '{"s": [1]}'
wandb.env.set_project("hp-search")
assert wandb.init(mode="offline").project == "hp-search"
wandb.finish()
wandb.ensure_configured()
assert wandb.api.api_key is None
""",
    )


def test_finish_from_del_at_shutdown_is_quiet(tmp):
    done = run_script(
        tmp,
        """
import trackway as wandb
class Logger:                      # torchtune's WandBLogger pattern
    def __init__(self):
        self.run = wandb.init()
    def __del__(self):
        wandb.finish()
        self.run.finish()
LOGGER = Logger()
wandb.log({"a": 1})
""",
    )
    assert "Exception" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert finish_record(only_run(tmp))["exit_code"] == 0


def test_online_init_does_not_need_a_server(tmp):
    # No agent binary and no server: init() must still return, finish() must give up after
    # finish_timeout, and the run stays on disk for a later `trackway sync`.
    env = clean_env(
        tmp,
        TRACKWAY_MODE="online",
        TRACKWAY_EXE="/nonexistent",
        TRACKWAY_BASE_URL="http://127.0.0.1:9/",
        TRACKWAY_ENTITY="team",
        TRACKWAY_FINISH_TIMEOUT="0.3",
    )
    done = run_script(
        tmp,
        """
import trackway as wandb
run = wandb.init(project="proj", id="onl1")
print(run.url, run.path, run.offline)
wandb.log({"a": 1})
wandb.finish()
""",
        env=env,
        timeout=30,
    )
    assert done.stdout.split() == [
        "http://127.0.0.1:9/team/proj/runs/onl1",
        "team/proj/onl1",
        "False",
    ]
    banner = [line for line in done.stderr.splitlines() if " logging to " in line]
    assert len(banner) == 1 and banner[0].endswith("http://127.0.0.1:9/team/proj/runs/onl1")
    start = records_of(only_run(tmp))[0]
    assert start["mode"] == "online" and start["base_url"] == "http://127.0.0.1:9"


def test_login_stores_a_key_offline(tmp):
    from conftest import trackway_bin

    env = clean_env(tmp, TRACKWAY_EXE=trackway_bin())
    done = run_script(
        tmp,
        """
import trackway as wandb
assert wandb.login() is False                                  # nothing stored yet
assert wandb.login(key="tw_test_key_123", host="http://127.0.0.1:9") is True
assert wandb.login(host="http://127.0.0.1:9") is True          # now known
from trackway import _native
import os
s = _native.resolve_settings({"base_url": "http://127.0.0.1:9"}, os.getcwd())
assert s["api_key"] == "tw_test_key_123", s
""",
        env=env,
    )
    assert "tw_test_key_123" not in done.stderr + done.stdout


def test_resume_auto_continues_a_crashed_run(tmp):
    first = run_script(
        tmp,
        """
import os, trackway as wandb
run = wandb.init(resume="auto")
wandb.log({"a": 1}); wandb.log({"a": 2})
print(run.id, flush=True)
os._exit(9)                       # crash: no finish record
""",
        check=False,
    )
    assert first.returncode == 9
    crashed_id = first.stdout.strip()
    done = run_script(
        tmp,
        """
import trackway as wandb
run = wandb.init(resume="auto")
print(run.id, run.resumed, run.step)
wandb.finish()
again = wandb.init(resume="auto")  # the previous attempt finished: a new run
print(again.id != run.id)
again.finish()
""",
    )
    assert done.stdout.split() == [crashed_id, "True", "2", "True"]
