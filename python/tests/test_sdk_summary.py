"""Summary and define_metric (wandb-api-surface.md 3.3, P0 define_metric), read back from disk."""

from conftest import final_summary, only_run, read_log, rows, run_script, strip_meta


def logged(tmp, body: str):
    run_script(tmp, "import trackway as wandb\nrun = wandb.init()\n" + body + "\nwandb.finish()\n")
    records, corrupt = read_log(only_run(tmp))
    assert corrupt == []
    return [strip_meta(r) for r in rows(records)], final_summary(records)


def user_keys(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if not k.startswith("_")}


def test_summary_is_last_committed_value(tmp):
    _, summary = logged(
        tmp,
        """
wandb.log({"a": 1, "nested": {"x": 1}})
wandb.log({"a": 2, "nested": {"y": 2}})
wandb.log({"b": "text"}, commit=False)
assert wandb.summary.get("b") is None, "uncommitted data visible in summary"
assert run.summary["a"] == 2 and run.summary.a == 2
wandb.log({})
assert wandb.summary["b"] == "text"
s = dict(wandb.summary)
assert "_step" in s, s
""",
    )
    # nested values are tracked per leaf path (as wandb-core does), so both leaves remain
    assert user_keys(summary) == {"a": 2, "nested": {"x": 1, "y": 2}, "b": "text"}
    assert summary["_step"] == 2


def test_explicit_summary_persists_until_logged_again(tmp):
    _, summary = logged(
        tmp,
        """
wandb.log({"acc": 0.5, "loss": 1.0})
wandb.summary["acc"] = 0.99
wandb.summary.update({"best": 3, "loss": 0.1})
run.summary.extra = "x"
wandb.log({"loss": 0.7})
assert wandb.summary["acc"] == 0.99 and wandb.summary["loss"] == 0.7
""",
    )
    assert user_keys(summary) == {"acc": 0.99, "loss": 0.7, "best": 3, "extra": "x"}


def test_nested_write_through_and_delete(tmp):
    _, summary = logged(
        tmp,
        """
wandb.summary["this"] = {"that": 4, "gone": 1}
assert wandb.summary["this"] == {"that": 4, "gone": 1}
wandb.summary["this"]["other"] = 5
del wandb.summary["this"]["gone"]
wandb.summary["tmp"] = 1
del wandb.summary["tmp"]
try:
    del wandb.summary["never"]
except KeyError:
    pass
else:
    raise SystemExit("no KeyError")
assert dict(wandb.summary["this"]) == {"that": 4, "other": 5}
""",
    )
    assert user_keys(summary) == {"this": {"that": 4, "other": 5}}


def test_define_metric_aggregates(tmp):
    _, summary = logged(
        tmp,
        """
m = wandb.define_metric("loss", summary="min,max,mean,first,last", goal="minimize")
assert m.name == "loss" and m.summary == ("min", "max", "mean", "first", "last")
wandb.define_metric("acc", summary="max")
wandb.define_metric("hidden_key", summary="none")
for loss, acc in ((3.0, 0.1), (1.0, 0.7), (2.0, "n/a")):
    wandb.log({"loss": loss, "acc": acc, "hidden_key": 1})
""",
    )
    assert summary["loss"] == {"min": 1.0, "max": 3.0, "mean": 2.0, "first": 3.0, "last": 2.0}
    assert summary["acc"] == {"max": 0.7}
    assert "hidden_key" not in summary


def test_define_metric_globs(tmp):
    _, summary = logged(
        tmp,
        """
wandb.define_metric("eval/*", summary="max")
for i in range(3):
    wandb.log({"eval/acc": i, "eval/f1": 10 - i, "train/loss": i})
""",
    )
    assert summary["eval/acc"] == {"max": 2}
    assert summary["eval/f1"] == {"max": 10}
    assert summary["train/loss"] == 2


def test_step_metric_step_sync_fills_rows(tmp):
    got, _ = logged(
        tmp,
        """
wandb.define_metric("train/global_step")
m = wandb.define_metric("*", step_metric="train/global_step", step_sync=True)
assert m.step_metric == "train/global_step" and m.step_sync is True
wandb.log({"train/loss": 1.0, "train/global_step": 10})
wandb.log({"eval/loss": 2.0})
wandb.log({"train/loss": 0.5, "train/global_step": 20})
wandb.log({"eval/loss": 1.5})
""",
    )
    assert got == [
        {"_step": 0, "train/loss": 1.0, "train/global_step": 10},
        {"_step": 1, "eval/loss": 2.0, "train/global_step": 10},
        {"_step": 2, "train/loss": 0.5, "train/global_step": 20},
        {"_step": 3, "eval/loss": 1.5, "train/global_step": 20},
    ]


def test_metric_records_written(tmp):
    run_script(
        tmp,
        """
import trackway as wandb
wandb.init()
wandb.define_metric("epoch/*", step_metric="epoch/epoch", summary=["min"], hidden=False)
wandb.finish()
""",
    )
    records, _ = read_log(only_run(tmp))
    (metric,) = [r for r in records if r["t"] == "metric"]
    assert metric["name"] == "epoch/*" and metric["step_metric"] == "epoch/epoch"
    assert metric["summary"] == ["min"]


def test_define_metric_validation_and_preinit(tmp):
    done = run_script(
        tmp,
        """
import trackway as wandb
assert getattr(wandb, "define_metric", None)
wandb.define_metric("before_init")            # lenient: warning, no error
run = wandb.init()
for kwargs in ({"goal": "sideways"}, {"summary": "median"}):
    try:
        wandb.define_metric("x", **kwargs)
    except wandb.Error:
        pass
    else:
        raise SystemExit(f"accepted {kwargs}")
wandb.finish()
try:
    run.define_metric("y")
except wandb.errors.UsageError:
    pass
else:
    raise SystemExit("define_metric on a finished run accepted")
""",
    )
    assert "define_metric() before init()" in done.stderr


def test_define_metric_returns_the_native_rules_normalisation(tmp):
    """One `define_metric` normalisation (trackway-sdk's MetricDef): what `define_metric`
    returns is the record the run log stores: comma lists split and lowercased, `min`/`max`
    goals named, `step_sync` defaulted, bad arguments refused. (A disabled run's
    `define_metric` is wandb's no-op and stays one.)"""
    for mode in ("offline",):
        done = run_script(
            tmp,
            f"""
import trackway as wandb
from trackway.errors import Error
run = wandb.init(mode="{mode}")
m = run.define_metric("loss", summary="MIN, max", goal="min")
assert (m.summary, m.goal, m.step_sync) == (("min", "max"), "minimize", None), vars(m)
e = run.define_metric("eval/*", step_metric="epoch")
assert (e.step_metric, e.step_sync) == ("epoch", True), vars(e)
for bad in ({{"summary": "median"}}, {{"goal": "up"}}):
    try:
        run.define_metric("x", **bad)
    except Error:
        pass
    else:
        raise AssertionError(bad)
wandb.finish()
print("ok")
""",
        )
        assert done.stdout.strip().endswith("ok"), (mode, done.stdout, done.stderr)
