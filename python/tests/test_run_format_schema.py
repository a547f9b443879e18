"""Every record the SDK writes (and the Node example writes) validates against
docs/run-format.schema.json, and the schema rejects malformed records (so this can fail)."""

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from trackway import _native

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "run-format.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def validate_log(path):
    lines = Path(path).read_text().splitlines()
    assert lines
    for i, line in enumerate(lines):
        errors = list(VALIDATOR.iter_errors(json.loads(line)))
        assert not errors, f"line {i}: {line}\n{errors[0].message}"
    return [json.loads(x)["t"] for x in lines]


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_sdk_records_validate(tmp_path):
    root = str(tmp_path / "trackway")
    start = {
        "run_id": "schema-1",
        "project": "p",
        "entity": None,
        "name": "n",
        "tags": ["a"],
        "notes": "x",
        "group": "g",
        "job_type": "train",
        "mode": "offline",
        "config": {"lr": 0.1, "nested": {"$int": "tag-like"}},
        "resume": None,
        "base_url": "http://127.0.0.1:8767",
        "settings": {"console": "auto"},
    }
    run = _native.NativeRun(root, start, None)
    run.define_metric(
        "loss", step_metric="epoch", summary=["min", "MAX"], goal="minimize", hidden=False
    )
    run.log(
        {
            "loss": float("nan"),
            "epoch": 0,
            "big": 10**40,
            "inf": float("inf"),
            "list": [1, 2.5, None, {"$map": 1}],
            "s": "x",
        }
    )
    run.log({"loss": 0.5}, commit=False)
    run.log({"loss": 0.25}, step=5)
    run.log({})
    run.config_update({"bs": 32})
    run.config_remove(["bs"])
    run.summary_set(["best", "v"], 1.5)
    run.summary_update({"k": [1, 2]})
    run.summary_del(["best", "v"])
    run.set_meta(name="renamed", tags=["b"], notes="y")
    run.finish(0)
    kinds = validate_log(run.log_path)
    assert set(kinds) == {"run", "metric", "history", "config", "summary", "meta", "finish"}

    resumed = _native.NativeRun(root, {"run_id": "schema-1"}, None, _native.load_run_state(run.dir))
    resumed.log({"after": 1})
    resumed.finish(None)
    validate_log(resumed.log_path)


def test_node_example_records_validate(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required")
    out = subprocess.run(
        [node, str(REPO / "examples/node/log.mjs"), str(tmp_path / "tw")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    validate_log(Path(out.stdout.strip()) / "run.jsonl")


@pytest.mark.parametrize(
    "record",
    [
        {"t": "history", "step": -1, "data": {}},
        {"t": "history", "step": 1, "data": {"_step": 1}},
        {"t": "history", "step": 1, "data": {"x": {"$f": "nan"}}},
        {"t": "history", "step": 1, "data": {"x": {"$int": "12a"}}},
        {"t": "run", "v": 1, "log_id": "short", "run_id": "a"},
        {"t": "run", "v": 2, "log_id": "0123456789abcdef", "run_id": "a"},
        {"t": "run", "v": 1, "log_id": "0123456789abcdef", "run_id": "a/b"},
        {"t": "finish", "ts": 1.0},
        {"t": "metric", "name": "x", "summary": ["median"]},
        {"t": "summary"},
        {"x": 1},
    ],
)
def test_schema_rejects_malformed_records(record):
    assert list(VALIDATOR.iter_errors(record)), f"accepted {record}"


def test_unknown_record_types_are_valid():
    assert not list(VALIDATOR.iter_errors({"t": "future-thing", "anything": [1]}))
