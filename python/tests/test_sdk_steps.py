"""log() step/commit rules (wandb-api-surface.md 3.1), checked on the run log a script wrote."""

from conftest import only_run, read_log, rows, run_script, strip_meta


def logged_rows(tmp, body: str) -> list:
    run_script(
        tmp,
        "import trackway as wandb\nrun = wandb.init(project='p')\n" + body + "\nwandb.finish()\n",
    )
    records, corrupt = read_log(only_run(tmp))
    assert corrupt == []
    return [strip_meta(r) for r in rows(records)]


def test_log_multiple_cases_example(tmp):
    got = logged_rows(
        tmp,
        """
wandb.log(dict(n=1))
wandb.log(dict(n=11), commit=False)
wandb.log(dict(n=2), step=100)
wandb.log(dict(n=3), step=100)
wandb.log(dict(n=8), step=101)
wandb.log(dict(n=5), step=102)
wandb.log(dict(cool=2), step=2)
wandb.log(dict(cool=2), step=4)
""",
    )
    assert [r["_step"] for r in got] == [0, 1, 100, 101, 102]
    assert [r["n"] for r in got] == [1, 11, 3, 8, 5]
    assert all("cool" not in r for r in got)


def test_uncommitted_row_is_flushed_by_a_higher_step(tmp):
    got = logged_rows(
        tmp,
        """
wandb.log({"x": 0})
wandb.log({"x": 1})
s = run.step
wandb.log({"a": 1}, commit=False)
wandb.log({"b": 2}, step=s + 5)
wandb.log({"c": 3})
print(s)
""",
    )
    assert got == [
        {"_step": 0, "x": 0},
        {"_step": 1, "x": 1},
        {"_step": 2, "a": 1},
        {"_step": 7, "b": 2, "c": 3},
    ]


def test_issue_table(tmp):
    got = logged_rows(
        tmp,
        """
wandb.log({"a": 1})
wandb.log({"b": 2}, commit=False)
wandb.log({"c": 3}, step=100)
wandb.log({"d": 4})
assert run.step == 101, run.step
""",
    )
    assert got == [{"_step": 0, "a": 1}, {"_step": 1, "b": 2}, {"_step": 100, "c": 3, "d": 4}]


def test_committed_step_rejects_later_data(tmp):
    got = logged_rows(
        tmp,
        """
wandb.log({"cool": 1}, step=1)
wandb.log({"cool": 2}, step=4, commit=True)
wandb.log({"bad": 3}, step=4, commit=True)
assert run.step == 5, run.step
""",
    )
    assert got == [{"_step": 1, "cool": 1}, {"_step": 4, "cool": 2}]


def test_commit_false_merges_and_last_write_wins(tmp):
    got = logged_rows(
        tmp,
        """
wandb.log({"loss": 1.0, "epoch": 0}, commit=False)
wandb.log({"lr": 0.1}, commit=False)
wandb.log({"loss": 0.5}, commit=False)
wandb.log({"acc": 0.9, "epoch": 0}, commit=True)
wandb.log({"epoch": 1}, commit=True)
""",
    )
    assert got == [
        {"_step": 0, "loss": 0.5, "epoch": 0, "lr": 0.1, "acc": 0.9},
        {"_step": 1, "epoch": 1},
    ]


def test_run_step_values(tmp):
    done = run_script(
        tmp,
        """
import trackway as wandb
run = wandb.init()
print(run.step)
wandb.log({"a": 1}); wandb.log({"a": 2})
print(run.step)
wandb.log({"x": 1}, step=3)
print(run.step)
wandb.finish()
""",
    )
    assert done.stdout.split() == ["0", "2", "3"]


def test_explicit_step_then_empty_log_commits(tmp):
    got = logged_rows(
        tmp,
        """
wandb.log({"a": 1}, step=5)
wandb.log({})
wandb.log({"b": 2}, step=6)
""",
    )
    assert got == [{"_step": 5, "a": 1}, {"_step": 6, "b": 2}]


def test_finish_flushes_pending_row(tmp):
    got = logged_rows(
        tmp,
        """
wandb.log({"a": 1})
wandb.log({"b": 2}, commit=False)
""",
    )
    assert got == [{"_step": 0, "a": 1}, {"_step": 1, "b": 2}]


def test_rows_have_timestamps_and_runtime(tmp):
    run_script(
        tmp,
        """
import time, trackway as wandb
t0 = time.time()
wandb.init()
wandb.log({"a": 1})
wandb.finish()
print(t0)
""",
    )
    records, _ = read_log(only_run(tmp))
    (row,) = rows(records)
    assert isinstance(row["_timestamp"], float) and row["_timestamp"] > 1.7e9
    assert isinstance(row["_runtime"], float) and 0 <= row["_runtime"] < 60


def test_lower_step_warns_once(tmp):
    done = run_script(
        tmp,
        """
import trackway as wandb
wandb.init()
wandb.log({"a": 1}, step=10)
for s in range(5):
    wandb.log({"a": 2}, step=s)
wandb.finish()
""",
    )
    assert done.stderr.count("less than the current step") == 1


def test_positional_step_keyword_data_and_mappings(tmp):
    got = logged_rows(
        tmp,
        """
import types
from collections import OrderedDict
wandb.log(data={"a": 1}, step=0)
wandb.log({"b": 2}, 1)
wandb.log(types.MappingProxyType({"c": 3}))
wandb.log(OrderedDict(d=4))
""",
    )
    assert got == [{"_step": 0, "a": 1}, {"_step": 1, "b": 2, "c": 3}, {"_step": 2, "d": 4}]


def test_bad_data_raises_type_error(tmp):
    run_script(
        tmp,
        """
import trackway as wandb
wandb.init()
for bad in ([1, 2], {1: 2}, "x"):
    try:
        wandb.log(bad)
    except TypeError:
        pass
    else:
        raise SystemExit(f"no TypeError for {bad!r}")
wandb.finish()
""",
    )


def test_callers_dict_is_not_mutated(tmp):
    run_script(
        tmp,
        """
import copy, trackway as wandb
wandb.init()
wandb.define_metric("*", step_metric="gs")
d = {"loss": 1.0, "nested": {"a": [1, 2]}, "gs": 3}
before = copy.deepcopy(d)
wandb.log(d)
wandb.log(d, step=5, commit=False)
wandb.log({"other": 1})
assert d == before and list(d) == list(before), d
wandb.finish()
""",
    )


def test_log_before_init_raises(tmp):
    run_script(
        tmp,
        """
import trackway as wandb
from trackway import log
for fn in (wandb.log, log):
    try:
        fn({"a": 1})
    except wandb.Error as e:
        assert "init()" in str(e)
    else:
        raise SystemExit("no error")
""",
    )


def test_step_types(tmp):
    got = logged_rows(
        tmp,
        """
import numpy as np
wandb.log({"a": 1}, step=np.int64(2))
wandb.log({"a": 2}, step=3.0)
for bad, exc in ((-1, ValueError), (4.5, TypeError), ("5", TypeError)):
    try:
        wandb.log({"a": 3}, step=bad)
    except exc:
        pass
    else:
        raise SystemExit(f"step={bad!r} accepted")
""",
    )
    assert got == [{"_step": 2, "a": 1}, {"_step": 3, "a": 2}]
