"""The server against its own OpenAPI document: schemathesis (installed by the Makefile) sends
generated requests, valid and invalid, to a real server for a bounded time and checks every
answer (status documented, error shape, response schema, invalid input rejected with 4xx, no
5xx). The document is the one the server serves, generated from its routes. No failure is
tolerated: there is no baseline of known ones."""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from conftest import Server

# Wall-clock budget of the generated phases (seconds); `make test` stays bounded.
BUDGET = os.environ.get("TRACKWAY_SCHEMATHESIS_SECONDS", "60")


def seed(server: Server) -> None:
    """One run with history, so that lookups by the document's examples reach real rows."""
    body = {"project": "p", "run_id": "r1", "config": {"lr": 0.1}}
    req = urllib.request.Request(
        f"{server.url}/api/v1/runs",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {server.key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200


def test_server_conforms_to_its_openapi_document(tmp: Path):
    st = Path(sys.executable).with_name("st")
    assert st.exists(), "schemathesis is not installed in the venv: run `make venv`"
    server = Server(tmp).start()
    try:
        seed(server)
        cmd = [
            str(st),
            "run",
            f"{server.url}/api/v1/openapi.json",
            "-H",
            f"Authorization: Bearer {server.key}",
            "--checks",
            "all",
            "--max-time",
            BUDGET,
            # One worker: hypothesis describes its lambdas with ast.parse, which is not
            # thread-safe on Python 3.11 ("AST constructor recursion depth mismatch").
            "--workers",
            "1",
            "--seed",
            "1",
            "--request-timeout",
            "10",
            "--no-color",
            "--generation-database",
            "none",
            "--report",
            "junit",
            "--report-dir",
            str(tmp / "report"),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=int(BUDGET) + 240)
    finally:
        server.stop()
    out = proc.stdout + proc.stderr
    (tmp / "schemathesis.log").write_text(out)
    assert proc.returncode == 0, out[-60000:]
