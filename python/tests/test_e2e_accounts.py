"""Account administration through `trackway.Api` and `trackway admin` against a real server:
users, a team with roles, scoped and expiring keys, deactivation, invites, visibility, the
audit log."""

import json
import subprocess

import pytest

from conftest import Server, trackway_bin
from trackway.apis import Api
from trackway.errors import CommError


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("accounts")).start()
    yield s
    s.stop()


def test_team_roles_keys_and_deactivation(server):
    admin = Api(base_url=server.url, api_key=server.key)
    admin.create_user("bea", password="bea-password")
    admin.create_user("cid")
    admin.create_team("vision")
    admin.set_member("vision", "bea", "member")
    admin.set_member("vision", "cid", "viewer")
    roles = {m["username"]: m["role"] for m in admin.team_members("vision")}
    assert roles == {"admin": "admin", "bea": "member", "cid": "viewer"}

    bea_key = admin.create_api_key(user="bea", name="laptop")["key"]
    bea = Api(base_url=server.url, api_key=bea_key)
    assert {t["name"] for t in bea.teams()} == {"bea", "vision"}
    with pytest.raises(CommError, match="administer"):
        bea.set_member("vision", "cid", "admin")

    ro = bea.create_api_key(name="ci", read_only=True, entity="vision")
    info = ro["info"]
    assert info["scope"] == {"read_only": True, "ingest_only": False, "entity": "vision"}
    ro_api = Api(base_url=server.url, api_key=ro["key"])
    assert ro_api.team_members("vision")
    with pytest.raises(CommError, match="read-only"):
        ro_api.create_team("nope")
    listed = {k["id"]: k for k in bea.api_keys()}
    assert listed[info["id"]]["last_used_at"] is not None
    assert "key" not in listed[info["id"]], "a listing never shows the secret"
    bea.revoke_api_key(info["id"])
    with pytest.raises(CommError, match="invalid API key"):
        Api(base_url=server.url, api_key=ro["key"]).teams()

    admin.deactivate_user("bea")
    with pytest.raises(CommError, match="invalid API key"):
        Api(base_url=server.url, api_key=bea_key).teams()
    admin.activate_user("bea")
    assert Api(base_url=server.url, api_key=bea_key).viewer()["username"] == "bea"

    actions = [e["action"] for e in admin.audit_log()]
    for action in (
        "user.create",
        "team.create",
        "member.set",
        "key.create",
        "key.revoke",
        "user.update",
    ):
        assert action in actions


def test_cli_admin_and_invites(server):
    env = {**server.env(), "TRACKWAY_BASE_URL": server.url, "TRACKWAY_API_KEY": server.key}

    def cli(*args):
        out = subprocess.run(
            [trackway_bin(), "admin", *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout) if out.stdout.strip() else None

    cli("team", "create", "nlp")
    invite = cli("team", "invite", "nlp", "--role", "viewer", "--expires-in", "3600")
    assert invite["url"].endswith("/invite/" + invite["token"])
    assert cli("user", "create", "svc-ci", "--service")["service"] is True
    made = cli("key", "create", "--user", "svc-ci", "--ingest-only", "--name", "ci")
    assert made["info"]["scope"]["ingest_only"] is True
    svc = Api(base_url=server.url, api_key=made["key"])
    assert svc.viewer()["username"] == "svc-ci"
    with pytest.raises(CommError, match="ingest-only"):
        svc.teams()
    assert any(u["username"] == "svc-ci" for u in cli("user", "list"))
    last_admin = subprocess.run(
        [trackway_bin(), "admin", "team", "remove", "nlp", "admin"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert last_admin.returncode != 0 and "last admin" in last_admin.stderr
