"""Every logged value round-trips exactly through the run log (docs/run-format.md section 3)."""

import json
import math

from conftest import final_config, only_run, read_log, rows, run_script, same

VALUES = """
VALUES = {
    "nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"), "negzero": -0.0,
    "one_float": 1.0, "tiny": 1e-300, "big": 2 ** 70, "nbig": -(2 ** 70), "u64": 2 ** 64 - 1,
    "i64min": -(2 ** 63), "int": 3, "none": None, "t": True, "f": False, "empty": "",
    "text": "héllo \\u2603 \\n \\"q\\"", "ключ/ü 🚀": 1.5, "a/b/c": 2, "with space:colon": 3,
    "nested": {"x": {"y": [1, 2.5, None, {"z": float("nan")}]}, "$f": "not a tag"},
    "tag_like": {"$int": "12"}, "tag_like2": {"$map": {}}, "list": [1, "two", [3.0]],
}
"""


def test_values_round_trip_exactly(tmp):
    run_script(
        tmp,
        VALUES
        + """
import trackway as wandb
wandb.init(config={"cfg": VALUES})
wandb.log(VALUES)
wandb.finish()
""",
    )
    ns: dict = {}
    exec(VALUES, ns)
    expected = ns["VALUES"]
    records, corrupt = read_log(only_run(tmp))
    assert corrupt == []
    (row,) = rows(records)
    got = {k: v for k, v in row.items() if not k.startswith("_")}
    assert same(got, expected), (got, expected)
    assert same(final_config(records)["cfg"], expected)


def test_floats_stay_floats_on_disk(tmp):
    run_script(
        tmp,
        """
import trackway as wandb
wandb.init()
wandb.log({"f": 1.0, "z": -0.0, "i": 1, "e": 1e22})
wandb.finish()
""",
    )
    text = (only_run(tmp) / "run.jsonl").read_text()
    line = next(line for line in text.splitlines() if '"t":"history"' in line.replace(" ", ""))
    data = json.loads(line)["data"]
    assert isinstance(data["f"], float) and isinstance(data["e"], float)
    assert isinstance(data["i"], int) and not isinstance(data["i"], bool)
    assert math.copysign(1, data["z"]) == -1


def test_numpy_values_are_converted(tmp):
    run_script(
        tmp,
        """
import numpy as np, trackway as wandb
wandb.init()
wandb.log({"f32": np.float32(0.5), "f16nan": np.float16("nan"), "i64": np.int64(-7),
           "u8": np.uint8(200), "b": np.bool_(True), "small": np.arange(4),
           "matrix": np.array([[1.5, 2.5], [3.5, 4.5]]), "big": np.arange(100.0),
           "zero_d": np.array(2.25)})
wandb.finish()
""",
    )
    records, _ = read_log(only_run(tmp))
    (row,) = rows(records)
    assert same(row["f32"], 0.5) and math.isnan(row["f16nan"]) and same(row["i64"], -7)
    assert same(row["u8"], 200) and row["b"] is True and same(row["zero_d"], 2.25)
    assert row["small"] == [0, 1, 2, 3] and row["matrix"] == [[1.5, 2.5], [3.5, 4.5]]
    hist = row["big"]
    assert hist["_type"] == "histogram"
    assert len(hist["values"]) == 32 and len(hist["bins"]) == 33 and sum(hist["values"]) == 100
    assert hist["bins"][0] == 0.0 and hist["bins"][-1] == 99.0


def test_numpy_not_imported_unless_used(tmp):
    run_script(
        tmp,
        """
import sys, trackway as wandb
wandb.init()
wandb.log({"a": 1.0, "s": {1, 2}})
wandb.finish()
assert "numpy" not in sys.modules and "torch" not in sys.modules, "array library imported"
""",
    )


def test_unknown_objects_become_strings(tmp):
    run_script(
        tmp,
        """
import datetime, pathlib, trackway as wandb
class Thing:
    def __str__(self):
        return "a thing"
class Broken:
    def __str__(self):
        raise RuntimeError("boom")
wandb.init()
wandb.log({"thing": Thing(), "when": datetime.date(2024, 1, 2), "p": pathlib.Path("/x"),
           "set": {3}, "tuple": (1, 2), "bytes": b"hi", "broken": Broken()})
wandb.finish()
""",
    )
    records, _ = read_log(only_run(tmp))
    (row,) = rows(records)
    assert row["thing"] == "a thing" and row["when"] == "2024-01-02" and row["p"] == "/x"
    assert row["set"] == [3] and row["tuple"] == [1, 2] and row["bytes"] == "hi"
    assert row["broken"].startswith("<unprintable")


def test_torch_like_tensors_are_converted(tmp):
    # torch is not a test dependency; a stand-in with torch.Tensor's module name and methods
    # exercises the same path (detected by type(x).__module__, never by importing torch).
    run_script(
        tmp,
        """
import trackway as wandb
class Tensor:
    __module__ = "torch"
    def __init__(self, values, dims=1):
        self.values, self.dims = values, dims
    def detach(self): return self
    def cpu(self): return self
    def double(self): return self
    def flatten(self): return self
    def dim(self): return self.dims
    def numel(self): return len(self.values)
    def item(self): return self.values[0]
    def tolist(self): return list(self.values)
wandb.init()
wandb.log({"scalar": Tensor([2.5], dims=0), "small": Tensor([1.0, 2.0]),
           "big": Tensor([float(i) for i in range(64)] + [float("nan")])})
wandb.finish()
""",
    )
    records, _ = read_log(only_run(tmp))
    (row,) = rows(records)
    assert same(row["scalar"], 2.5) and row["small"] == [1.0, 2.0]
    hist = row["big"]
    assert hist["_type"] == "histogram" and len(hist["values"]) == 32
    assert sum(hist["values"]) == 64 and hist["bins"][0] == 0.0 and hist["bins"][-1] == 63.0
