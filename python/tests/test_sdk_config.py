"""Config semantics (wandb-api-surface.md 3.2) and what reaches the run log."""

from conftest import final_config, only_run, read_log, run_script


def logged_config(tmp) -> dict:
    records, corrupt = read_log(only_run(tmp))
    assert corrupt == []
    return final_config(records)


def test_config_errors_and_allow_val_change(tmp):
    run_script(
        tmp,
        """
import trackway as wandb
from trackway.sdk.lib.config_util import ConfigError
run = wandb.init(config={"lr": 0.1, "layers": 2})
wandb.config.update({"lr": 0.1})                      # same value: fine
try:
    wandb.config.update({"lr": 0.2})
except ConfigError as e:
    assert "lr" in str(e)
else:
    raise SystemExit("no ConfigError on update")
for setter in (lambda: wandb.config.__setitem__("lr", 0.3),
               lambda: setattr(wandb.config, "lr", 0.3)):
    try:
        setter()
    except ConfigError:
        pass
    else:
        raise SystemExit("no ConfigError on assignment")
assert wandb.config.lr == 0.1
wandb.config.update({"lr": 0.2}, allow_val_change=True)
wandb.config["model/num_parameters"] = 123
wandb.config.batch = 32
assert isinstance(ConfigError("x"), wandb.Error)
wandb.finish()
""",
    )
    assert logged_config(tmp) == {"lr": 0.2, "layers": 2, "model/num_parameters": 123, "batch": 32}


def test_failed_update_changes_nothing(tmp):
    run_script(
        tmp,
        """
import trackway as wandb
wandb.init(config={"a": 1})
try:
    wandb.config.update({"new": 1, "a": 2})
except wandb.sdk.lib.config_util.ConfigError:
    pass
assert "new" not in wandb.config
wandb.finish()
""",
    )
    assert logged_config(tmp) == {"a": 1}


def test_setdefaults_get_contains_and_dict(tmp):
    run_script(
        tmp,
        """
import trackway as wandb
run = wandb.init(config={"lr": 0.1, "_internal": 1})
run.config.setdefaults({"lr": 9, "new": 1})
c = wandb.config
assert c.lr == 0.1 and c["new"] == 1 and c.get("missing", 7) == 7
assert "lr" in c and "missing" not in c
assert dict(c) == {"lr": 0.1, "new": 1}, dict(c)          # `_` keys hidden
assert c.as_dict()["_internal"] == 1
assert vars(c)["_items"]["lr"] == 0.1                      # transformers hp-search
assert sorted(c.keys()) == ["lr", "new"] and dict(c.items()) == dict(c)
try:
    c.missing
except AttributeError:
    pass
else:
    raise SystemExit("missing attribute did not raise AttributeError")
wandb.finish()
""",
    )
    assert logged_config(tmp) == {"lr": 0.1, "_internal": 1, "new": 1}


def test_namespace_yaml_and_defaults_file(tmp):
    (tmp / "config-defaults.yaml").write_text(
        "wandb_version: 1\nepochs:\n  desc: number of epochs\n  value: 10\nopt: adam\n"
    )
    (tmp / "exp.yaml").write_text("lr: 0.01\nopt: sgd\n")
    run_script(
        tmp,
        """
import argparse, trackway as wandb
run = wandb.init(config="exp.yaml")
assert run.config.epochs == 10 and run.config.opt == "sgd"
ns = argparse.Namespace(batch=64, seed=1)
run.config.update(ns)
wandb.finish()
""",
    )
    assert logged_config(tmp) == {"epochs": 10, "opt": "sgd", "lr": 0.01, "batch": 64, "seed": 1}


def test_namespace_at_init_with_exclude_and_include(tmp):
    run_script(
        tmp,
        """
import argparse, trackway as wandb
ns = argparse.Namespace(a=1, b=2, secret="x")
wandb.init(config=ns, config_exclude_keys=["secret"])
assert dict(wandb.config) == {"a": 1, "b": 2}
wandb.finish()
run = wandb.init(config={"a": 1, "b": 2}, config_include_keys=["b"])
assert dict(run.config) == {"b": 2}
run.finish()
try:
    wandb.init(config={}, config_include_keys=["a"], config_exclude_keys=["b"])
except wandb.errors.UsageError:
    pass
else:
    raise SystemExit("include+exclude accepted")
""",
    )


def test_keys_and_values_made_json_friendly(tmp):
    run_script(
        tmp,
        """
import enum, pathlib, trackway as wandb
class Color(enum.Enum):
    RED = 1
class Opaque:
    def __str__(self):
        return "opaque!"
wandb.init(config={3: 4, "--lr": 0.5, "t": (1, 2), "s": {5}, "nested": {1: {"x": (3,)}},
                   "p": pathlib.Path("/tmp/x"), "o": Opaque(), "none": None})
assert wandb.config["3"] == 4 and wandb.config.lr == 0.5 and wandb.config.t == [1, 2]
wandb.config.update({"e": Color.RED})
wandb.finish()
""",
    )
    assert logged_config(tmp) == {
        "3": 4,
        "lr": 0.5,
        "t": [1, 2],
        "s": [5],
        "nested": {"1": {"x": [3]}},
        "p": "/tmp/x",
        "o": "opaque!",
        "none": None,
        "e": "Color.RED",
    }


def test_numpy_keys_and_values(tmp):
    run_script(
        tmp,
        """
import numpy as np, trackway as wandb
wandb.init(config={np.int64(7): np.float32(0.5), "arr": np.arange(3), "b": np.bool_(True)})
assert wandb.config["7"] == 0.5
wandb.finish()
""",
    )
    assert logged_config(tmp) == {"7": 0.5, "arr": [0, 1, 2], "b": True}


def test_persist_after_nested_mutation_and_delete(tmp):
    run_script(
        tmp,
        """
import trackway as wandb
wandb.init(config={"model": {"layers": 2}, "tmp": 1})
wandb.config.model["layers"] = 4
wandb.config.persist()
del wandb.config["tmp"]
wandb.finish()
""",
    )
    assert logged_config(tmp) == {"model": {"layers": 4}}


def test_config_before_init_and_after_finish(tmp):
    run_script(
        tmp,
        """
import trackway as wandb
for action in (lambda: setattr(wandb.config, "x", 1),
               lambda: wandb.config.__setitem__("x", 1),
               lambda: wandb.summary.__setitem__("k", 1)):
    try:
        action()
    except wandb.Error:
        pass
    else:
        raise SystemExit("pre-init use did not raise")
assert not hasattr(wandb.config, "x")
run = wandb.init(config={"a": 1})
wandb.finish()
assert run.config.a == 1
try:
    run.config.update({"b": 2})
except wandb.errors.UsageError:
    pass
else:
    raise SystemExit("config change after finish accepted")
""",
    )
