"""Trackway JSON decoding in Python goes through the one Rust decoder (`trackway._native`), and
agrees with the Rust and TypeScript decoders on the shared golden cases
(crates/trackway-types/testdata/tjson_golden.json)."""

import json
import math
import pathlib

import pytest

from trackway import _native
from trackway.apis import decode_value
from trackway.errors import CommError

GOLDEN = json.loads(
    (
        pathlib.Path(__file__).resolve().parents[2]
        / "crates/trackway-types/testdata/tjson_golden.json"
    ).read_text()
)


@pytest.mark.parametrize("case", GOLDEN["valid"], ids=lambda c: c["json"])
def test_valid_cases_decode_as_in_rust_and_typescript(case):
    got = _native.decode_tjson(case["json"])
    assert decode_value(json.loads(case["json"])) == got or "number" in case
    if "number" in case:
        want = float(case["number"])
        assert isinstance(got, float) and (math.isnan(got) if math.isnan(want) else got == want)
    elif "int" in case:
        assert isinstance(got, int) and got == int(case["int"])
    else:
        assert got == case["value"]


@pytest.mark.parametrize("text", GOLDEN["invalid"])
def test_malformed_tags_are_refused_everywhere(text):
    with pytest.raises(ValueError):
        _native.decode_tjson(text)
    # The read API reports it as a communication error instead of inventing a value.
    with pytest.raises(CommError):
        decode_value(json.loads(text))
