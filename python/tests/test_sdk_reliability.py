"""Client-side reliability (issue 9): torn writes, resume races, agent restarts, saved files.

Each test runs a real script in a subprocess and checks what reached the disk or the server.
"""

import os

from conftest import only_run, read_log, rows, run_dirs, run_script


def test_failed_write_is_repaired_before_the_next_record(tmp):
    # A write cut short by a full disk (simulated with RLIMIT_FSIZE: the kernel writes what fits
    # and then fails with EFBIG, as it does with ENOSPC) leaves a torn line. The next record must
    # start on a fresh line, or it is glued to the torn bytes and lost (docs/run-format.md 2).
    done = run_script(
        tmp,
        """
import glob, os, resource, signal
import trackway as wandb
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
wandb.init()
wandb.log({"a": 1})
log = glob.glob("trackway/run-*/run.jsonl")[0]
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(log) + 20, hard))
wandb.log({"big": "x" * 500})
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
wandb.log({"marker": "after-recovery"})
wandb.finish()
""",
    )
    records, corrupt = read_log(only_run(tmp))
    assert len(corrupt) == 1, done.stderr  # the torn record, on a line of its own
    assert [r.get("marker") for r in rows(records) if "marker" in r] == ["after-recovery"]
    assert any(r["t"] == "finish" for r in records)


def test_resume_skips_attempts_being_created_or_left_empty(tmp):
    # Another process creating an attempt (a directory with no log yet, or an empty log) or a
    # crash between mkdir and the first write must not make init(resume="allow") raise.
    run_script(
        tmp,
        """
import trackway as wandb
wandb.init(project="p", id="r", config={"lr": 0.5})
for i in range(3):
    wandb.log({"a": i})
wandb.finish()
""",
    )
    root = tmp / "trackway"
    (root / "run-20991231_235958-r").mkdir()
    (root / "run-20991231_235959-r" / "files").mkdir(parents=True)
    (root / "run-20991231_235959-r" / "run.jsonl").write_bytes(b"")
    done = run_script(
        tmp,
        """
import trackway as wandb
run = wandb.init(project="p", id="r", resume="allow")
print(run.step, run.config["lr"], run.resumed)
wandb.log({"a": 3})
wandb.finish()
""",
    )
    assert done.stdout.split() == ["3", "0.5", "True"], done.stderr
    logs = [
        read_log(d)[0]
        for d in run_dirs(tmp)
        if (d / "run.jsonl").exists() and (d / "run.jsonl").stat().st_size
    ]
    (resumed,) = [recs for recs in logs if recs[0].get("resumed")]
    assert [r["_step"] for r in rows(resumed)] == [3]


def test_saved_files_are_secured_before_finish_returns(tmp):
    # Files saved from a temporary directory the script deletes right after finish() must
    # stay with the run (the agent, or a later `trackway sync`, uploads them afterwards).
    done = run_script(
        tmp,
        """
import os, shutil, tempfile
import trackway as wandb
src = tempfile.mkdtemp(dir=".")
for name in ("live.txt", "end.txt", "gone.txt"):
    with open(os.path.join(src, name), "w") as f:
        f.write(name + " content")
run = wandb.init()
wandb.save(os.path.join(src, "live.txt"), base_path=src, policy="live")
wandb.save(os.path.join(src, "end.txt"), base_path=src, policy="end")
wandb.save(os.path.join(src, "gone.txt"), base_path=src, policy="end")
os.remove(os.path.join(src, "gone.txt"))
wandb.finish()
shutil.rmtree(src)
""",
    )
    files = only_run(tmp) / "files"
    for name in ("live.txt", "end.txt"):
        assert not os.path.islink(files / name)
        assert (files / name).read_text() == f"{name} content"
    assert "gone.txt could not be kept" in done.stderr  # reported, not lost silently
