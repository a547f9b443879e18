"""`trackway.Api` run edits against a real server filled by a real script: rename through
`run.name = ...; run.update()`, `run.delete()`, `run.move(project)`, each read back through a
fresh `Api`; refused edits raise CommError with the server's message."""

import pytest

from test_e2e_agent import (
    Server,
    run_dirs,
    run_py,
    script_env,
    stop_agent,
    wait_synced,
    write_script,
)
from trackway.apis.public import Run
from trackway.errors import CommError

RUNS = r"""
import trackway
for n in range(3):
    run = trackway.init(project="edit", id=f"e{n}", name=f"before-{n}", config={"n": n})
    for i in range(20):
        trackway.log({"loss": 1.0 / (i + 1 + n)})
    trackway.finish()
"""


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("edit")
    srv = Server(tmp).start()
    run_py(tmp, write_script(tmp, "runs.py", RUNS), script_env(srv))
    wait_synced(run_dirs(tmp))
    yield srv
    srv.stop()
    stop_agent(tmp / "trackway")


def test_rename_is_seen_by_a_fresh_api(filled):
    run = filled.api().run("admin/edit/e0")
    run.name = "after-0"
    run.update()
    assert run.name == "after-0"
    again = filled.api().run("admin/edit/e0")
    assert again.name == again.display_name == "after-0"
    again.display_name = "after-0b"
    again.save()
    assert filled.api().run("admin/edit/e0").name == "after-0b"


def test_move_keeps_history_and_leaves_the_old_project(filled):
    api = filled.api()
    run = api.run("admin/edit/e1")
    rows = list(run.scan_history(keys=["loss"]))
    run.move("edit-archive")
    assert run.project == "edit-archive" and run.id == "e1"
    fresh = filled.api()
    moved = fresh.run("admin/edit-archive/e1")
    assert list(moved.scan_history(keys=["loss"])) == rows and len(rows) == 20
    assert "e1" not in [r.id for r in fresh.runs("admin/edit")]
    with pytest.raises(CommError, match="does not exist"):
        fresh.run("admin/edit/e1")
    with pytest.raises(CommError):
        moved.move("")  # an empty project name is refused (400), the run stays
    assert fresh.run("admin/edit-archive/e1").project == "edit-archive"


def test_delete_removes_the_run(filled):
    api = filled.api()
    api.run("admin/edit/e2").delete()
    fresh = filled.api()
    assert "e2" not in [r.id for r in fresh.runs("admin/edit")]
    with pytest.raises(CommError, match="does not exist"):
        fresh.run("admin/edit/e2")
    with pytest.raises(CommError, match="does not exist"):
        Run(api, {"entity": "admin", "project": "edit", "run_id": "e2"}).delete()
