"""deploy/docker-compose.yml is not run here (no docker on the CI machine); this checks its
structure: the services, that every replica gets the same backend settings, and that the
settings it passes are ones `trackway server` reads."""

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_compose_file_wires_replicas_to_postgres_and_s3():
    doc = yaml.safe_load((REPO / "deploy/docker-compose.yml").read_text())
    services = doc["services"]
    assert {"postgres", "s3", "s3-bucket", "trackway-1", "trackway-2", "lb"} <= services.keys()
    replicas = [services["trackway-1"], services["trackway-2"]]
    assert replicas[0]["environment"] == replicas[1]["environment"]
    env = replicas[0]["environment"]
    assert env["TRACKWAY_DATABASE_URL"].startswith("postgres://")
    assert env["TRACKWAY_BLOB_URL"].startswith("s3://")
    assert "--host" in replicas[0]["command"] and "server" in replicas[0]["command"]
    for depends in ("postgres", "s3-bucket"):
        assert depends in replicas[0]["depends_on"]
    nginx = (REPO / "deploy/nginx.conf").read_text()
    assert "trackway-1:8767" in nginx and "trackway-2:8767" in nginx
    # Every TRACKWAY_* setting the file uses is one the server's CLI declares.
    cli = (REPO / "crates/trackway-cli/src/commands/server.rs").read_text()
    for name in env:
        if name.startswith("TRACKWAY_"):
            assert f'env = "{name}"' in cli, name
