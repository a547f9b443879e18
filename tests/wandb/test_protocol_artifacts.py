"""Artifacts over wandb's protocol (docs/wandb-server.md "Artifacts"): the real SDK logs an
artifact (`log_artifact`, through wandb-core's GraphQL mutations and signed upload URLs) into
the same ArtifactStore Trackway's own client uses, then a second run `use_artifact`s and
downloads it (the Python package's queries and signed download URLs) into an empty cache. Both
sides are read back through `trackway.Api` and compared byte for byte."""

import json
from pathlib import Path

from test_protocol import run_wandb

FILES = {
    "a.txt": b"hello\n",
    "nested/rows.csv": b"x,y\n1,2\n3,4\n",
    "blob.bin": bytes(range(256)) * 40,
}

LOG = """
import wandb
from pathlib import Path
files = json.loads(Path("files.json").read_text())
run = wandb.init(project="arts", id="producer1")
art = wandb.Artifact("data", type="dataset", description="three files", metadata={"rows": 2, "src": "test"})
for path, hexbytes in files.items():
    p = Path("src") / path
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(bytes.fromhex(hexbytes))
    art.add_file(str(p), name=path)
run.log_artifact(art, aliases=["best"])
art.wait()
print("LOGGED", art.version, art.id)
run.finish()
"""

USE = """
import json, wandb
run = wandb.init(project="arts", id="consumer1")
art = run.use_artifact("data:best")
root = art.download(root="downloaded")
print("USED", json.dumps({"version": art.version, "type": art.type, "metadata": art.metadata,
    "description": art.description, "aliases": sorted(art.aliases), "files": sorted(e for e in art.manifest.entries)}))
run.finish()
"""


def write_files(tmp: Path) -> None:
    (tmp / "files.json").write_text(json.dumps({k: v.hex() for k, v in FILES.items()}))


def marker(out: str, word: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith(word + " ")]
    assert lines, out[-3000:]
    return lines[-1][len(word) + 1 :]


def test_log_artifact_lands_in_the_artifact_store_and_downloads_byte_for_byte(server, api, tmp):
    write_files(tmp)
    done = run_wandb(tmp, server, "import json\n" + LOG)
    assert marker(done.stdout, "LOGGED").startswith("v0 "), done.stdout

    # Read back through Trackway's own API and client: the same version, the same bytes.
    art = api.artifact("admin/arts/data:best")
    assert (art.type, art.version, art.description) == ("dataset", "v0", "three files")
    assert art.metadata == {"rows": 2, "src": "test"}
    assert sorted(art.aliases) == ["best", "latest"]
    root = Path(art.download(root=str(tmp / "trackway-download")))
    for path, data in FILES.items():
        assert (root / path).read_bytes() == data, path
    producer = api.run("admin/arts/producer1")
    assert [a.name for a in producer.logged_artifacts()] == ["data:v0"]

    # A second run uses and downloads it with wandb, from an empty cache (nothing local to reuse).
    use_dir = tmp / "consumer"
    (use_dir / "home").mkdir(parents=True)
    done = run_wandb(
        use_dir,
        server,
        USE,
        WANDB_CACHE_DIR=str(use_dir / "cache"),
        WANDB_ARTIFACT_DIR=str(use_dir / "a"),
    )
    used = json.loads(marker(done.stdout, "USED"))
    assert used["version"] == "v0" and used["type"] == "dataset"
    assert used["metadata"] == {"rows": 2, "src": "test"}
    assert used["description"] == "three files"
    assert used["aliases"] == ["best", "latest"]
    assert used["files"] == sorted(FILES)
    for path, data in FILES.items():
        assert (use_dir / "downloaded" / path).read_bytes() == data, path
    consumer = api.run("admin/arts/consumer1")
    assert [a.name for a in consumer.used_artifacts()] == ["data:v0"]


def test_relogging_the_same_content_adds_no_version_and_a_change_adds_one(server, api, tmp):
    write_files(tmp)
    code = "import json\n" + LOG.replace("producer1", "producer2").replace('"data"', '"data2"')
    run_wandb(tmp, server, code)
    again = tmp / "again"
    (again / "home").mkdir(parents=True)
    write_files(again)
    run_wandb(again, server, code.replace("producer2", "producer3"))
    assert [v.version for v in api.artifact_versions("dataset", "admin/arts/data2")] == ["v0"]
    changed = tmp / "changed"
    (changed / "home").mkdir(parents=True)
    (changed / "files.json").write_text(json.dumps({"a.txt": b"changed\n".hex()}))
    run_wandb(changed, server, code.replace("producer2", "producer4"))
    latest = api.artifact("admin/arts/data2:latest")
    assert latest.version == "v1"
    root = Path(latest.download(root=str(tmp / "v1")))
    assert (root / "a.txt").read_bytes() == b"changed\n"


TTL_LOG = """
import datetime, wandb
run = wandb.init(project="arts", id="ttl1")
art = wandb.Artifact("keepsake", type="dataset")
with art.new_file("a.txt") as f:
    f.write("short-lived")
art.ttl = datetime.timedelta(days=3)
run.log_artifact(art)
art.wait()
run.finish()
"""

TTL_EDIT = """
import datetime, json, wandb
api = wandb.Api()
art = api.artifact("admin/arts/keepsake:v0")
print("READ", json.dumps({"ttl": art.ttl.total_seconds() if art.ttl else None}))
art.ttl = datetime.timedelta(hours=1)
art.save()
art = api.artifact("admin/arts/keepsake:v0")
print("HOUR", json.dumps({"ttl": art.ttl.total_seconds() if art.ttl else None}))
art.ttl = None
art.save()
print("NONE", json.dumps({"ttl": wandb.Api().artifact("admin/arts/keepsake:v0").ttl}))
art.description = "changed after the commit"
try:
    art.save()
    print("REFUSED no")
except Exception as e:
    print("REFUSED", type(e).__name__)
"""


def test_artifact_ttl_from_wandb_is_the_artifact_store_ttl(server, api, tmp):
    run_wandb(tmp, server, TTL_LOG)
    # Logged with `Artifact.ttl`: the version expires three days after its creation.
    assert api.artifact("admin/arts/keepsake:v0").ttl.total_seconds() == 3 * 86400
    done = run_wandb(tmp, server, TTL_EDIT)
    assert json.loads(marker(done.stdout, "READ")) == {"ttl": 3 * 86400.0}
    # `Artifact.save()` after the commit changes the TTL (`UpdateArtifact`), then clears it.
    assert json.loads(marker(done.stdout, "HOUR")) == {"ttl": 3600.0}
    assert json.loads(marker(done.stdout, "NONE")) == {"ttl": None}
    assert api.artifact("admin/arts/keepsake:v0").ttl is None
    # A committed version's description stays as logged: the SDK raises the server's refusal.
    assert marker(done.stdout, "REFUSED") != "no"
    assert api.artifact("admin/arts/keepsake:v0").description is None
