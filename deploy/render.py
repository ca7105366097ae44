"""Write the deploy files from services/registry.py. From the repository root:

    python -m deploy.render        # what `make deploy-files` does

Writes deploy/compose/docker-compose.yml, deploy/compose/prometheus.yml,
deploy/compose/initdb.sql, deploy/prometheus/prometheus.yml and the EXPOSE line of
deploy/docker/Dockerfile (the rest of the Dockerfile is written by hand). Every render
function takes the services, so the tests can render a registry with one service more;
tests/unit/deploy/test_deploy_files.py fails when a committed file differs from what the registry
makes now.
"""

import json
import re
from pathlib import Path

from services.registry import CONFIG_FILE, SERVICES, by_name

ROOT = Path(__file__).resolve().parents[1]
IDENTITY = "identity"  # holds the accounts (the first administrator) and the token signing key
FILES_MOUNT = "/var/lib/wenming"  # WENMING_DATA_DIR of a service that keeps files, on a volume of its own


def header(comment):
    """The first lines of every generated file, behind the file type's comment marker."""
    return (
        f"{comment} Generated from services/registry.py by `python -m deploy.render`"
        f" (make deploy-files):\n{comment} edit the registry or deploy/render.py, not this file.\n"
    )


def postgres_url(service):
    return f"postgresql+pg8000://wenming:wenming@postgres:5432/wenming_{service.name}"


def compose_service(service, started_before):
    """One service's block: the services before it in start order must be healthy first."""
    lines = [
        f"  {service.name}:",
        "    <<: *wenming",
        f"    command: {json.dumps(['python', '-m', *service.module_args])}",  # a JSON list is YAML too
        "    environment:",
        "      <<: *environment",
        f"      SERVICE_NAME: {service.name}",
    ]
    if service.has_database:
        lines.append(f"      DATABASE_URL: {postgres_url(service)}")
    lines.append(f'      METRICS_PORT: "{service.metrics_port}"')
    if service.http_port:
        lines.append(f"      WEB_SERVER_ADDRESS: 0.0.0.0:{service.http_port}")
    for name in service.secrets:  # the operator's own keys: no default, compose stops without them
        lines.append(f"      {name}: ${{{name}:?set {name} (docs/operations.md, keys)}}")
    if service.keeps_files:
        lines.append(f"      WENMING_DATA_DIR: {FILES_MOUNT}")
    if service.name == IDENTITY:
        lines.append("      IDENTITY_SIGNING_KEY_FILE: /run/secrets/identity_signing_key")
        lines += ["    secrets:", "      - identity_signing_key"]
    if service.http_port:
        lines += ["    ports:", f'      - "{service.http_port}:{service.http_port}"']
    if service.keeps_files:  # shared by its replicas, kept across upgrades
        lines += ["    volumes:", f"      - {service.name}-files:{FILES_MOUNT}"]
    lines += [
        "    healthcheck: *ready",
        "    depends_on:",
        "      migrate:",
        "        condition: service_completed_successfully",
        "      rabbitmq:",
        "        condition: service_healthy",
    ]
    for earlier in started_before:
        lines += [f"      {earlier.name}:", "        condition: service_healthy"]
    return "\n".join(lines) + "\n"


def render_compose(services=SERVICES):
    with_database = [service for service in services if service.has_database]
    identity = by_name(IDENTITY, services)
    migrations = "".join(
        f'        python -m {service.migrations} "$${service.database_url_env}" &&\n' for service in with_database
    )
    database_urls = "".join(f"      {service.database_url_env}: {postgres_url(service)}\n" for service in with_database)
    blocks = "\n".join(compose_service(service, services[:index]) for index, service in enumerate(services))
    prometheus_depends_on = "".join(f"      - {service.name}\n" for service in services)
    file_volumes = "".join(f"  {service.name}-files:\n" for service in services if service.keeps_files)
    return (
        header("#")
        + f"""\
#
# Wenming on docker compose: RabbitMQ, PostgreSQL, migrations, the services, Prometheus.
#
#   openssl genpkey -algorithm ed25519 -out identity-signing-key.pem   # once; keep it secret
#   IDENTITY_SIGNING_KEY_FILE=$PWD/identity-signing-key.pem ADMIN_PASSWORD='…' \\
#     docker compose -f deploy/compose/docker-compose.yml up --build
#   docker compose -f deploy/compose/docker-compose.yml up --scale centers=3   # replicas
#
# Every service runs from one image (deploy/docker/Dockerfile) with the one nameko config
# {CONFIG_FILE}; the variables below fill its ${{VAR:default}} values.
name: wenming

x-wenming: &wenming
  image: wenming:latest
  build:
    context: ../..
    dockerfile: deploy/docker/Dockerfile
  restart: unless-stopped

x-environment: &environment
  AMQP_URI: amqp://guest:guest@rabbitmq:5672/

x-ready: &ready  # the chassis' /readyz, on the service's METRICS_PORT
  test:
    - CMD
    - python
    - -c
    - >-
      import os, urllib.request;
      urllib.request.urlopen('http://127.0.0.1:' + os.environ['METRICS_PORT'] + '/readyz', timeout=3)
  interval: 10s
  timeout: 5s
  retries: 6
  start_period: 20s

services:
  rabbitmq:
    image: rabbitmq:3-management
    restart: unless-stopped
    volumes:
      - rabbitmq-data:/var/lib/rabbitmq
    healthcheck:
      test: ["CMD", "rabbitmq-diagnostics", "-q", "ping"]
      interval: 10s
      timeout: 10s
      retries: 12

  postgres:
    image: postgres:15
    restart: unless-stopped
    environment:
      POSTGRES_USER: wenming
      POSTGRES_PASSWORD: wenming
    volumes:
      - ./initdb.sql:/docker-entrypoint-initdb.d/initdb.sql:ro
      - postgres-data:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD", "pg_isready", "-U", "wenming"]
      interval: 5s
      timeout: 5s
      retries: 12

  # One-shot: every schema to the latest revision, then the first administrator (idempotent).
  # The password goes through the environment: a command line is visible to every process.
  migrate:
    <<: *wenming
    restart: "no"
    environment:
      <<: *environment
{database_urls}\
      WENMING_ADMIN_PASSWORD: ${{ADMIN_PASSWORD:?set ADMIN_PASSWORD for the first administrator}}
    command:
      - sh
      - -c
      - >-
{migrations}\
        python -m services.identity.admin create-admin --username admin
        --database-url "$${identity.database_url_env}"
    depends_on:
      postgres:
        condition: service_healthy

{blocks}
  prometheus:
    image: prom/prometheus:v2.53.0
    restart: unless-stopped
    volumes:
      - ./prometheus.yml:/etc/prometheus/prometheus.yml:ro
    ports:
      - "9090:9090"
    depends_on:
{prometheus_depends_on}\

secrets:
  identity_signing_key:  # the Ed25519 private key that signs access tokens (PEM, PKCS#8)
    file: ${{IDENTITY_SIGNING_KEY_FILE:?set IDENTITY_SIGNING_KEY_FILE to the identity signing key (PEM)}}

volumes:
  rabbitmq-data:
  postgres-data:
{file_volumes}\
"""
    )


PROMETHEUS_GLOBAL = """\
global:
  scrape_interval: 15s
  evaluation_interval: 15s

scrape_configs:
"""


def render_compose_prometheus(services=SERVICES):
    jobs = "".join(
        f"""\
  - job_name: {service.name}
    dns_sd_configs:
      - names: ["{service.name}"]
        type: A
        port: {service.metrics_port}
"""
        for service in services
    )
    return (
        header("#")
        + f"""\
# Prometheus scrape config inside docker compose: the services by their container names.
# Replicas (`--scale centers=3`) are found through Docker's DNS.
{PROMETHEUS_GLOBAL}{jobs}"""
    )


def render_local_prometheus(services=SERVICES):
    jobs = "".join(
        f"""\
  - job_name: {service.name}
    static_configs:
      - targets: ["127.0.0.1:{service.metrics_port}"]
"""
        for service in services
    )
    return (
        header("#")
        + f"""\
# Prometheus scrape config for a `make run` on this machine (the registry's metrics ports).
# Inside docker compose the targets are the containers: deploy/compose/prometheus.yml.
{PROMETHEUS_GLOBAL}{jobs}"""
    )


def render_initdb(services=SERVICES):
    databases = "".join(f"CREATE DATABASE wenming_{service.name};\n" for service in services if service.has_database)
    return header("--") + "-- One database per service: no service reads another's tables.\n" + databases


def render_dockerfile(dockerfile, services=SERVICES):
    """`dockerfile` with its EXPOSE line listing every HTTP and metrics port."""
    ports = sorted(
        {service.metrics_port for service in services}
        | {service.http_port for service in services if service.http_port}
    )
    rendered, count = re.subn(r"^EXPOSE .*$", "EXPOSE " + " ".join(map(str, ports)), dockerfile, flags=re.MULTILINE)
    if count != 1:
        raise ValueError(f"the Dockerfile needs exactly one EXPOSE line to render, not {count}")
    return rendered


def rendered_files(services=SERVICES):
    """{path: the text the registry makes for it}."""
    dockerfile = ROOT / "deploy" / "docker" / "Dockerfile"
    return {
        ROOT / "deploy" / "compose" / "docker-compose.yml": render_compose(services),
        ROOT / "deploy" / "compose" / "prometheus.yml": render_compose_prometheus(services),
        ROOT / "deploy" / "compose" / "initdb.sql": render_initdb(services),
        ROOT / "deploy" / "prometheus" / "prometheus.yml": render_local_prometheus(services),
        dockerfile: render_dockerfile(dockerfile.read_text(encoding="utf-8"), services),
    }


def main():
    for path, text in rendered_files().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if text != current:
            path.write_text(text, encoding="utf-8")
        print(f"{'wrote    ' if text != current else 'unchanged'} {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
