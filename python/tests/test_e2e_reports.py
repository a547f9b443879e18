"""Reports through `trackway.Api` against a real server: an automated summary created from
code, versions and restore, a stale save refused, sharing by the project rules."""

import pytest

from conftest import Server
from trackway.apis import Api
from trackway.apis.reports import line_panel, markdown, runs_panel
from trackway.errors import CommError


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("reports")).start()
    yield s
    s.stop()


def test_a_report_from_code_is_versioned_and_shared_by_the_project_rules(server):
    admin = Api(base_url=server.url, api_key=server.key)
    blocks = [
        markdown("# Nightly\n\nAll green."),
        line_panel("p", ["loss"]),
        runs_panel("p", ["summary.loss"]),
    ]
    r = admin.create_report("Nightly summary", blocks)
    assert r["version"] == 1 and r["visibility"] == "private"
    assert [b.get("kind", b["type"]) for b in r["doc"]["blocks"]] == ["markdown", "line", "runs"]
    assert r["doc"]["blocks"][1]["runset"] == {"entity": r["entity"], "project": "p"}

    v2 = admin.update_report(r["id"], "Nightly summary", blocks[:1], base_version=1)
    assert v2["version"] == 2
    with pytest.raises(CommError, match="version 2"):
        # JSON's 1.0 is the integer 1 (as the OpenAPI document's generated clients may send it).
        admin.update_report(r["id"], "Stale", blocks, base_version=1.0)
    assert [v["version"] for v in admin.report_versions(r["id"])] == [2, 1]
    back = admin.restore_report(r["id"], 1)
    assert back["version"] == 3 and len(back["doc"]["blocks"]) == 3

    admin.create_user("outsider")
    outsider = Api(base_url=server.url, api_key=admin.create_api_key(user="outsider")["key"])
    assert outsider.reports(r["entity"]) == [], (
        "a private report is listed to its entity's members only"
    )
    with pytest.raises(CommError, match="may not read"):
        outsider.report(r["id"], entity=r["entity"])
    admin.set_report_visibility(r["id"], "team")
    assert [x["id"] for x in outsider.reports(r["entity"])] == [r["id"]]
    assert outsider.report(r["id"], entity=r["entity"])["title"] == "Nightly summary"
    with pytest.raises(CommError, match="may not write"):
        outsider.update_report(r["id"], "Mine now", blocks, entity=r["entity"])

    with pytest.raises(CommError, match="filter"):
        admin.create_report("Bad", [line_panel("p", ["loss"], filters={"$bogus": 1})])


def test_a_non_member_lists_the_projects_shared_with_them(server):
    import json
    import urllib.request

    admin = Api(base_url=server.url, api_key=server.key)
    for project in ("shared", "hidden"):
        req = urllib.request.Request(
            f"{server.url}/api/v1/runs",
            data=json.dumps({"project": project, "run_id": "r1"}).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {server.key}", "Content-Type": "application/json"},
        )
        urllib.request.urlopen(req, timeout=10).close()
    entity = admin.default_entity
    admin.create_user("neighbour")
    other = Api(base_url=server.url, api_key=admin.create_api_key(user="neighbour")["key"])
    with pytest.raises(CommError, match="may not read"):
        other.projects(entity)
    admin.set_project_visibility(f"{entity}/shared", "team")
    assert [p["name"] for p in other.projects(entity)] == ["shared"]


def test_api_reports_takes_wandbs_arguments(server):
    """`Api().reports(path, name=, per_page=)` as wandb spells it: an entity or entity/project
    path, a title to match."""
    api = Api(base_url=server.url, api_key=server.key)
    r = api.create_report("Arguments", [line_panel("argproj", ["loss"])])
    entity = r["entity"]
    assert r["id"] in [x["id"] for x in api.reports(entity, name="Arguments", per_page=10)]
    assert [x["id"] for x in api.reports(f"{entity}/argproj")] == [r["id"]]
    assert api.reports(f"{entity}/elsewhere") == []
    assert api.reports(entity, name="No such title") == []
