"""docker-compose.yml and the Dockerfile agree with Beat: every Beat service runs a command the
CLI has (with options it takes) or an installed entry module, names only real settings (core's,
or a registered platform's), has the settings it cannot start without, and points its URLs at
services of the file. No Docker engine is needed: the file is read as YAML."""

import importlib.util
import re
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import AliasChoices

from core.config import Settings
from core.platforms import registry
from tests.e2e.procs import ROOT, beat_command

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
# Read by boto3 (the assets worker's S3 client), not by Beat's settings.
BOTO3_ENV = {"AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
             "AWS_DEFAULT_REGION"}
INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
INFRASTRUCTURE = {"postgres", "redis", "rabbitmq", "minio"}


@cache
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def beat_services() -> dict[str, dict[str, Any]]:
    """Services that run Beat's own image (built from the Dockerfile)."""
    return {name: s for name, s in services().items() if s.get("build") == "."}


def resolved(value: Any) -> str:
    """A value as `docker compose` sees it with nothing set in .env: defaults filled in."""
    def default(match: re.Match[str]) -> str:
        op = match["op"] or ""
        return match["arg"] if op.endswith("-") else f"<{match['name']}>"
    return INTERPOLATION.sub(default, str(value))


def setting_names() -> set[str]:
    """Every environment variable Beat reads: core's settings and each platform's own."""
    names = {name.upper() for name in Settings.model_fields}
    for platform in registry(Settings()).values():
        if platform.settings is None:
            continue
        prefix = str(platform.settings.model_config.get("env_prefix") or "").upper()
        for name, info in platform.settings.model_fields.items():
            names.add(prefix + name.upper())
            alias = info.validation_alias
            if isinstance(alias, AliasChoices):
                names.update(str(choice).upper() for choice in alias.choices)
            elif isinstance(alias, str):
                names.add(alias.upper())
    return names


@cache
def help_text(*command: str) -> str:
    env = {"COLUMNS": "200", "PATH": "/usr/bin", "HOME": str(Path.home())}
    answer = subprocess.run([*beat_command(), *command, "--help"], capture_output=True,
                            text=True, timeout=60, env=env, check=False)
    assert answer.returncode == 0, f"beat {' '.join(command)} --help: {answer.stderr}"
    return answer.stdout


def test_the_file_has_the_whole_system() -> None:
    assert INFRASTRUCTURE <= set(services())
    assert {"migrate", "server", "worker", "assets-worker", "sandbox"} <= set(beat_services())
    for name, service in services().items():
        for needed in service.get("depends_on", {}):
            assert needed in services(), f"{name} depends on a missing service {needed}"
    for name in ("server", "worker", "assets-worker"):
        assert services()[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"}, name


@pytest.mark.parametrize("name", sorted(beat_services()))
def test_each_beat_service_runs_a_real_command(name: str) -> None:
    command = beat_services()[name]["command"]
    assert isinstance(command, list) and command, name
    if command[0] == "beat":
        words = [w for w in command[1:] if not w.startswith("-")]
        subcommand = words[:1]
        text = help_text(*subcommand)
        for option in (w for w in command[1:] if w.startswith("--")):
            assert option in text, f"{name}: beat {subcommand[0]} has no {option}"
        return
    assert command[:2] == ["python", "-m"], f"{name}: neither beat nor python -m: {command}"
    module = command[2]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert module in project["tool"]["setuptools"]["py-modules"], f"{name}: {module} not installed"
    assert importlib.util.find_spec(module) is not None


@pytest.mark.parametrize("name", sorted(beat_services()))
def test_each_beat_service_names_only_real_settings(name: str) -> None:
    known = setting_names()
    environment = beat_services()[name].get("environment", {})
    unknown = set(environment) - known - BOTO3_ENV
    assert not unknown, f"{name}: not settings of Beat: {sorted(unknown)}"
    # Each of core's values is one its setting accepts (defaults filled in; ValidationError).
    Settings(**{key.lower(): resolved(value) for key, value in environment.items()
                if key.lower() in Settings.model_fields})


def test_beat_services_have_what_they_cannot_start_without() -> None:
    for name, service in beat_services().items():
        environment = service.get("environment", {})
        if name == "sandbox":
            assert not environment
            continue
        for needed in ("DATABASE_URL", "BEAT_SECRET_KEY"):
            assert needed in environment, f"{name} lacks {needed}"
        assert ":?" in environment["BEAT_SECRET_KEY"], "the secret key must come from .env"
        hosts = {key: urlsplit(resolved(environment[key])).hostname
                 for key in ("DATABASE_URL", "REDIS_URL", "AMQP_URL", "SANDBOX_URL")
                 if key in environment}
        assert hosts == {"DATABASE_URL": "postgres", "REDIS_URL": "redis",
                         "AMQP_URL": "rabbitmq", "SANDBOX_URL": "sandbox"}, name
    server = beat_services()["server"]
    assert "--host" in server["command"] and "0.0.0.0" in server["command"]
    # Beyond loopback the server refuses to start without API keys.
    assert ":?" in server["environment"]["BEAT_API_KEYS"]
    port = server["command"][server["command"].index("--port") + 1]
    assert f"{port}:{port}" in server["ports"]
    sandbox = beat_services()["sandbox"]["command"]
    assert resolved(server["environment"]["SANDBOX_URL"]).endswith(
        ":" + sandbox[sandbox.index("--port") + 1])


def test_sandbox_credentials_are_the_platforms_own() -> None:
    """The defaults that make each platform use the sandbox are what each platform says they
    are (learned from the registry, as `beat up` does)."""
    settings = Settings()
    expected: dict[str, str] = {}
    for platform in registry(settings).values():
        own = platform.platform_settings(settings)
        expected.update(own.sandbox_env() if own else {})
    environment = compose()["x-beat-env"]
    for key, value in expected.items():
        assert resolved(environment.get(key)) == value, key


def test_the_assets_worker_stores_in_the_bucket_the_store_service_makes() -> None:
    environment = beat_services()["assets-worker"]["environment"]
    bucket = services()["minio-bucket"]["entrypoint"][-1]
    assert f"mb --ignore-existing beat/{environment['S3_BUCKET']}" in bucket
    assert urlsplit(environment["S3_ENDPOINT_URL"]).hostname == "minio"
    store = services()["minio"]["environment"]
    assert environment["S3_ACCESS_KEY_ID"] == store["MINIO_ROOT_USER"]
    assert resolved(environment["S3_SECRET_ACCESS_KEY"]) == \
        resolved(store["MINIO_ROOT_PASSWORD"])


def test_the_dockerfile_builds_one_image_for_every_process() -> None:
    text = DOCKERFILE.read_text()
    base = re.search(r"^FROM python:(\d+)\.(\d+)", text, re.MULTILINE)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = re.search(r">=(\d+)\.(\d+)", project["project"]["requires-python"])
    assert base and wanted
    assert (int(base[1]), int(base[2])) >= (int(wanted[1]), int(wanted[2]))
    assert re.search(r"^RUN pip install \.", text, re.MULTILINE)
    assert re.search(r"^USER (?!root)\w+", text, re.MULTILINE), "runs as root"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".env" in ignored  # no local secrets in the image
    assert {s.get("image") for s in beat_services().values()} == {"beat:latest"}
    assert Path(ROOT / "assets_worker.py").exists()
