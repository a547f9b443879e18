"""Records the Python layer writes (process, file, output) go through the one run-log writer and
encoder in Rust (`trackway._native`), not a Python copy whose JSON encoding differed."""

import json

from trackway import _files


def test_python_records_use_the_rust_writer_and_encoder(tmp_path):
    log = tmp_path / "run.jsonl"
    log.write_bytes(b'{"t":"run","v":1,"torn')  # a writer died mid-record
    _files.append_record(
        str(log), {"t": "output", "stream": "out", "line": 0, "ts": float("nan"), "text": "é"}
    )
    appender = _files.LogAppender(str(log))
    appender({"t": "file", "path": "a.txt", "policy": "now", "big": 2**70})
    appender.close()
    appender({"t": "file", "path": "ignored after close", "policy": "now"})
    lines = log.read_bytes().split(b"\n")
    assert lines[0] == b'{"t":"run","v":1,"torn', "the torn line is closed, not glued to the next"
    # Non-finite floats and big ints in Trackway JSON, as NativeRun.log writes them (the former
    # Python encoder refused NaN and wrote big ints bare).
    assert json.loads(lines[1]) == {
        "t": "output",
        "stream": "out",
        "line": 0,
        "ts": {"$f": "NaN"},
        "text": "é",
    }
    assert json.loads(lines[2]) == {
        "t": "file",
        "path": "a.txt",
        "policy": "now",
        "big": {"$int": str(2**70)},
    }
    assert lines[3:] == [b""]


def test_a_record_without_a_type_is_refused(tmp_path):
    import pytest

    with pytest.raises(ValueError):
        _files.append_record(str(tmp_path / "run.jsonl"), {"path": "x"})
