"""A tiny recording server: what the real wandb SDK sends, saved as JSON Lines.

Used once per wandb release to record the fixtures in tests/wandb/fixtures/ (see
docs/wandb-server.md, "Recording the protocol"): every request's method, path, GraphQL operation
name and variables (query text dropped: the operation names it), filestream bodies and upload
sizes. It answers just enough for the SDK to run a script to the end; it stores nothing.

    python tests/wandb/capture_server.py OUT.jsonl PORT
"""

import json
import re
import sys
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RUN = {
    "id": "UnVuOjE=",
    "name": None,
    "displayName": "capture",
    "description": "",
    "config": "{}",
    "sweepName": None,
    "project": {"id": "UHJvamVjdDox", "name": "p", "entity": {"id": "RW50aXR5OjE=", "name": "e"}},
    "historyLineCount": 0,
}


def answer(op: str, variables: dict, port: int) -> dict:
    if op == "Viewer":
        return {
            "viewer": {
                "id": "VXNlcjox",
                "entity": "e",
                "username": "u",
                "email": "u@x",
                "flags": "{}",
                "teams": {"edges": []},
            }
        }
    if op == "ServerFeaturesQuery":
        return {"serverInfo": {"features": []}}
    if op == "UpsertBucket":
        run = dict(RUN, name=variables.get("name"))
        return {"upsertBucket": {"bucket": run, "inserted": True}}
    if op == "RunResumeStatus":
        return {
            "model": {
                "id": "UHJvamVjdDox",
                "name": "p",
                "entity": {"id": "e", "name": "e"},
                "bucket": None,
            }
        }
    if op == "CreateRunFiles":
        files = [
            {"name": f, "uploadUrl": f"http://127.0.0.1:{port}/upload/{f}"}
            for f in variables["files"]
        ]
        return {"createRunFiles": {"runID": "UnVuOjE=", "uploadHeaders": [], "files": files}}
    if op in ("MarkRunFilesUploaded", "StopRun"):
        return {op[0].lower() + op[1:]: {"success": True}}
    if op == "ArtifactType":
        return {"project": {"artifact": None}}
    if op == "OrganizationCoreWeaveOrganizationID":
        return {"entity": {"organization": None}}
    return None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n)
        if self.headers.get("Content-Encoding") == "gzip":
            data = zlib.decompress(data, 31)
        return data

    def record(self, entry: dict) -> None:
        with open(OUT, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def reply(self, obj: dict, status: int = 200) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        data = self.body()
        entry = {
            "method": "POST",
            "path": self.path,
            "auth": bool(self.headers.get("Authorization")),
        }
        if self.path.startswith("/graphql"):
            req = json.loads(data)
            m = re.search(r"(query|mutation)\s+(\w+)", req.get("query", ""))
            op = req.get("operationName") or (m.group(2) if m else "")
            entry.update(
                op=op, operationName=req.get("operationName"), variables=req.get("variables")
            )
            entry["query"] = req.get("query") if QUERIES else None
            self.record(entry)
            data = answer(op, req.get("variables") or {}, PORT)
            if data is None:
                return self.reply(
                    {"data": None, "errors": [{"message": f"capture: {op} is not answered"}]}
                )
            return self.reply({"data": data})
        if "file_stream" in self.path:
            entry["body"] = json.loads(data)
            self.record(entry)
            return self.reply({"exitcode": None, "limits": {}})
        entry["len"] = len(data)
        self.record(entry)
        return self.reply({})

    def do_PUT(self):
        data = self.body()
        self.record(
            {
                "method": "PUT",
                "path": self.path,
                "len": len(data),
                "content_type": self.headers.get("Content-Type"),
            }
        )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.record({"method": "GET", "path": self.path})
        self.reply({}, 404)


if __name__ == "__main__":
    OUT, PORT = sys.argv[1], int(sys.argv[2])
    QUERIES = len(sys.argv) > 3
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
