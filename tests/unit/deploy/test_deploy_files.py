"""The deployment files agree with the service registry, the code and each other (no Docker
engine runs here, so compose and the Dockerfile are checked, not built)."""

import dataclasses
import importlib
import importlib.util

import pytest
import yaml
from nameko.cli.utils.config import load_config
from nameko.cli.utils.import_services import import_services

from deploy import render
from deploy.local.launcher import DEMO_FILE, ROOT, load_demo
from services.centers.contract import CenterCreateSchema, VenueCreateSchema
from services.chassis.schemas import load
from services.registry import CONFIG_FILE, SERVICES, Service

DEPLOY = ROOT / "deploy"
PARENT_LEVEL = {"center": None, "institute": "center", "station": "institute", "point": "station"}
CONFIG_ENV = (
    "AMQP_URI",
    "DATABASE_URL",
    "METRICS_PORT",
    "METRICS_HOST",
    "RPC_TIMEOUT",
    "OUTBOX_POLL_SECONDS",
    "MAX_WORKERS",
    "PREFETCH_COUNT",
    "WEB_SERVER_ADDRESS",
    "IDENTITY_SIGNING_KEY",
    "IDENTITY_SIGNING_KEY_FILE",
    "IDENTITY_PREVIOUS_PUBLIC_KEYS",
    "TOKEN_TTL_SECONDS",
    "SERVICE_NAME",
    "LOG_LEVEL",
)
WITH_DATABASE = [service for service in SERVICES if service.has_database]


def read_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture
def clean_env(monkeypatch):
    for name in CONFIG_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def service_config():
    with open(ROOT / CONFIG_FILE, "rb") as f:
        return load_config(f)


def test_the_committed_deploy_files_are_what_the_registry_makes():
    stale = [
        str(path.relative_to(ROOT))
        for path, text in render.rendered_files().items()
        if path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"{stale} are not what services/registry.py makes: run `make deploy-files`"


def test_the_config_has_the_chassis_keys_with_defaults(clean_env):
    config = service_config()
    assert config["AMQP_URI"] == "amqp://guest:guest@127.0.0.1:5672/"
    assert config["DATABASE_URL"] == ""  # no shared default: whoever starts a service sets it
    for key in (
        "RPC_TIMEOUT",
        "OUTBOX_POLL_SECONDS",
        "max_workers",
        "PREFETCH_COUNT",
        "METRICS_PORT",
        "TOKEN_TTL_SECONDS",
    ):
        assert isinstance(config[key], int), key
    assert config["IDENTITY_SIGNING_KEY"] == config["IDENTITY_SIGNING_KEY_FILE"] == ""  # no default key
    assert config["LOGGING"]["version"] == 1
    assert "[wenming]" in config["LOGGING"]["formatters"]["plain"]["format"]


def test_the_config_takes_values_from_the_environment(clean_env):
    clean_env.setenv("AMQP_URI", "amqp://u:p@broker:5672/v%2Fh")
    clean_env.setenv("DATABASE_URL", "postgresql+pg8000://postgres@db:5432/centers")
    pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAw: not: yaml\n-----END PRIVATE KEY-----\n"
    clean_env.setenv("IDENTITY_SIGNING_KEY", pem)
    clean_env.setenv("METRICS_PORT", "19101")
    clean_env.setenv("MAX_WORKERS", "4")
    clean_env.setenv("SERVICE_NAME", "centers")
    config = service_config()
    assert config["AMQP_URI"] == "amqp://u:p@broker:5672/v%2Fh"
    assert config["DATABASE_URL"] == "postgresql+pg8000://postgres@db:5432/centers"
    assert config["METRICS_PORT"] == 19101
    assert config["max_workers"] == 4
    assert config["IDENTITY_SIGNING_KEY"] == pem
    log_format = config["LOGGING"]["formatters"]["plain"]["format"]
    assert log_format.startswith("%(asctime)s %(levelname)s [centers] [%(request_id)s]")


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_each_entrypoint_is_a_nameko_service_of_the_registered_name_or_a_runnable_module(service):
    if service.runs_on_nameko:
        (service_class,) = import_services(service.entrypoint)
        assert service_class.name == service.name
    else:
        assert importlib.util.find_spec(f"{service.entrypoint}.__main__") is not None


@pytest.mark.parametrize("service", WITH_DATABASE, ids=lambda service: service.name)
def test_each_database_has_a_migrations_module(service):
    assert callable(importlib.import_module(service.migrations).upgrade)


def test_the_registry_names_each_service_and_port_once():
    names = [service.name for service in SERVICES]
    ports = [service.metrics_port for service in SERVICES] + [s.http_port for s in SERVICES if s.http_port]
    assert len(names) == len(set(names))
    assert len(ports) == len(set(ports))


def test_compose_runs_every_service_from_the_config():
    compose = read_yaml(DEPLOY / "compose" / "docker-compose.yml")
    services = compose["services"]
    for index, service in enumerate(SERVICES):
        block = services[service.name]
        assert block["command"] == ["python", "-m", *service.module_args]
        environment = block["environment"]
        assert environment["AMQP_URI"].startswith("amqp://")
        assert environment["SERVICE_NAME"] == service.name
        assert environment["METRICS_PORT"] == str(service.metrics_port)
        assert ("DATABASE_URL" in environment) == service.has_database
        assert block["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        for earlier in SERVICES[:index]:  # the launcher's start order
            assert block["depends_on"][earlier.name]["condition"] == "service_healthy"
        if service.http_port:
            assert f"{service.http_port}:{service.http_port}" in block["ports"]
    assert set(services["prometheus"]["depends_on"]) == {service.name for service in SERVICES}
    build = services["centers"]["build"]
    assert (DEPLOY / "compose" / build["context"] / build["dockerfile"]).resolve().is_file()
    for volume in (v for s in services.values() for v in s.get("volumes", [])):
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (DEPLOY / "compose" / source).is_file(), volume


def test_compose_migrates_every_database_and_keeps_the_admin_password_off_the_command_line():
    migrate = read_yaml(DEPLOY / "compose" / "docker-compose.yml")["services"]["migrate"]
    script = migrate["command"][-1]
    for service in WITH_DATABASE:
        assert f'python -m {service.migrations} "$${service.database_url_env}"' in script
        assert service.database_url_env in migrate["environment"]
    assert "--password" not in script
    assert "WENMING_ADMIN_PASSWORD" in migrate["environment"]


def test_initdb_creates_a_database_per_service_with_one():
    sql = (DEPLOY / "compose" / "initdb.sql").read_text()
    for service in WITH_DATABASE:
        assert f"CREATE DATABASE wenming_{service.name};" in sql


def test_the_dockerfile_copies_what_exists_and_exposes_every_port():
    lines = (DEPLOY / "docker" / "Dockerfile").read_text().splitlines()
    copied = [line.split()[1] for line in lines if line.startswith("COPY ")]
    assert copied and all((ROOT / path).exists() for path in copied)
    exposed = {int(port) for line in lines if line.startswith("EXPOSE ") for port in line.split()[1:]}
    for service in SERVICES:
        assert service.metrics_port in exposed, service.name
        assert service.http_port is None or service.http_port in exposed, service.name


@pytest.mark.parametrize("path", ["prometheus/prometheus.yml", "compose/prometheus.yml"])
def test_prometheus_scrapes_every_service(path):
    jobs = {job["job_name"] for job in read_yaml(DEPLOY / path)["scrape_configs"]}
    assert jobs == {service.name for service in SERVICES}


def test_the_local_scrape_targets_are_the_registered_metrics_ports():
    jobs = read_yaml(DEPLOY / "prometheus" / "prometheus.yml")["scrape_configs"]
    ports = {service.name: service.metrics_port for service in SERVICES}
    for job in jobs:
        assert job["static_configs"][0]["targets"] == [f"127.0.0.1:{ports[job['job_name']]}"]


def test_a_service_added_to_the_registry_is_deployed_everywhere():
    households = Service("households", "services.households.service:HouseholdsService", metrics_port=9105)
    assert households.migrations == "services.households.migrate"
    services = (*SERVICES[:-1], households, SERVICES[-1])  # before the gateway, which calls it

    compose = yaml.safe_load(render.render_compose(services))["services"]
    block = compose["households"]
    assert block["command"][-1] == households.entrypoint
    assert block["environment"]["DATABASE_URL"].endswith("/wenming_households")
    assert block["environment"]["METRICS_PORT"] == "9105"
    assert compose["gateway"]["depends_on"]["households"]["condition"] == "service_healthy"
    assert "households" in compose["prometheus"]["depends_on"]
    assert 'python -m services.households.migrate "$$HOUSEHOLDS_DATABASE_URL"' in compose["migrate"]["command"][-1]
    assert "CREATE DATABASE wenming_households;" in render.render_initdb(services)
    local = yaml.safe_load(render.render_local_prometheus(services))["scrape_configs"]
    assert {"job_name": "households", "static_configs": [{"targets": ["127.0.0.1:9105"]}]} in local
    in_compose = yaml.safe_load(render.render_compose_prometheus(services))["scrape_configs"]
    assert {
        "job_name": "households",
        "dns_sd_configs": [{"names": ["households"], "type": "A", "port": 9105}],
    } in in_compose
    assert "EXPOSE 8000 9100 9101 9102 9103 9104 9105" in render.render_dockerfile("FROM x\nEXPOSE 1\n", services)
    without_database = dataclasses.replace(households, has_database=False, migrations=None)
    assert without_database.migrations is None
    assert "wenming_households" not in render.render_compose((*SERVICES, without_database))


def walk(nodes, parent=None):
    for node in nodes:
        yield node, parent
        yield from walk(node.get("children", []), node)


def test_the_demo_network_follows_the_centers_contract():
    tree = list(walk(load_demo(DEMO_FILE)))
    codes = [node["code"] for node, _ in tree]
    assert len(codes) == len(set(codes))
    for node, parent in tree:
        data = {key: value for key, value in node.items() if key not in ("children", "venues", "note")}
        load(CenterCreateSchema, {**data, "parent_id": 1 if parent else None})
        assert (parent["level"] if parent else None) == PARENT_LEVEL[node["level"]], node["code"]
        for venue in node.get("venues", []):
            load(VenueCreateSchema, venue)
    jicheng = next(node for node, _ in tree if node["code"] == "JZ-YS-JC")
    assert len(jicheng["children"]) == 41  # the seed's 41 administrative villages
