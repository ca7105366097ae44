"""The deployment files agree with the code and with each other (no Docker engine runs
here, so compose and the Dockerfile are checked, not built)."""
import pytest
import yaml
from nameko.cli.utils.config import load_config

from deploy.local.launcher import DEMO_FILE, ROOT, SERVICES, load_demo
from services.centers.contract import CenterCreateSchema, VenueCreateSchema
from services.chassis.schemas import load

DEPLOY = ROOT / "deploy"
PARENT_LEVEL = {"center": None, "institute": "center", "station": "institute", "point": "station"}
CONFIG_ENV = ("AMQP_URI", "CENTERS_DATABASE_URL", "GATEWAY_DATABASE_URL", "CENTERS_METRICS_PORT",
              "GATEWAY_METRICS_PORT", "WEB_SERVER_ADDRESS", "JWT_SECRET", "METRICS_HOST")


def read_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture
def clean_env(monkeypatch):
    for name in CONFIG_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def service_config(service):
    with open(DEPLOY / "config" / f"{service}.yml", "rb") as f:
        return load_config(f)


@pytest.mark.parametrize("service", SERVICES)
def test_each_config_has_the_chassis_keys_with_defaults(clean_env, service):
    config = service_config(service)
    assert config["AMQP_URI"] == "amqp://guest:guest@127.0.0.1:5672/"
    assert config["DATABASE_URL"].startswith("sqlite:///")
    for key in ("RPC_TIMEOUT", "OUTBOX_POLL_SECONDS", "max_workers", "PREFETCH_COUNT", "METRICS_PORT"):
        assert isinstance(config[key], int), key
    assert config["LOGGING"]["version"] == 1


def test_configs_take_values_from_the_environment(clean_env):
    clean_env.setenv("AMQP_URI", "amqp://u:p@broker:5672/v%2Fh")
    clean_env.setenv("CENTERS_DATABASE_URL", "postgresql+pg8000://postgres@db:5432/centers")
    clean_env.setenv("JWT_SECRET", "a: secret that YAML must not parse")
    clean_env.setenv("CENTERS_METRICS_PORT", "19101")
    centers, gateway = service_config("centers"), service_config("gateway")
    assert centers["AMQP_URI"] == gateway["AMQP_URI"] == "amqp://u:p@broker:5672/v%2Fh"
    assert centers["DATABASE_URL"] == "postgresql+pg8000://postgres@db:5432/centers"
    assert centers["METRICS_PORT"] == 19101
    assert gateway["JWT_SECRET"] == "a: secret that YAML must not parse"
    assert gateway["WEB_SERVER_ADDRESS"] == "127.0.0.1:8000"


def test_compose_runs_every_service_from_its_config():
    compose = read_yaml(DEPLOY / "compose" / "docker-compose.yml")
    services = compose["services"]
    for service, target in SERVICES.items():
        assert services[service]["command"] == [
            "nameko", "run", "--config", f"deploy/config/{service}.yml", target]
        assert services[service]["environment"]["AMQP_URI"].startswith("amqp://")
        assert services[service]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    build = services["centers"]["build"]
    assert (DEPLOY / "compose" / build["context"] / build["dockerfile"]).resolve().is_file()
    for volume in (v for s in services.values() for v in s.get("volumes", [])):
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (DEPLOY / "compose" / source).is_file(), volume


def test_the_dockerfile_copies_what_exists():
    lines = (DEPLOY / "docker" / "Dockerfile").read_text().splitlines()
    copied = [line.split()[1] for line in lines if line.startswith("COPY ")]
    assert copied and all((ROOT / path).exists() for path in copied)


@pytest.mark.parametrize("path", ["prometheus/prometheus.yml", "compose/prometheus.yml"])
def test_prometheus_scrapes_every_service(path):
    jobs = {job["job_name"] for job in read_yaml(DEPLOY / path)["scrape_configs"]}
    assert jobs == set(SERVICES)


def test_the_local_scrape_targets_are_the_configured_metrics_ports(clean_env):
    jobs = read_yaml(DEPLOY / "prometheus" / "prometheus.yml")["scrape_configs"]
    for job in jobs:
        port = service_config(job["job_name"])["METRICS_PORT"]
        assert job["static_configs"][0]["targets"] == [f"127.0.0.1:{port}"]


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
        load(CenterCreateSchema(), {**data, "parent_id": 1 if parent else None})
        assert (parent["level"] if parent else None) == PARENT_LEVEL[node["level"]], node["code"]
        for venue in node.get("venues", []):
            load(VenueCreateSchema(), venue)
    jicheng = next(node for node, _ in tree if node["code"] == "JZ-YS-JC")
    assert len(jicheng["children"]) == 41  # the seed's 41 administrative villages
