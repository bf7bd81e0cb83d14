"""docker-compose.yml is valid and every service runs a command Docket really has."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.main import get_command

from pipeline.cli import app

ROOT = Path(__file__).resolve().parents[1]


def _config() -> dict:
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("Debian's docker-compose is not installed (scripts/test.sh installs it)")
    out = subprocess.run([compose, "-f", str(ROOT / "docker-compose.yml"), "config"],
                         capture_output=True, text=True, check=False, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


def test_compose_file_is_valid_and_commands_exist() -> None:
    config = _config()
    services = config["services"]
    assert {"postgres", "redis", "api", "worker", "webhooks", "trainer"} <= set(services)
    commands = get_command(app).commands  # type: ignore[attr-defined]
    for name in ("api", "worker", "migrate", "webhooks", "trainer"):
        command = services[name]["command"]
        assert command[0] == "docket", name
        assert command[1] in commands, f"{name} runs 'docket {command[1]}', which does not exist"
        group = commands[command[1]]
        if hasattr(group, "commands"):  # a group: its subcommand must exist too
            assert command[2] in group.commands, f"{name}: no 'docket {' '.join(command[1:3])}'"
    # --scale worker=N needs a worker with no fixed name or host port.
    assert "container_name" not in services["worker"] and "ports" not in services["worker"]
    for name in ("api", "worker", "webhooks", "trainer"):
        env = services[name]["environment"]
        assert env["DOCKET_DATABASE_URL"].startswith("postgresql://")
        assert env["DOCKET_BROKER_URL"].startswith("redis://")
    # The API's health check asks the readiness route the app really has.
    check = " ".join(services["api"]["healthcheck"]["test"])
    assert "/health/ready" in check
    from pipeline.api import app as api

    assert "/health/ready" in api.openapi()["paths"]
    # Flower watches the queue the workers read.
    flower = " ".join(services["flower"]["command"])
    assert f"--broker={services['worker']['environment']['DOCKET_BROKER_URL']}" in flower
