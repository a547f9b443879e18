"""Crash safety, corrupt logs, silent and disabled modes, env aliases, fork safety."""

import os
import signal
import subprocess
import sys
import textwrap

from conftest import (
    clean_env,
    only_run,
    read_log,
    rows,
    run_dirs,
    run_script,
    strip_meta,
    trackway_bin,
)


def test_kill_9_mid_loop_keeps_every_logged_step(tmp):
    script = tmp / "loop.py"
    script.write_text(
        textwrap.dedent("""
        import sys, trackway as wandb
        wandb.init()
        for i in range(10_000_000):
            wandb.log({"i": i, "x": i * 0.5})
            sys.stdout.write(f"{i}\\n")
            sys.stdout.flush()
    """)
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=tmp,
        env=clean_env(tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    printed = []
    try:
        for line in proc.stdout:
            printed.append(int(line))
            if len(printed) >= 2000:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    records, corrupt = read_log(only_run(tmp))
    assert corrupt == []
    assert not any(r["t"] == "finish" for r in records)
    got = {r["_step"]: r for r in rows(records)}
    for i in printed:
        assert got[i]["i"] == i and got[i]["x"] == i * 0.5


def test_corrupt_line_in_the_middle_is_skipped(tmp):
    run_script(
        tmp,
        """
import trackway as wandb
wandb.init(config={"a": 1})
for i in range(10):
    wandb.log({"v": i})
wandb.finish()
""",
    )
    run_dir = only_run(tmp)
    log = run_dir / "run.jsonl"
    lines = log.read_bytes().split(b"\n")
    lines[5:5] = [b'{"t":"history","step":4,"data":{"v":', b'{"no_type": 1}', b"\xff\xfe garbage"]
    log.write_bytes(b"\n".join(lines))
    records, corrupt = read_log(run_dir)
    assert len(corrupt) == 3
    assert [r["v"] for r in rows(records)] == list(range(10))
    from trackway import _native

    state = _native.load_run_state(str(run_dir))
    bad = state["corrupt_lines"]
    assert (len(bad) if isinstance(bad, list) else bad) == 3
    assert state["row_count"] == 10 and state["last_step"] == 9 and state["finished"] is True
    assert state["config"] == {"a": 1} and state["summary"]["v"] == 9


SILENT_BODY = """
import trackway as wandb
{preinit}
run = wandb.init(bogus_kwarg=1, settings={settings})
wandb.log({{"a": 1}}, step=5)
wandb.log({{"a": 2}}, step=1)
wandb.termwarn("visible?"); wandb.termlog("visible?"); wandb.require("unknown")
wandb.log({{"a": 3}}, step=0)
"""


def test_silent_mode_prints_nothing(tmp):
    cases = [
        ({"WANDB_SILENT": "true"}, "wandb.define_metric('x')", "None"),
        ({"TRACKWAY_SILENT": "1"}, "wandb.define_metric('x')", "None"),
        ({}, "", "{'silent': True}"),
    ]
    for env_extra, preinit, settings in cases:
        done = run_script(
            tmp,
            SILENT_BODY.format(preinit=preinit, settings=settings),
            env=clean_env(tmp, **env_extra),
        )
        assert done.stdout == "" and done.stderr == "", (env_extra, done.stderr)
    assert len(run_dirs(tmp)) == 3


def test_not_silent_prints_one_banner_line(tmp):
    done = run_script(
        tmp,
        """
import trackway as wandb
wandb.init(name="nice", id="abc")
for i in range(100):
    wandb.log({"a": i})
wandb.finish()
""",
    )
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("trackway: run nice (abc) logging to ")


def tree(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_disabled_mode_creates_no_files(tmp):
    body = """
import pickle, trackway as wandb
run = wandb.init(project="p", dir="{dir}", config={{"lr": 1}}, {mode})
assert isinstance(run, wandb.Run) and run.disabled and wandb.run is run
wandb.log({{"a": 1}}); run.log({{"a": 2}}, step=0); wandb.log()
wandb.config.update({{"b": 2}}); wandb.config.c = 3
assert dict(wandb.config) == {{"lr": 1, "b": 2, "c": 3}}
wandb.summary["s"] = 1; wandb.summary.update({{"t": {{"u": 2}}}}); wandb.summary["t"]["v"] = 3
assert wandb.summary["s"] == 1 and dict(wandb.summary["t"]) == {{"u": 2, "v": 3}}
wandb.define_metric("x", summary="max"); wandb.save("*.py"); wandb.save()
for name in ("log", "watch", "unwatch", "save", "define_metric", "alert", "log_code",
             "mark_preempting", "status", "display", "to_html", "get_url", "get_project_url",
             "get_sweep_url", "project_name", "_label"):
    getattr(run, name)()
run.name = "x"; run.tags = ("a",); _ = (run.id, run.dir, run.path, run.url, run.step, run.entity)
assert pickle.loads(pickle.dumps(run)).id == run.id
run.finish()
assert wandb.run is None
with wandb.init(mode="disabled") as r2:
    r2.log({{"a": 1}})
wandb.finish()
"""
    for mode_arg, env_extra in (
        ('mode="disabled"', {}),
        ("", {"WANDB_MODE": "disabled", "TRACKWAY_MODE": None}),
        ("", {"TRACKWAY_MODE": "disabled"}),
    ):
        (tmp / "script.py").write_text("")
        before = tree(tmp)
        run_script(
            tmp, body.format(dir=tmp / "out", mode=mode_arg), env=clean_env(tmp, **env_extra)
        )
        assert tree(tmp) == before, "disabled mode wrote files"
        assert not (tmp / "out").exists() and not (tmp / "trackway").exists()


def test_env_aliases(tmp):
    sub = tmp / "logs"
    env = clean_env(
        tmp,
        TRACKWAY_MODE=None,
        WANDB_MODE="dryrun",
        WANDB_PROJECT="wp",
        WANDB_ENTITY="we",
        WANDB_NAME="wn",
        WANDB_NOTES="notes",
        WANDB_TAGS="a, b",
        WANDB_RUN_GROUP="g",
        WANDB_JOB_TYPE="eval",
        WANDB_RUN_ID="envid",
        WANDB_DIR=str(sub),
    )
    done = run_script(
        tmp,
        """
import trackway as wandb
run = wandb.init()
print(run.id, run.project, run.entity, run.name, run.notes, ",".join(run.tags), run.group,
      run.job_type, run.mode)
run.finish()
""",
        env=env,
    )
    assert done.stdout.split() == [
        "envid",
        "wp",
        "we",
        "wn",
        "notes",
        "a,b",
        "g",
        "eval",
        "offline",
    ]
    assert len(list((sub / "trackway").glob("run-*-envid"))) == 1
    env.update(TRACKWAY_PROJECT="tp", WANDB_RUN_ID="", TRACKWAY_RUN_ID="id2")
    done = run_script(
        tmp,
        """
import trackway as wandb
a = wandb.init(); print(a.project, a.id); a.finish()
b = wandb.init(project="argp", id="id3"); print(b.project, b.id); b.finish()
""",
        env=env,
    )
    assert done.stdout.split() == ["tp", "id2", "argp", "id3"]


def test_cli_mode_switch_is_picked_up_by_init(tmp):
    exe = trackway_bin()
    env = clean_env(
        tmp, TRACKWAY_MODE=None, TRACKWAY_EXE="/nonexistent", TRACKWAY_FINISH_TIMEOUT="0.2"
    )
    script = """
import trackway as wandb
run = wandb.init()
print(run.mode, run.disabled)
run.finish()
"""

    def switch(cmd):
        subprocess.run([exe, cmd], cwd=tmp, env=env, check=True, capture_output=True)

    switch("off")
    assert run_script(tmp, script, env=env).stdout.split() == ["offline", "False"]
    switch("disabled")
    assert run_script(tmp, script, env=env).stdout.split() == ["disabled", "True"]
    switch("enabled")
    switch("on")
    assert run_script(tmp, script, env=env).stdout.split() == ["online", "False"]
    modes = [read_log(d)[0][0]["mode"] for d in run_dirs(tmp)]
    assert sorted(modes) == ["offline", "online"]


def test_forked_child_does_not_write_to_parent_run(tmp):
    done = run_script(
        tmp,
        """
import os, sys, trackway as wandb
run = wandb.init(config={"a": 1})
wandb.log({"parent": 0})
pid = os.fork()
if pid == 0:
    wandb.log({"child": 1})
    run.log({"child": 2}, step=50, commit=True)
    wandb.config.update({"childcfg": 1})
    wandb.summary["child"] = 1
    run.name = "child-name"
    wandb.finish()
    sys.exit(0)          # runs atexit in the child too
_, status = os.waitpid(pid, 0)
assert status == 0, status
wandb.log({"parent": 1})
wandb.finish()
""",
    )
    assert "forked child" in done.stderr
    records, corrupt = read_log(only_run(tmp))
    assert corrupt == []
    assert [strip_meta(r) for r in rows(records)] == [
        {"_step": 0, "parent": 0},
        {"_step": 1, "parent": 1},
    ]
    assert sum(r["t"] == "finish" for r in records) == 1
    text = (only_run(tmp) / "run.jsonl").read_text()
    assert '"child' not in text and "child-name" not in text


def test_no_threads_at_import_or_offline_init(tmp):
    run_script(
        tmp,
        """
import threading, trackway as wandb
assert threading.active_count() == 1
wandb.init()
wandb.log({"a": 1})
assert threading.active_count() == 1, threading.enumerate()
wandb.finish()
""",
    )


def test_write_errors_do_not_stop_training(tmp):
    done = run_script(
        tmp,
        """
import resource, signal, os, trackway as wandb
run = wandb.init()
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # EFBIG instead of being killed
size = os.path.getsize(os.path.join(os.path.dirname(run.dir), "run.jsonl"))
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 3000, size + 3000))
for i in range(2000):
    wandb.log({"loss": i * 0.5})
wandb.finish()
print("training finished")
""",
    )
    assert done.stdout == "training finished\n"
    assert done.stderr.count("could not write to the run log") == 1
    records, corrupt = read_log(only_run(tmp))
    assert corrupt == [] and [r["_step"] for r in rows(records)] == list(range(len(rows(records))))


def test_env_resume_and_dir(tmp):
    env = clean_env(
        tmp,
        TRACKWAY_DIR=str(tmp / "tw"),
        WANDB_RUN_ID="envres",
        WANDB_RESUME="allow",
        WANDB_DIR=str(tmp / "ignored"),
    )
    script = """
import trackway as wandb
run = wandb.init()
print(run.id, run.resumed, run.step)
wandb.log({"a": 1})
wandb.finish()
"""
    assert run_script(tmp, script, env=env).stdout.split() == ["envres", "False", "0"]
    assert run_script(tmp, script, env=env).stdout.split() == ["envres", "True", "1"]
    assert len(list((tmp / "tw" / "trackway").glob("run-*-envres"))) == 2
    assert not (tmp / "ignored").exists()


def test_settings_precedence_file_env_args(tmp):
    # defaults < <root>/settings < env < init() arguments
    (tmp / "trackway").mkdir()
    (tmp / "trackway" / "settings").write_text(
        "[default]\nmode = disabled\nproject = from-file\nentity = file-ent\n"
    )
    env = clean_env(tmp, TRACKWAY_MODE=None)
    script = """
import trackway as wandb
run = wandb.init({args})
print(run.mode, run.project, run.entity)
run.finish()
"""
    out = run_script(tmp, script.format(args=""), env=env).stdout.split()
    assert out == ["disabled", "from-file", "file-ent"]
    env["WANDB_PROJECT"] = "from-env"
    env["WANDB_MODE"] = "offline"
    out = run_script(tmp, script.format(args=""), env=env).stdout.split()
    assert out == ["offline", "from-env", "file-ent"]
    out = run_script(
        tmp, script.format(args="project='from-arg', mode='disabled'"), env=env
    ).stdout.split()
    assert out == ["disabled", "from-arg", "file-ent"]
