"""Browser tests for run edits: make runs with the Python SDK, or read them back with
`trackway.Api` (what the UI changed must be what the API sees).

usage: sdk_edit.py make PROJECT N      (N runs e0..e{N-1}, each logging loss for 5 steps)
       sdk_edit.py read PROJECT...     (prints {project: {run_id: {name, tags}}} as JSON)
"""

import json
import sys

import trackway


def make(project: str, n: int) -> None:
    for i in range(n):
        trackway.init(project=project, id=f"e{i}", name=f"edit-{i}", config={"i": i})
        for step in range(5):
            trackway.log({"loss": 1.0 / (step + 1 + i) + 0.0001})
        trackway.finish()


def read(projects: list) -> None:
    api = trackway.Api()
    out = {
        p: {r.id: {"name": r.name, "tags": sorted(r.tags)} for r in api.runs(f"admin/{p}")}
        for p in projects
    }
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    else:
        read(sys.argv[2:])
